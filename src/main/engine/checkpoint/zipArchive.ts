import { inflateRawSync } from 'node:zlib'
import { SdlError } from '../errors'

/**
 * A minimal read-only ZIP reader over an in-memory Buffer: enough for torch.save archives (which
 * store entries uncompressed and use zip64 records) and for archives re-packed by ordinary zip
 * tools (DEFLATE). The central directory is the source of truth for sizes, because torch writes
 * local headers with zero sizes and a data descriptor.
 */

export interface ZipEntry {
  name: string
  /** 0 = STORED, 8 = DEFLATE. */
  method: number
  flags: number
  compressedSize: number
  size: number
  localHeaderOffset: number
}

const SIG_LOCAL = 0x04034b50
const SIG_CENTRAL = 0x02014b50
const SIG_END = 0x06054b50
const SIG_ZIP64_END = 0x06064b50
const SIG_ZIP64_LOCATOR = 0x07064b50
const ZIP64_EXTRA_ID = 0x0001
const END_SIZE = 22
const MAX_COMMENT = 0xffff
const FLAG_ENCRYPTED = 0x1

const DAMAGED_HINT = 'The file is incomplete or damaged; download or copy it again.'

/** True when the bytes start like a ZIP archive (a local file header). */
export function looksLikeZip(buffer: Buffer): boolean {
  return buffer.length >= 4 && buffer.readUInt32LE(0) === SIG_LOCAL
}

export class ZipArchive {
  private constructor(
    private readonly buffer: Buffer,
    private readonly source: string,
    readonly entries: ReadonlyMap<string, ZipEntry>
  ) {}

  /** Reads the central directory; `source` (the file path) names the archive in errors. */
  static open(buffer: Buffer, source: string): ZipArchive {
    const { count, offset, size } = readDirectoryLocation(buffer, source)
    const entries = new Map<string, ZipEntry>()
    let at = offset
    for (let i = 0; i < count; i++) {
      const entry = readCentralHeader(buffer, at, offset + size, source)
      entries.set(entry.name, entry)
      at = entry.next
    }
    return new ZipArchive(buffer, source, entries)
  }

  /** The entry's uncompressed bytes; STORED entries are a view into the archive's buffer. */
  read(name: string): Buffer {
    const entry = this.entries.get(name)
    if (!entry) throw this.error(name, 'is missing')
    if (entry.flags & FLAG_ENCRYPTED) throw this.error(name, 'is encrypted')
    const header = entry.localHeaderOffset
    if (header + 30 > this.buffer.length || this.buffer.readUInt32LE(header) !== SIG_LOCAL) {
      throw this.error(name, 'has no local header where the directory says')
    }
    const start = header + 30 + this.buffer.readUInt16LE(header + 26) + this.buffer.readUInt16LE(header + 28)
    if (start + entry.compressedSize > this.buffer.length) {
      throw this.error(name, 'ends past the end of the file (the file is truncated)')
    }
    const raw = this.buffer.subarray(start, start + entry.compressedSize)
    let data: Buffer
    if (entry.method === 0) data = raw
    else if (entry.method === 8) {
      try {
        data = inflateRawSync(raw)
      } catch (err) {
        throw this.error(name, `cannot be decompressed (${(err as Error).message})`)
      }
    } else throw this.error(name, `uses unsupported compression method ${entry.method}`)
    if (data.length !== entry.size) {
      throw this.error(name, `holds ${data.length} bytes but the directory says ${entry.size}`)
    }
    return data
  }

  private error(name: string, what: string): SdlError {
    return new SdlError(`${this.source}: ZIP entry '${name}' ${what}.`, DAMAGED_HINT)
  }
}

interface DirectoryLocation {
  count: number
  offset: number
  size: number
}

function readDirectoryLocation(buffer: Buffer, source: string): DirectoryLocation {
  const end = findEndRecord(buffer)
  if (end < 0) {
    throw new SdlError(
      `${source} is truncated or damaged: the ZIP end-of-central-directory record is missing.`,
      DAMAGED_HINT
    )
  }
  let location: DirectoryLocation = {
    count: buffer.readUInt16LE(end + 10),
    size: buffer.readUInt32LE(end + 12),
    offset: buffer.readUInt32LE(end + 16)
  }
  // The zip64 locator sits right before the classic end record when the archive has one.
  const locator = end - 20
  if (locator >= 0 && buffer.readUInt32LE(locator) === SIG_ZIP64_LOCATOR) {
    const end64 = safeNumber(buffer.readBigUInt64LE(locator + 8))
    if (end64 + 56 > locator || buffer.readUInt32LE(end64) !== SIG_ZIP64_END) {
      throw new SdlError(`${source} is damaged: its zip64 end record is missing.`, DAMAGED_HINT)
    }
    location = {
      count: safeNumber(buffer.readBigUInt64LE(end64 + 32)),
      size: safeNumber(buffer.readBigUInt64LE(end64 + 40)),
      offset: safeNumber(buffer.readBigUInt64LE(end64 + 48))
    }
  }
  if (location.offset + location.size > end) {
    throw new SdlError(`${source} is damaged: its ZIP central directory lies outside the file.`, DAMAGED_HINT)
  }
  return location
}

/** Scans back from the end, past a possible archive comment, for the end-of-directory record. */
function findEndRecord(buffer: Buffer): number {
  const lowest = Math.max(0, buffer.length - END_SIZE - MAX_COMMENT)
  for (let at = buffer.length - END_SIZE; at >= lowest; at--) {
    if (buffer.readUInt32LE(at) === SIG_END && at + END_SIZE + buffer.readUInt16LE(at + 20) === buffer.length) {
      return at
    }
  }
  return -1
}

function readCentralHeader(buffer: Buffer, at: number, limit: number, source: string): ZipEntry & { next: number } {
  if (at + 46 > limit || buffer.readUInt32LE(at) !== SIG_CENTRAL) {
    throw new SdlError(`${source} is damaged: bad ZIP central directory entry at byte ${at}.`, DAMAGED_HINT)
  }
  const nameLength = buffer.readUInt16LE(at + 28)
  const extraLength = buffer.readUInt16LE(at + 30)
  const commentLength = buffer.readUInt16LE(at + 32)
  const next = at + 46 + nameLength + extraLength + commentLength
  if (next > limit) {
    throw new SdlError(`${source} is damaged: a ZIP central directory entry runs past the directory.`, DAMAGED_HINT)
  }
  const name = buffer.toString('utf8', at + 46, at + 46 + nameLength)
  const entry: ZipEntry = {
    name,
    flags: buffer.readUInt16LE(at + 8),
    method: buffer.readUInt16LE(at + 10),
    compressedSize: buffer.readUInt32LE(at + 20),
    size: buffer.readUInt32LE(at + 24),
    localHeaderOffset: buffer.readUInt32LE(at + 42)
  }
  applyZip64Extra(entry, buffer.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength), source)
  return { ...entry, next }
}

/**
 * Fields too large for 32 bits read 0xFFFFFFFF in the header; their real values follow in the
 * zip64 extra field, in this fixed order, only for the fields that overflowed.
 */
function applyZip64Extra(entry: ZipEntry, extra: Buffer, source: string): void {
  const fields = (['size', 'compressedSize', 'localHeaderOffset'] as const).filter((f) => entry[f] === 0xffffffff)
  if (fields.length === 0) return
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at)
    const length = extra.readUInt16LE(at + 2)
    if (id === ZIP64_EXTRA_ID && length >= fields.length * 8 && at + 4 + length <= extra.length) {
      fields.forEach((field, i) => (entry[field] = safeNumber(extra.readBigUInt64LE(at + 4 + 8 * i))))
      return
    }
    at += 4 + length
  }
  throw new SdlError(`${source}: ZIP entry '${entry.name}' lacks the zip64 sizes it needs.`, DAMAGED_HINT)
}

/** Offsets and sizes beyond 2^53 cannot belong to an in-memory archive; treat them as past the end. */
function safeNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value)
}
