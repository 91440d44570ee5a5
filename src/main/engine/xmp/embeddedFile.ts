import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, lstat, rename, stat, unlink, utimes } from 'node:fs/promises'
import { extname } from 'node:path'
import type { ExifToolOutput, ExifToolRunner, ExifToolTags } from './exifToolRunner'
import { type FieldEntries, type FileKeywords, KEYWORD_READ_TAGS, fileKeywords } from './keywordFields'
import { type WriteOutcome, compareAfterWrite, keepToolkitArg, keywordWriteArgs, tempBeside } from './sidecarFile'

/** Photo types whose own metadata takes the keywords: what Lightroom and Capture One read for them instead of a sidecar. */
const EMBEDDABLE = new Set(['.jpg', '.jpeg', '.jpe', '.tif', '.tiff', '.dng', '.heic', '.heif'])

export function isEmbeddable(path: string): boolean {
  return EMBEDDABLE.has(extname(path).toLowerCase())
}

/** What the file was when its keywords were read: a write goes ahead only if it is still so. */
interface FileIdentity {
  size: number
  mtimeMs: number
  ino: number
  mode: number
  atime: Date
  mtime: Date
}

export type PhotoFileState = { kind: 'file'; path: string; file: FileIdentity; tags: ExifToolTags; entries: FileKeywords } | { kind: 'unusable'; path: string; reason: string }

export interface PhotoWrite {
  state: PhotoFileState & { kind: 'file' }
  add: FieldEntries
  remove: FieldEntries
}

const KEYWORD_TAGS = ['-File:FileType', '-ExifTool:Error', '-XMP-x:XMPToolkit', ...KEYWORD_READ_TAGS]
/** Everything compared before and after a write, with the hash of the image data ExifTool computes from it. */
const FULL_TAGS = ['-all', '-api', 'ImageHashType=SHA256', '-File:ImageDataHash']
const IMAGE_HASH = 'File:ImageDataHash'
/**
 * Where the image data sits in the file, which moves when the metadata before it grows (and
 * the size of a HEIC's media data, which then holds the XMP): the data itself is checked by its
 * hash instead.
 */
const LAYOUT_TAG = /:(StripOffsets|TileOffsets|ThumbnailOffset|PreviewImageStart|JpgFromRawStart|OtherImageStart|MediaDataOffset|MediaDataSize)$/

/**
 * The keywords in photo files that export may write into: a symbolic link (a rename would
 * replace the link), a read-only file and one ExifTool cannot read are unusable, with the reason.
 */
export async function readPhotoKeywords(exiftool: ExifToolRunner, paths: readonly string[]): Promise<PhotoFileState[]> {
  const checked = await Promise.all(paths.map((path) => writableFile(path)))
  const toRead = paths.filter((_, i) => !('reason' in checked[i]))
  const reads = new Map((await exiftool.read(toRead, KEYWORD_TAGS)).map((r, i) => [toRead[i], r]))
  return paths.map((path, i): PhotoFileState => {
    const file = checked[i]
    if ('reason' in file) return { kind: 'unusable', path, reason: file.reason }
    const { tags, errors } = reads.get(path)!
    if (!tags) return { kind: 'unusable', path, reason: errors[0] ?? 'ExifTool could not read it' }
    if (tags['ExifTool:Error'] !== undefined) return { kind: 'unusable', path, reason: `ExifTool cannot write it: ${String(tags['ExifTool:Error'])}` }
    return { kind: 'file', path, file, tags, entries: fileKeywords(tags) }
  })
}

async function writableFile(path: string): Promise<FileIdentity | { reason: string }> {
  try {
    const link = await lstat(path)
    if (link.isSymbolicLink()) return { reason: 'is a symbolic link; nothing was written into it' }
    if (!link.isFile()) return { reason: 'is not a regular file' }
    if ((link.mode & 0o200) === 0) return { reason: 'is read-only; nothing was written into it' }
    return identity(link)
  } catch (err) {
    return { reason: `cannot be read: ${(err as Error).message}` }
  }
}

function identity(s: { size: number; mtimeMs: number; ino: number; mode: number; atime: Date; mtime: Date }): FileIdentity {
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, mode: s.mode, atime: s.atime, mtime: s.mtime }
}

/**
 * Writes keyword changes into photo files, each as ExifTool's copy beside it (`-o`, the photo
 * untouched): the copy's image data must hash the same as the photo's, and every other property
 * must be as it was but the keyword fields (exactly as planned) and xmp:MetadataDate. Then the
 * copy replaces the photo in one rename, if the photo is still as it was read; with
 * `keepModified`, it keeps the photo's modification time. Returns the copy's SHA-256 when written.
 */
export async function writePhotos(exiftool: ExifToolRunner, writes: readonly PhotoWrite[], opts: { keepModified: boolean }): Promise<WriteOutcome[]> {
  const temps = writes.map(({ state }) => tempBeside(state.path))
  try {
    const before = await exiftool.read(
      writes.map((w) => w.state.path),
      FULL_TAGS
    )
    const outcomes: Array<WriteOutcome | null> = writes.map((_, i) => {
      const tags = before[i].tags
      if (!tags) return { ok: false, reason: before[i].errors[0] ?? 'ExifTool could not read it' }
      if (typeof tags[IMAGE_HASH] !== 'string') return { ok: false, reason: 'ExifTool cannot hash its image data, so a write could not be checked; nothing was written into it' }
      return null
    })
    const pending = writes.map((_, i) => i).filter((i) => outcomes[i] === null)
    let outputs: ExifToolOutput[]
    try {
      outputs = await exiftool.runMany(
        pending.map((i) => [...keywordWriteArgs(writes[i].add, writes[i].remove), keepToolkitArg(writes[i].state.tags), '-o', temps[i], writes[i].state.path])
      )
    } catch (err) {
      return writes.map((_, i) => outcomes[i] ?? { ok: false, reason: `ExifTool could not write it: ${(err as Error).message}` })
    }
    const written = pending.filter((_, k) => !outputs[k].errors.length)
    pending.forEach((i, k) => {
      if (outputs[k].errors.length) outcomes[i] = { ok: false, reason: `ExifTool could not write it: ${outputs[k].errors[0]}` }
    })
    const after = await exiftool.read(
      written.map((i) => temps[i]),
      FULL_TAGS
    )
    await Promise.all(
      written.map(async (i, k) => {
        try {
          outcomes[i] = await verifyAndReplace(writes[i], temps[i], before[i].tags!, after[k].tags, opts)
        } catch (err) {
          outcomes[i] = { ok: false, reason: (err as Error).message }
        }
      })
    )
    return outcomes.map((o) => o ?? { ok: false, reason: 'ExifTool could not write it' })
  } finally {
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})))
  }
}

async function verifyAndReplace(
  { state, add, remove }: PhotoWrite,
  temp: string,
  before: ExifToolTags,
  after: ExifToolTags | null,
  opts: { keepModified: boolean }
): Promise<WriteOutcome> {
  if (!after) return { ok: false, reason: 'ExifTool could not read back what it wrote; nothing was written into it' }
  if (after[IMAGE_HASH] !== before[IMAGE_HASH]) return { ok: false, reason: "ExifTool's copy would change its image data; nothing was written into it" }
  const differ = compareAfterWrite(before, after, add, remove, (key) => LAYOUT_TAG.test(key))
  if (differ.length) return { ok: false, reason: `nothing was written into it: ExifTool would also change ${differ.join(', ')}` }
  const now = await stat(state.path)
  if (now.size !== state.file.size || now.mtimeMs !== state.file.mtimeMs || now.ino !== state.file.ino)
    return { ok: false, reason: 'changed on disk during the export; run it again' }
  await chmod(temp, state.file.mode & 0o7777)
  if (opts.keepModified) await utimes(temp, state.file.atime, state.file.mtime)
  const sha256 = await fileSha256(temp)
  await rename(temp, state.path)
  return { ok: true, sha256, notes: [] }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
