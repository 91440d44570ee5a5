import { randomBytes } from 'node:crypto'
import { close, fstat, open as openFd, read } from 'node:fs'
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { crc32 } from 'node:zlib'
import { FileWordVectors } from './fileWordVectors'
import { buildSlots } from './wordIndex'
import { MemoryWordVectors, type WordVectors } from './wordVectors'
import { isProcessAlive } from '../processAlive'

/**
 * The lexicon's binary word-vector file (`<dataDir>/lexicon/<wordSpace>.bin`), which opens in
 * milliseconds where the text formats it is made from take seconds to minutes to parse. Numbers
 * are little-endian (the byte order of every platform the app runs on):
 *
 *   0   'SDLWVEC2'
 *   8   uint32 count, dim, wordsBytes, metaBytes, slotCount, indexChecksum
 *   32  float32 [count][dim], every row unit length
 *   ..  the index: uint32 [count] CRC-32 of each row's bytes
 *                  uint32 [count] where each word ends in the words
 *                  int32 [slotCount] the words' hash table (wordIndex.ts)
 *                  the words, UTF-8, back to back (wordsBytes)
 *                  JSON metadata (metaBytes), e.g. where the vectors came from
 *
 * indexChecksum is the CRC-32 of the whole index. Opening reads the header and the index only
 * (FileWordVectors); each row is checked when it is read. Vectors come before the index so a
 * writer can stream them out as it parses; only the words are held until the end.
 *
 * Files of the first format ('SDLWVEC1': the vectors, then the words separated by '\n', then the
 * metadata, with no checksums) are still read, whole, as imports made by earlier versions are.
 */
const MAGIC = 'SDLWVEC2'
const LEGACY_MAGIC = 'SDLWVEC1'
const HEADER_BYTES = 32
const READ_PIECE = 1 << 30

const openAsync = promisify(openFd)
const readAsync = promisify(read)
const fstatAsync = promisify(fstat)
const closeAsync = promisify(close)

export interface VectorFileMeta {
  /** What the vectors were made from, so a cache can tell when it is stale. */
  source: string
}

export class VectorFileWriter {
  private readonly words: string[] = []
  private readonly rowChecksums: number[] = []
  private readonly tmp: string
  private handle: FileHandle | null = null
  private staged: Float32Array
  private stagedRows = 0
  private position = HEADER_BYTES
  private readonly queue: Buffer[] = []

  /** Rows are staged in blocks of about 1 MB before they are written. */
  constructor(
    readonly path: string,
    readonly dim: number,
    private readonly meta: VectorFileMeta
  ) {
    this.tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    this.staged = new Float32Array(Math.max(1, Math.floor(262144 / dim)) * dim)
  }

  get count(): number {
    return this.words.length
  }

  /**
   * Stages `values` (its first `dim` numbers) normalised to unit length. Returns false, storing
   * nothing, for a vector that cannot be normalised (all zero, or not finite) or a word that the
   * file cannot hold (empty, or containing a newline).
   */
  add(word: string, values: ArrayLike<number>): boolean {
    const dim = this.dim
    let sum = 0
    for (let d = 0; d < dim; d++) sum += values[d] * values[d]
    if (!(sum > 0) || !Number.isFinite(sum) || word.length === 0 || word.includes('\n')) return false
    const scale = 1 / Math.sqrt(sum)
    const base = this.stagedRows * dim
    for (let d = 0; d < dim; d++) this.staged[base + d] = values[d] * scale
    this.rowChecksums.push(crc32(new Uint8Array(this.staged.buffer, base * 4, dim * 4)))
    this.words.push(word)
    if (++this.stagedRows * dim === this.staged.length) {
      this.queue.push(Buffer.from(this.staged.buffer))
      this.staged = new Float32Array(this.staged.length)
      this.stagedRows = 0
    }
    return true
  }

  /** Writes out full blocks; call it between input chunks so the queue stays small. */
  async flush(): Promise<void> {
    const handle = await this.open()
    while (this.queue.length > 0) {
      const block = this.queue.shift()!
      await handle.write(block, 0, block.length, this.position)
      this.position += block.length
    }
  }

  /** Writes everything, then moves the file into place in one rename (replacing any older one). */
  async finish(): Promise<void> {
    const count = this.words.length
    this.queue.push(Buffer.from(this.staged.buffer, 0, this.stagedRows * this.dim * 4))
    const encoded = this.words.map((word) => Buffer.from(word, 'utf8'))
    const wordEnds = new Uint32Array(count)
    let end = 0
    encoded.forEach((bytes, i) => (wordEnds[i] = end += bytes.length))
    const slots = buildSlots(count, (i) => this.words[i])
    const words = Buffer.concat(encoded)
    const meta = Buffer.from(JSON.stringify(this.meta), 'utf8')
    const index = [bytesOf(Uint32Array.from(this.rowChecksums)), bytesOf(wordEnds), bytesOf(slots), words, meta]
    this.queue.push(...index)
    await this.flush()
    const header = Buffer.alloc(HEADER_BYTES)
    header.write(MAGIC, 0, 'latin1')
    header.writeUInt32LE(count, 8)
    header.writeUInt32LE(this.dim, 12)
    header.writeUInt32LE(words.length, 16)
    header.writeUInt32LE(meta.length, 20)
    header.writeUInt32LE(slots.length, 24)
    header.writeUInt32LE(
      index.reduce((crc, part) => crc32(part, crc), 0),
      28
    )
    const handle = this.handle!
    await handle.write(header, 0, HEADER_BYTES, 0)
    // On disk before the rename, so a crash cannot leave a complete-looking but empty file.
    await handle.datasync()
    await handle.close()
    this.handle = null
    await rename(this.tmp, this.path)
  }

  /** Discards the temporary file after a failure. */
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined)
    this.handle = null
    await rm(this.tmp, { force: true })
  }

  private async open(): Promise<FileHandle> {
    if (!this.handle) {
      await mkdir(dirname(this.path), { recursive: true })
      await sweepAbandoned(this.path)
      this.handle = await open(this.tmp, 'w')
    }
    return this.handle
  }
}

/**
 * Removes temporary files of `path` left by writers that were killed (a GloVe one is 140 MB).
 * They carry their process id, so a write in progress in another process is left alone.
 */
async function sweepAbandoned(path: string): Promise<void> {
  const prefix = `${basename(path)}.`
  for (const entry of await readdir(dirname(path))) {
    const pid = entry.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(entry.slice(prefix.length))?.[1] : undefined
    if (pid && !isProcessAlive(Number(pid))) await rm(join(dirname(path), entry), { force: true })
  }
}

/** Thrown for a file that is not a complete vector file (callers may rebuild it). */
export class DamagedVectorFileError extends Error {}

export interface OpenedVectorFile {
  vectors: WordVectors
  meta: VectorFileMeta
  /** 1 for a file of the first format, read whole; 2 for one whose rows are read as needed. */
  format: 1 | 2
}

/**
 * Opens a vector file after checking its header, its size and its index's checksum. The file
 * stays open for the rows read later, which `damaged` turns into the error thrown for one that
 * fails its checksum (DamagedVectorFileError unless given).
 */
export async function readVectorFile(path: string, opts: { damaged?: (message: string) => Error } = {}): Promise<OpenedVectorFile> {
  const fd = await openAsync(path, 'r')
  let keep = false
  try {
    const header = Buffer.alloc(HEADER_BYTES)
    const bytesRead = await readFully(fd, header, 0)
    const magic = header.toString('latin1', 0, 8)
    if (bytesRead < HEADER_BYTES || (magic !== MAGIC && magic !== LEGACY_MAGIC)) throw new DamagedVectorFileError(`${path} is not a word-vector file`)
    const count = header.readUInt32LE(8)
    const dim = header.readUInt32LE(12)
    const wordsBytes = header.readUInt32LE(16)
    const metaBytes = header.readUInt32LE(20)
    const vectorBytes = count * dim * 4
    const { size } = await fstatAsync(fd)
    if (magic === LEGACY_MAGIC) return await readLegacy(path, fd, size, { count, dim, wordsBytes, metaBytes })

    const slotCount = header.readUInt32LE(24)
    // A table that is not a power of two, or is full, would send lookups round for ever.
    if (slotCount & (slotCount - 1) || slotCount <= count) throw new DamagedVectorFileError(`${path} is damaged: a hash table of ${slotCount} slots for ${count} words`)
    const indexBytes = 8 * count + 4 * slotCount + wordsBytes + metaBytes
    const expected = HEADER_BYTES + vectorBytes + indexBytes
    if (size !== expected) throw new DamagedVectorFileError(`${path} is damaged: ${size} bytes where its header promises ${expected}`)
    const index = Buffer.allocUnsafeSlow(indexBytes)
    if ((await readFully(fd, index, HEADER_BYTES + vectorBytes)) < indexBytes) throw new DamagedVectorFileError(`${path} ended while reading`)
    if (crc32(index) !== header.readUInt32LE(28)) throw new DamagedVectorFileError(`${path} is damaged: its index does not match its checksum`)
    const rowChecksums = new Uint32Array(index.buffer, 0, count)
    const wordEnds = new Uint32Array(index.buffer, 4 * count, count)
    const slots = new Int32Array(index.buffer, 8 * count, slotCount)
    const words = index.subarray(8 * count + 4 * slotCount, 8 * count + 4 * slotCount + wordsBytes)
    const meta = parseMeta(path, index.toString('utf8', index.length - metaBytes))
    const rows = { path, fd, offset: HEADER_BYTES, damaged: opts.damaged ?? ((message: string) => new DamagedVectorFileError(message)) }
    const vectors = new FileWordVectors(rows, count, dim, rowChecksums, wordEnds, slots, words)
    keep = true
    return { vectors, meta, format: 2 }
  } finally {
    if (!keep) await closeAsync(fd)
  }
}

/** A file of the first format, read whole. */
async function readLegacy(path: string, fd: number, size: number, header: { count: number; dim: number; wordsBytes: number; metaBytes: number }): Promise<OpenedVectorFile> {
  const { count, dim, wordsBytes, metaBytes } = header
  const vectorBytes = count * dim * 4
  const expected = HEADER_BYTES + vectorBytes + wordsBytes + metaBytes
  if (size !== expected) throw new DamagedVectorFileError(`${path} is damaged: ${size} bytes where its header promises ${expected}`)
  const data = new Float32Array(count * dim)
  if ((await readFully(fd, new Uint8Array(data.buffer), HEADER_BYTES)) < vectorBytes) throw new DamagedVectorFileError(`${path} ended while reading`)
  const tail = Buffer.alloc(wordsBytes + metaBytes)
  await readFully(fd, tail, HEADER_BYTES + vectorBytes)
  const words = count === 0 ? [] : tail.toString('utf8', 0, wordsBytes).split('\n')
  if (words.length !== count) throw new DamagedVectorFileError(`${path} is damaged: ${words.length} words for ${count} vectors`)
  return { vectors: new MemoryWordVectors(words, dim, data), meta: parseMeta(path, tail.toString('utf8', wordsBytes)), format: 1 }
}

/** Fills `target` from `position` on, in pieces (one read call cannot return more than 2 GB); returns the bytes read, fewer at the end of the file. */
async function readFully(fd: number, target: Uint8Array, position: number): Promise<number> {
  let done = 0
  while (done < target.length) {
    const { bytesRead } = await readAsync(fd, target, done, Math.min(READ_PIECE, target.length - done), position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

function bytesOf(array: Uint32Array | Int32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength)
}

function parseMeta(path: string, text: string): VectorFileMeta {
  try {
    return JSON.parse(text) as VectorFileMeta
  } catch {
    throw new DamagedVectorFileError(`${path} is damaged: unreadable metadata`)
  }
}

const WORD_SPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i

/** Where the vector file of a word space lives; the name must be safe as a file name. */
export function vectorFilePath(dataDir: string, wordSpace: string): string {
  if (!WORD_SPACE_PATTERN.test(wordSpace)) throw new Error(`'${wordSpace}' is not a valid word-space name`)
  return join(dataDir, 'lexicon', `${wordSpace}.bin`)
}
