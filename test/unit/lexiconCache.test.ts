import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DamagedVectorFileError, readVectorFile, VectorFileWriter } from '../../src/main/engine/lexicon/vectorFile'
import { MemoryWordVectors } from '../../src/main/engine/lexicon/wordVectors'
import { prng } from '../helpers/prng'
import { tempDir } from '../helpers/sharedData'

const DIM = 5
const HEADER_BYTES = 32

/** Words as a vocabulary has them: non-ASCII ones, and one listed twice (the first entry counts). */
function fixture(count: number): Array<{ word: string; values: number[] }> {
  const random = prng(7)
  const words = Array.from({ length: count }, (_, i) => (i % 50 === 3 ? `café${i}` : i % 97 === 5 ? `日本${i}` : `w${i}`))
  words[count - 1] = words[10]
  return words.map((word) => ({ word, values: Array.from({ length: DIM }, () => random() - 0.5) }))
}

/** The row the writer must store: each value times 1/|v|, rounded to float32 once. */
function unitRow(values: number[]): Float32Array {
  const scale = 1 / Math.sqrt(values.reduce((s, v) => s + v * v, 0))
  return Float32Array.from(values, (v) => v * scale)
}

/** The bits of a row, so that equal means identical. */
const bits = (row: Float32Array) => [...new Uint32Array(row.buffer, row.byteOffset, row.length)]

async function write(path: string, entries: Array<{ word: string; values: number[] }>): Promise<void> {
  const writer = new VectorFileWriter(path, DIM, { source: 'fixture' })
  for (const { word, values } of entries) writer.add(word, values)
  await writer.finish()
}

/** A file of the first format, as earlier versions wrote imports: vectors, words joined by '\n', metadata. */
function writeLegacy(path: string, entries: Array<{ word: string; values: number[] }>): void {
  const vectors = new Float32Array(entries.length * DIM)
  entries.forEach(({ values }, i) => vectors.set(unitRow(values), i * DIM))
  const words = Buffer.from(entries.map((e) => e.word).join('\n'))
  const meta = Buffer.from(JSON.stringify({ source: 'legacy' }))
  const header = Buffer.alloc(HEADER_BYTES)
  header.write('SDLWVEC1', 0, 'latin1')
  header.writeUInt32LE(entries.length, 8)
  header.writeUInt32LE(DIM, 12)
  header.writeUInt32LE(words.length, 16)
  header.writeUInt32LE(meta.length, 20)
  writeFileSync(path, Buffer.concat([header, Buffer.from(vectors.buffer), words, meta]))
}

describe('the word-vector cache file', () => {
  let tmp: ReturnType<typeof tempDir>
  let path: string
  const entries = fixture(3000)
  beforeEach(async () => {
    tmp = tempDir()
    path = join(tmp.dir, 'v.bin')
    await write(path, entries)
  })
  afterEach(() => tmp.cleanup())

  it('reads rows on demand that are identical to the table held in memory', async () => {
    const { vectors, meta, format } = await readVectorFile(path)
    expect({ meta, format, size: vectors.size, dim: vectors.dim }).toEqual({ meta: { source: 'fixture' }, format: 2, size: entries.length, dim: DIM })
    const memory = new MemoryWordVectors(
      entries.map((e) => e.word),
      DIM,
      Float32Array.from(entries.flatMap((e) => [...unitRow(e.values)]))
    )
    for (let i = 0; i < entries.length; i++) {
      expect(vectors.word(i)).toBe(entries[i].word)
      expect(vectors.index(entries[i].word)).toBe(memory.index(entries[i].word))
      expect(bits(vectors.vector(i))).toEqual(bits(memory.vector(i)))
    }
    expect(vectors.index(entries.at(-1)!.word)).toBe(10)
    for (const absent of ['', 'w3000', 'café', 'W1', 'w1 ']) expect(vectors.index(absent)).toBeUndefined()
  })

  it('refuses a file whose header, size or index does not check out', async () => {
    const good = readFileSync(path)
    const indexAt = HEADER_BYTES + entries.length * DIM * 4
    const damaged = (edit: (bytes: Buffer) => Buffer) => {
      writeFileSync(path, edit(Buffer.from(good)))
      return readVectorFile(path)
    }
    await expect(damaged((b) => b.subarray(0, b.length - 1))).rejects.toThrow(/damaged: .* bytes where its header promises/)
    await expect(damaged((b) => Buffer.concat([b, Buffer.alloc(1)]))).rejects.toThrow(/damaged: .* bytes where its header promises/)
    await expect(
      damaged((b) => {
        b[indexAt + 3 * 4 * entries.length] ^= 1 // a hash slot
        return b
      })
    ).rejects.toThrow(/its index does not match its checksum/)
    await expect(
      damaged((b) => {
        b[b.length - 2] ^= 0x20 // the metadata
        return b
      })
    ).rejects.toThrow(DamagedVectorFileError)
    await expect(
      damaged((b) => {
        b.writeUInt32LE(3000, 24) // a hash table that is not a power of two
        return b
      })
    ).rejects.toThrow(/hash table of 3000 slots/)
    await expect(damaged((b) => b.subarray(0, 20))).rejects.toThrow(/not a word-vector file/)
  })

  it('refuses a row that does not match its checksum, through the error the opener chose', async () => {
    const bytes = readFileSync(path)
    bytes[HEADER_BYTES + 7 * DIM * 4 + 2] ^= 1
    writeFileSync(path, bytes)
    const { vectors } = await readVectorFile(path, { damaged: (message) => new Error(`custom: ${message}`) })
    expect(bits(vectors.vector(6))).toEqual(bits(unitRow(entries[6].values)))
    expect(() => vectors.vector(7)).toThrow(/^custom: .*v\.bin is damaged: the vector of 'w7' does not match its checksum/)
    const plain = (await readVectorFile(path)).vectors
    expect(() => plain.vector(7)).toThrow(DamagedVectorFileError)
  })

  it('still reads, whole, a file of the first format', async () => {
    writeLegacy(path, entries)
    const { vectors, meta, format } = await readVectorFile(path)
    expect({ meta, format, size: vectors.size }).toEqual({ meta: { source: 'legacy' }, format: 1, size: entries.length })
    for (const i of [0, 3, 10, 1234, entries.length - 1]) {
      expect(vectors.index(entries[i].word)).toBe(i === entries.length - 1 ? 10 : i)
      expect(bits(vectors.vector(i))).toEqual(bits(unitRow(entries[i].values)))
    }
  })
})
