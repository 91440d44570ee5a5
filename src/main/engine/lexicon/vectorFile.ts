import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { WordVectors } from './wordVectors'
import { isProcessAlive } from '../processAlive'

/**
 * The lexicon's binary word-vector file (`<dataDir>/lexicon/<wordSpace>.bin`), which loads in a
 * fraction of a second where the text formats it is made from take seconds to minutes to parse:
 *
 *   0   'SDLWVEC1'
 *   8   uint32 count, uint32 dim, uint32 wordsBytes, uint32 metaBytes   (little-endian)
 *   24  8 reserved zero bytes
 *   32  float32 LE [count][dim], every row unit length
 *   ..  the words, UTF-8, separated by '\n' (wordsBytes)
 *   ..  JSON metadata (metaBytes), e.g. where the vectors came from
 *
 * Vectors come before words so a writer can stream them out as it parses; only the words are held
 * until the end.
 */
const MAGIC = 'SDLWVEC1'
const HEADER_BYTES = 32
/** Reads of the vector table go in pieces: one read call cannot return more than 2 GB. */
const READ_PIECE = 1 << 30

export interface VectorFileMeta {
  /** What the vectors were made from, so a cache can tell when it is stale. */
  source: string
}

export class VectorFileWriter {
  private readonly words: string[] = []
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
    this.queue.push(Buffer.from(this.staged.buffer, 0, this.stagedRows * this.dim * 4))
    const words = Buffer.from(this.words.join('\n'), 'utf8')
    const meta = Buffer.from(JSON.stringify(this.meta), 'utf8')
    this.queue.push(words, meta)
    await this.flush()
    const header = Buffer.alloc(HEADER_BYTES)
    header.write(MAGIC, 0, 'latin1')
    header.writeUInt32LE(this.words.length, 8)
    header.writeUInt32LE(this.dim, 12)
    header.writeUInt32LE(words.length, 16)
    header.writeUInt32LE(meta.length, 20)
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

export async function readVectorFile(path: string): Promise<{ vectors: WordVectors; meta: VectorFileMeta }> {
  const handle = await open(path, 'r')
  try {
    const header = Buffer.alloc(HEADER_BYTES)
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0)
    if (bytesRead < HEADER_BYTES || header.toString('latin1', 0, 8) !== MAGIC) throw new DamagedVectorFileError(`${path} is not a word-vector file`)
    const count = header.readUInt32LE(8)
    const dim = header.readUInt32LE(12)
    const wordsBytes = header.readUInt32LE(16)
    const metaBytes = header.readUInt32LE(20)
    const vectorBytes = count * dim * 4
    const expected = HEADER_BYTES + vectorBytes + wordsBytes + metaBytes
    const { size } = await handle.stat()
    if (size !== expected) throw new DamagedVectorFileError(`${path} is damaged: ${size} bytes where its header promises ${expected}`)

    const data = new Float32Array(count * dim)
    const bytes = new Uint8Array(data.buffer)
    for (let done = 0; done < vectorBytes;) {
      const { bytesRead: got } = await handle.read(bytes, done, Math.min(READ_PIECE, vectorBytes - done), HEADER_BYTES + done)
      if (got === 0) throw new DamagedVectorFileError(`${path} ended while reading`)
      done += got
    }
    const tail = Buffer.alloc(wordsBytes + metaBytes)
    await handle.read(tail, 0, tail.length, HEADER_BYTES + vectorBytes)
    const words = count === 0 ? [] : tail.toString('utf8', 0, wordsBytes).split('\n')
    if (words.length !== count) throw new DamagedVectorFileError(`${path} is damaged: ${words.length} words for ${count} vectors`)
    return { vectors: new WordVectors(words, dim, data), meta: parseMeta(path, tail.toString('utf8', wordsBytes)) }
  } finally {
    await handle.close()
  }
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
