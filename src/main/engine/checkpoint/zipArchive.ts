import { inflateRawSync } from 'node:zlib'
import { SdlError } from '../errors'
import type { ByteSource } from './byteSource'

/**
 * A minimal read-only ZIP reader that reads entries on demand: enough for torch.save archives
 * (which store entries uncompressed and use zip64 records) and for archives re-packed by ordinary
 * zip tools (DEFLATE). The central directory is the source of truth for sizes, because torch
 * writes local headers with zero sizes and a data descriptor.
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
const LOCATOR_SIZE = 20
const MAX_COMMENT = 0xffff
const FLAG_ENCRYPTED = 0x1

/** A torch checkpoint's directory lists a few entries per tensor; megabytes of it are not a checkpoint. */
const MAX_DIRECTORY_BYTES = 16 * 1024 * 1024

const DAMAGED_HINT = 'The file is incomplete or damaged; download or copy it again.'
/** For sizes no well-formed checkpoint has: a different file, or one made to exhaust memory. */
export const UNEXPECTED_HINT = 'This is not the expected model checkpoint (or it was made to exhaust memory); it was not loaded. Use the original file.'

/** True when the bytes start like a ZIP archive (a local file header). */
export function looksLikeZip(buffer: Buffer): boolean {
  return buffer.length >= 4 && buffer.readUInt32LE(0) === SIG_LOCAL
}

export class ZipArchive {
  private constructor(
    private readonly bytes: ByteSource,
    readonly entries: ReadonlyMap<string, ZipEntry>
  ) {}

  /** Reads the central directory, and nothing else yet. */
  static async open(bytes: ByteSource): Promise<ZipArchive> {
    const { count, offset, size } = await readDirectoryLocation(bytes)
    if (size > MAX_DIRECTORY_BYTES) {
      throw new SdlError(`${bytes.name}: its ZIP central directory takes ${size} bytes, more than the ${MAX_DIRECTORY_BYTES} any model checkpoint needs.`, UNEXPECTED_HINT)
    }
    const directory = await bytes.read(offset, size)
    const entries = new Map<string, ZipEntry>()
    let at = 0
    for (let i = 0; i < count; i++) {
      const entry = readCentralHeader(directory, at, bytes.name)
      entries.set(entry.name, entry)
      at = entry.next
    }
    return new ZipArchive(bytes, entries)
  }

  /**
   * The entry's uncompressed bytes, refused without reading them when it holds more than `limit`:
   * the caller knows how much a well-formed entry can hold, and a DEFLATE bomb is stopped there.
   */
  async read(name: string, limit: number): Promise<Buffer> {
    const entry = this.entries.get(name)
    if (!entry) throw this.error(name, 'is missing')
    if (entry.flags & FLAG_ENCRYPTED) throw this.error(name, 'is encrypted')
    if (entry.size > limit) {
      throw new SdlError(`${this.bytes.name}: ZIP entry '${name}' unpacks to ${entry.size} bytes, more than the ${limit} it can hold in a model checkpoint.`, UNEXPECTED_HINT)
    }
    if (entry.method !== 0 && entry.method !== 8) throw this.error(name, `uses unsupported compression method ${entry.method}`)
    // DEFLATE's worst case (stored blocks) adds 5 bytes per 64 KiB, so a compressed size far above that is a lie.
    if (entry.compressedSize > (entry.method === 0 ? entry.size : entry.size + (entry.size >> 10) + 64)) {
      throw this.error(name, `claims ${entry.compressedSize} compressed bytes for ${entry.size} uncompressed`)
    }
    const header = await this.bytes.read(entry.localHeaderOffset, 30)
    if (header.length < 30 || header.readUInt32LE(0) !== SIG_LOCAL) {
      throw this.error(name, 'has no local header where the directory says')
    }
    const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28)
    if (start + entry.compressedSize > this.bytes.size) {
      throw this.error(name, 'ends past the end of the file (the file is truncated)')
    }
    const raw = await this.bytes.read(start, entry.compressedSize)
    const data = entry.method === 8 ? this.inflate(name, raw, entry.size) : raw
    if (data.length !== entry.size) {
      throw this.error(name, `holds ${data.length} bytes but the directory says ${entry.size}`)
    }
    return data
  }

  private inflate(name: string, raw: Buffer, size: number): Buffer {
    try {
      // The limit stops inflating as soon as the output outgrows what the directory promised.
      return inflateRawSync(raw, { maxOutputLength: Math.max(1, size) })
    } catch (err) {
      throw this.error(
        name,
        (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
          ? `unpacks to more than the ${size} bytes its directory says`
          : `cannot be decompressed (${(err as Error).message})`
      )
    }
  }

  private error(name: string, what: string): SdlError {
    return new SdlError(`${this.bytes.name}: ZIP entry '${name}' ${what}.`, DAMAGED_HINT)
  }
}

interface DirectoryLocation {
  count: number
  offset: number
  size: number
}

async function readDirectoryLocation(bytes: ByteSource): Promise<DirectoryLocation> {
  const source = bytes.name
  // The end record sits in the last 22 bytes plus a comment of up to 64 KiB, the zip64 locator right before it.
  const tailStart = Math.max(0, bytes.size - END_SIZE - MAX_COMMENT - LOCATOR_SIZE)
  const tail = await bytes.read(tailStart, bytes.size - tailStart)
  const end = findEndRecord(tail)
  if (end < 0) {
    throw new SdlError(`${source} is truncated or damaged: the ZIP end-of-central-directory record is missing.`, DAMAGED_HINT)
  }
  let location: DirectoryLocation = {
    count: tail.readUInt16LE(end + 10),
    size: tail.readUInt32LE(end + 12),
    offset: tail.readUInt32LE(end + 16)
  }
  const locator = end - LOCATOR_SIZE
  if (locator >= 0 && tail.readUInt32LE(locator) === SIG_ZIP64_LOCATOR) {
    const end64 = safeNumber(tail.readBigUInt64LE(locator + 8))
    const record = end64 + 56 <= tailStart + locator ? await bytes.read(end64, 56) : Buffer.alloc(0)
    if (record.length < 56 || record.readUInt32LE(0) !== SIG_ZIP64_END) {
      throw new SdlError(`${source} is damaged: its zip64 end record is missing.`, DAMAGED_HINT)
    }
    location = {
      count: safeNumber(record.readBigUInt64LE(32)),
      size: safeNumber(record.readBigUInt64LE(40)),
      offset: safeNumber(record.readBigUInt64LE(48))
    }
  }
  if (location.offset + location.size > tailStart + end) {
    throw new SdlError(`${source} is damaged: its ZIP central directory lies outside the file.`, DAMAGED_HINT)
  }
  return location
}

/** Scans back from the end, past a possible archive comment, for the end-of-directory record. */
function findEndRecord(tail: Buffer): number {
  const lowest = Math.max(0, tail.length - END_SIZE - MAX_COMMENT)
  for (let at = tail.length - END_SIZE; at >= lowest; at--) {
    if (tail.readUInt32LE(at) === SIG_END && at + END_SIZE + tail.readUInt16LE(at + 20) === tail.length) {
      return at
    }
  }
  return -1
}

/** Reads the entry at byte `at` of `buffer`, the whole central directory. */
function readCentralHeader(buffer: Buffer, at: number, source: string): ZipEntry & { next: number } {
  if (at + 46 > buffer.length || buffer.readUInt32LE(at) !== SIG_CENTRAL) {
    throw new SdlError(`${source} is damaged: bad ZIP central directory entry at byte ${at}.`, DAMAGED_HINT)
  }
  const nameLength = buffer.readUInt16LE(at + 28)
  const extraLength = buffer.readUInt16LE(at + 30)
  const commentLength = buffer.readUInt16LE(at + 32)
  const next = at + 46 + nameLength + extraLength + commentLength
  if (next > buffer.length) {
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
  for (let at = 0; at + 4 <= extra.length;) {
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

/** Offsets and sizes beyond 2^53 cannot belong to any file; treat them as past the end. */
function safeNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value)
}
