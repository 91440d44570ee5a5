import { createHash, type Hash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Marks a camera RAW's sampled fingerprint (rawFingerprint). A RAW recorded before it, by an
 * earlier release, holds the SHA-256 of its whole file, like every other photo.
 */
export const RAW_FINGERPRINT_PREFIX = 'raw1:'

/** How much of each end of a camera RAW its fingerprint reads. */
const RAW_END = 1 << 20

/**
 * SHA-256 of the content. Synchronous on purpose: OpenSSL's SHA extensions hash a camera photo in
 * a fraction of the CPU time that WebCrypto's asynchronous digest takes for the same file.
 */
export function contentFingerprint(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * A camera RAW's fingerprint: SHA-256 over its size, its first MiB and its last MiB (the whole
 * file when it is under 2 MiB), as digiKam's uniqueHash samples a file's ends. ExifTool reads the
 * preview the photo is seen by from the file itself, so reading and hashing all 25-60 MB of
 * a RAW was most of what a RAW cost beyond a JPEG of the same preview. Two distinct RAWs of the
 * same size and the same two ends are practically impossible (the header holds the capture time,
 * the camera and its preview sits near the start), and a fingerprint only ever lets a file take
 * a record whose own file is gone (Indexer.process's claim), never one still on disk. The known
 * limit: a RAW rewritten in its middle only, its size and both ends the same, keeps its record
 * (vectors, thumbnail) as if only its modification time had changed.
 */
export async function rawFingerprint(path: string): Promise<{ size: number; fingerprint: string }> {
  const file = await open(path)
  try {
    const { size } = await file.stat()
    const hash = createHash('sha256').update(`${size}:`)
    const head = Math.min(size, RAW_END)
    await hashRange(file, hash, 0, head)
    const tail = Math.max(head, size - RAW_END)
    await hashRange(file, hash, tail, size - tail)
    return { size, fingerprint: RAW_FINGERPRINT_PREFIX + hash.digest('hex') }
  } finally {
    await file.close()
  }
}

/** Whether a RAW's recorded fingerprint is the full SHA-256 an earlier release gave it. */
export function isWholeFileFingerprint(fingerprint: string): boolean {
  return !fingerprint.startsWith(RAW_FINGERPRINT_PREFIX)
}

/**
 * SHA-256 of a whole file, streamed through one buffer: for a camera RAW recorded by an earlier
 * release, whose record only this finds again. The size is the bytes hashed.
 */
export async function wholeFileFingerprint(path: string): Promise<{ size: number; fingerprint: string }> {
  const file = await open(path)
  try {
    const hash = createHash('sha256')
    const chunk = Buffer.allocUnsafe(RAW_END)
    let size = 0
    for (let read; (read = (await file.read(chunk, 0, RAW_END)).bytesRead) > 0; size += read) hash.update(chunk.subarray(0, read))
    return { size, fingerprint: hash.digest('hex') }
  } finally {
    await file.close()
  }
}

/**
 * Where the thumbnail of content of this fingerprint is kept, under the thumbnails folder: by the
 * first two digits of its hash, and named without a RAW's colon, which no Windows file name holds.
 */
export function thumbnailFileName(fingerprint: string): string {
  const hash = fingerprint.startsWith(RAW_FINGERPRINT_PREFIX) ? fingerprint.slice(RAW_FINGERPRINT_PREFIX.length) : fingerprint
  return join(hash.slice(0, 2), `${fingerprint.replace(':', '-')}.webp`)
}

/** Hashes `length` bytes from `position`; a file cut short meanwhile gives what it still has. */
async function hashRange(file: FileHandle, hash: Hash, position: number, length: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(length)
  let filled = 0
  for (let read; filled < length && (read = (await file.read(buffer, filled, length - filled, position + filled)).bytesRead) > 0;) filled += read
  hash.update(buffer.subarray(0, filled))
}
