import { createReadStream } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createInflate } from 'node:zlib'

/**
 * The most metadata (chunk bytes, compressed text counted as inflated) ExifTool may be given
 * from one PNG. ExifTool reads every chunk but image data whole and inflates every compressed
 * one without a limit, and its perl process peaks at over twice the inflated size (docs/benchmarks.md):
 * one small photo with a hugely compressible text chunk could exhaust the machine's memory.
 */
export const PNG_METADATA_LIMIT = 64 << 20

const SIGNATURES = ['\x89PNG\r\n\x1a\n', '\x8aMNG\r\n\x1a\n', '\x8bJNG\r\n\x1a\n'].map((s) => Buffer.from(s, 'latin1'))
/** Skipped by ExifTool with a seek, never read. */
const IMAGE_DATA = new Set(['IDAT', 'JDAT', 'JDAA'])
/** Keyword, language and translated keyword of an iTXt chunk must end within this many bytes. */
const TEXT_HEADER_BYTES = 4096
const BLOCK_BYTES = 1 << 16

/**
 * Why a PNG (or MNG, JNG) must not be read by ExifTool, or null for any other file and for a PNG
 * whose metadata stays within PNG_METADATA_LIMIT. Only chunk headers are read, plus the
 * compressed chunks, which are inflated as a stream and counted, never held.
 */
export async function pngMetadataProblem(path: string): Promise<string | null> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch {
    // Unreadable: ExifTool says why.
    return null
  }
  try {
    // Eight bytes are all any other file costs.
    const signature = Buffer.alloc(8)
    await handle.read(signature, 0, 8, 0)
    if (!SIGNATURES.some((s) => s.equals(signature))) return null
    const reader = new BlockReader(handle)
    let total = 0
    // ExifTool goes on past IEND (as a trailer) until the file or a valid chunk header ends.
    for (let position = 8; ;) {
      const header = await reader.bytes(position, 8)
      if (header.length < 8) return null
      const length = header.readUInt32BE(0)
      if (length > 0x7fffffff) return null
      const type = header.toString('latin1', 4, 8)
      const start = position + 8
      position = start + length + 4
      if (IMAGE_DATA.has(type)) continue
      total += length
      if (total > PNG_METADATA_LIMIT) return tooMuch(type, '')
      const compressed = await compressedPart(reader, type, start, length)
      if (!compressed) continue
      if ('reason' in compressed) return `not read: its ${type} chunk ${compressed.reason}`
      total += await inflatedBytes(path, compressed.start, start + length, PNG_METADATA_LIMIT - total)
      if (total > PNG_METADATA_LIMIT) return tooMuch(type, compressed.name)
    }
  } catch {
    // A folder, an I/O error: ExifTool says what is wrong with it.
    return null
  } finally {
    await handle.close()
  }
}

function tooMuch(type: string, name: string): string {
  const chunk = `${type} chunk${name ? ` '${name}'` : ''}`
  return `not read: its metadata comes to more than ${PNG_METADATA_LIMIT >> 20} MB once inflated (reached at its ${chunk}), more than ExifTool may hold in memory for one file`
}

/** Where the deflate stream of a chunk ExifTool inflates begins, and the keyword naming it. */
async function compressedPart(reader: BlockReader, type: string, start: number, length: number): Promise<{ start: number; name: string } | { reason: string } | null> {
  const head = await reader.bytes(start, Math.min(length, TEXT_HEADER_BYTES))
  const nameEnd = head.indexOf(0)
  const name = nameEnd < 0 ? '' : head.toString('latin1', 0, nameEnd)
  if (type === 'zTXt' || type === 'iCCP') {
    // keyword, 0, method (0: deflate), data
    return nameEnd >= 0 && head[nameEnd + 1] === 0 ? { start: start + nameEnd + 2, name } : null
  }
  if (type === 'iTXt') {
    // keyword, 0, compressed flag, method, language, 0, translated keyword, 0, text
    if (nameEnd < 0 || !head[nameEnd + 1] || head[nameEnd + 2] !== 0) return null
    const langEnd = head.indexOf(0, nameEnd + 3)
    const translatedEnd = langEnd < 0 ? -1 : head.indexOf(0, langEnd + 1)
    // ExifTool finds the text however long the header is; one this long is no real one.
    if (translatedEnd < 0) return head.length < length ? { reason: `'${name}' has a header over ${TEXT_HEADER_BYTES} bytes long` } : null
    return { start: start + translatedEnd + 1, name }
  }
  const lower = type.toLowerCase()
  if (lower === 'exif' || lower === 'zxif') {
    // A leading 0 marks compressed EXIF: 0, uint32 size, deflate data (after an optional "Exif\0\0").
    const skip = head.toString('latin1', 0, 6) === 'Exif\0\0' ? 6 : 0
    return head.length > skip && head[skip] === 0 ? { start: start + skip + 5, name: '' } : null
  }
  return null
}

/** Bytes the deflate stream in [start, end) inflates to, counting no further than just past `limit`. */
async function inflatedBytes(path: string, start: number, end: number, limit: number): Promise<number> {
  if (end <= start) return 0
  let count = 0
  const enough = new Error('over the limit')
  try {
    await pipeline(createReadStream(path, { start, end: end - 1 }), createInflate(), async (inflated: AsyncIterable<Buffer>) => {
      for await (const piece of inflated) {
        count += piece.length
        if (count > limit) throw enough
      }
    })
  } catch {
    // Corrupt or cut short: ExifTool gives up on it too, after inflating as much as was counted.
  }
  return count
}

/** Reads of small pieces of a file served from 64 KB blocks: chunk headers are a few bytes apart. */
class BlockReader {
  private block = Buffer.alloc(0)
  private blockStart = 0

  constructor(private readonly handle: FileHandle) {}

  async bytes(position: number, length: number): Promise<Buffer> {
    if (position < this.blockStart || position + length > this.blockStart + this.block.length) {
      const buffer = Buffer.alloc(Math.max(length, BLOCK_BYTES))
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position)
      this.block = buffer.subarray(0, bytesRead)
      this.blockStart = position
    }
    const offset = position - this.blockStart
    return this.block.subarray(offset, offset + length)
  }
}
