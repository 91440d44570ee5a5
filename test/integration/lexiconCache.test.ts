import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, existsSync, linkSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { loadGloveVectors, type WordVectors } from '../../src/main/engine/lexicon/gloveVectors'
import { Lexicon } from '../../src/main/engine/lexicon/lexicon'
import { forgetLoaded } from '../../src/main/engine/lexicon/loadedVectors'
import { readVectorFile } from '../../src/main/engine/lexicon/vectorFile'
import { MemoryWordVectors } from '../../src/main/engine/lexicon/wordVectors'
import type { PackManifest } from '../../src/main/engine/models/packManifest'
import { tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUILDER = join(ROOT, 'test/helpers/gloveCacheBuilder.ts')
const HEADER_BYTES = 32

const conse: PackManifest = {
  format: 1,
  name: 'conse',
  description: '',
  dim: 100,
  rows: 7,
  layout: 'dk',
  wordSpace: 'glove-6b-100d',
  input: 'rgb01-224-stretch',
  modelFile: 'model.onnx',
  modelSha256: '',
  vocabulary: null,
  origin: 'add',
  source: {},
  createdAt: ''
}

/** The whole cache read the way the lexicon read it before rows were read on demand: every word and vector in memory. */
function inMemory(path: string): MemoryWordVectors {
  const bytes = readFileSync(path)
  const count = bytes.readUInt32LE(8)
  const dim = bytes.readUInt32LE(12)
  const wordsBytes = bytes.readUInt32LE(16)
  const metaBytes = bytes.readUInt32LE(20)
  const vectors = new Float32Array(bytes.buffer.slice(bytes.byteOffset + HEADER_BYTES, bytes.byteOffset + HEADER_BYTES + count * dim * 4))
  const wordEnds = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + HEADER_BYTES + count * dim * 4 + 4 * count, bytes.byteOffset + HEADER_BYTES + count * dim * 4 + 8 * count))
  const words = bytes.subarray(bytes.length - metaBytes - wordsBytes, bytes.length - metaBytes)
  return new MemoryWordVectors(
    Array.from(wordEnds, (end, i) => words.toString('utf8', i === 0 ? 0 : wordEnds[i - 1], end)),
    dim,
    vectors
  )
}

const bits = (row: Float32Array) => Buffer.from(row.buffer, row.byteOffset, row.byteLength)

function runBuilder(dataDir: string): Promise<{ size: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BUILDER, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)) : reject(new Error(`builder exited with ${code}: ${stderr}`))))
  })
}

// One GloVe cache built in beforeAll (seconds on 2 cores); the damage test builds it once more,
// the two-process test twice at once in another data folder.
describe('the GloVe cache, read on demand', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const cachePath = join(dataDir, 'lexicon', 'glove-6b-100d.bin')
  let glove: WordVectors
  let memory: MemoryWordVectors
  beforeAll(async () => {
    glove = await loadGloveVectors(dataDir)
    memory = inMemory(cachePath)
  }, 120_000)
  afterAll(() => tmp.cleanup())

  it('gives every word, index and vector that the whole table in memory gives, bit for bit', () => {
    expect(glove.size).toBe(memory.size)
    for (let i = 0; i < memory.size; i++) {
      const word = memory.word(i)
      if (glove.word(i) !== word || glove.index(word) !== memory.index(word)) throw new Error(`row ${i} ('${word}') differs`)
      if (i % 17 === 0 && !bits(glove.vector(i)).equals(bits(memory.vector(i)))) throw new Error(`the vector of '${word}' differs`)
    }
    for (const absent of ['qwzxv', 'Dog', 'selfie', '']) expect(glove.index(absent)).toBe(memory.index(absent))
  })

  it('gives the lexicon the lookups, completions and suggestions of the table in memory', async () => {
    const lexicon = await Lexicon.open({ dataDir, manifest: conse, vocabulary: null })
    for (const word of ['dog', 'the', 'zebra', 'sunflower', 't-shirt']) {
      const hit = lexicon.lookup(word)
      if (!hit.ok) throw new Error(`'${word}' is unknown`)
      expect(bits(hit.vector).equals(bits(memory.vector(memory.index(word)!))), word).toBe(true)
    }
    // The rule of completion over the in-memory table: the 20,000 most frequent words with a letter that start with the prefix.
    const frequent = Array.from({ length: 20_000 }, (_, i) => memory.word(i)).filter((w) => /\p{L}/u.test(w))
    for (const prefix of ['bea', 'caf', 'zeb', 'x']) expect(lexicon.complete(prefix)).toEqual([...new Set(frequent.filter((w) => w.startsWith(prefix)))].slice(0, 10))
    const unknown = lexicon.lookup('beachhx')
    expect(unknown.ok === false && unknown.suggestions[0]).toBe('beach')
  })

  it('rebuilds a cache whose index is damaged, and removes one with a damaged row when it is read', async () => {
    const digest = () => createHash('sha256').update(readFileSync(cachePath)).digest('hex')
    // In place, a byte at a time, rather than whole copies of the 146 MB file.
    const flip = (path: string, at: number) => {
      const fd = openSync(path, 'r+')
      const byte = Buffer.alloc(1)
      readSync(fd, byte, 0, 1, at)
      byte[0] ^= 1
      writeSync(fd, byte, 0, 1, at)
      closeSync(fd)
    }
    const good = digest()
    flip(cachePath, statSync(cachePath).size - 100) // among the words
    forgetLoaded(cachePath)
    // Rebuilt in a process of its own, as the next start would.
    await runBuilder(dataDir)
    expect(digest()).toBe(good)
    const rebuilt = await loadGloveVectors(dataDir)

    const dog = rebuilt.index('dog')!
    const backup = join(tmp.dir, 'kept.bin')
    linkSync(cachePath, backup)
    flip(cachePath, HEADER_BYTES + dog * 400 + 5)
    forgetLoaded(cachePath)
    const opened = await loadGloveVectors(dataDir)
    // Compared by hand: a failing expect would print the 9 MB index of each.
    expect(opened === rebuilt).toBe(false)
    expect(bits(opened.vector(opened.index('cat')!)).equals(bits(memory.vector(memory.index('cat')!)))).toBe(true)
    let thrown: unknown
    try {
      opened.vector(dog)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(SdlError)
    expect((thrown as SdlError).message).toMatch(/glove-6b-100d\.bin is damaged: the vector of 'dog' does not match its checksum/)
    expect(existsSync(cachePath)).toBe(false)
    flip(backup, HEADER_BYTES + dog * 400 + 5)
    renameSync(backup, cachePath)
    forgetLoaded(cachePath)
  }, 120_000)

  it('comes out whole when two processes build it at once', async () => {
    const shared = join(tmp.dir, 'shared-data')
    const results = await Promise.all([runBuilder(shared), runBuilder(shared)])
    expect(results).toEqual([{ size: memory.size }, { size: memory.size }])
    expect(readdirSync(join(shared, 'lexicon'))).toEqual(['glove-6b-100d.bin'])
    const built = join(shared, 'lexicon', 'glove-6b-100d.bin')
    expect(readFileSync(built).equals(readFileSync(cachePath))).toBe(true)
    expect((await readVectorFile(built)).format).toBe(2)
  }, 240_000)
})
