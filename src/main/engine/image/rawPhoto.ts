import { stat } from 'node:fs/promises'
import { describeSource, fileReadError, ImageDecodeError } from './imageDecodeError'
import { jpegSize, withExifOrientation } from './jpegMarkers'
import { isRawFileName } from './photoFiles'
import { type RawContents, rawPreviewReader, type RawFact, type RawPreviewReader } from './rawPreviewReader'

/**
 * A camera RAW file stands in for itself by the JPEG preview the camera embedded in it: what the
 * camera showed on its screen, developed with its settings. Decoding the sensor data is out of
 * scope; a preview smaller than the model's input would only be blown up, so it does not count.
 */
export const MIN_PREVIEW_SIDE = 224

export interface RawPhoto {
  /**
   * The largest embedded JPEG, its own EXIF replaced by one that holds only the RAW's
   * orientation: every JPEG reader then turns it upright as the RAW says (a preview's own
   * orientation, where it has one, is not the photo's).
   */
  jpeg: Buffer
  /** The preview's size as stored, before orientation. */
  previewSize: { width: number; height: number }
  /** The RAW's EXIF orientation, 1-8; null where it has none. */
  orientation: number | null
  facts: Partial<Record<RawFact, string>>
}

const HINT_NO_PREVIEW =
  'SDL Tagger reads a RAW file through the JPEG preview the camera embeds in it. Export this photo as a JPEG (or as a DNG with a full-size preview) to tag it.'
const HINT_DAMAGED = 'The file may be an incomplete copy or download; copy it again from the original.'

/** The RAW at `path`, read through ExifTool. Throws ImageDecodeError naming it: unreadable, truncated, or without a usable preview. */
export async function readRawPhoto(path: string, reader: RawPreviewReader = rawPreviewReader()): Promise<RawPhoto> {
  const source = describeSource(path)
  const size = await stat(path).then(
    (s) => (s.isDirectory() ? null : s.size),
    (err: unknown) => {
      throw fileReadError(err, source)
    }
  )
  if (size === null) throw new ImageDecodeError(source, 'not-a-file', 'it is a folder, not a file')
  if (size === 0) throw new ImageDecodeError(source, 'empty', 'the file is empty (0 bytes)')
  let contents: RawContents
  try {
    contents = await reader.read(path)
  } catch (err) {
    throw new ImageDecodeError(source, 'unreadable', `ExifTool could not read it (${(err as Error).message})`, (err as { hint?: string }).hint)
  }
  if (contents.errors.length) throw exifToolError(source, contents.errors)
  const truncation = contents.warnings.find(isTruncationWarning)
  if (truncation) throw new ImageDecodeError(source, 'corrupt', `the RAW file is truncated (${truncation})`, HINT_DAMAGED)
  const fileType = contents.facts.FileType
  if (!contents.previews.length && !isRawFileName(`raw.${fileType}`)) {
    throw new ImageDecodeError(source, 'unsupported', `not a camera RAW file (ExifTool reads it as ${fileType ?? 'an unknown type'})`, HINT_NO_PREVIEW)
  }
  const preview = largestPreview(contents.previews, source)
  const orientation = parseOrientation(contents.facts.Orientation)
  return {
    jpeg: withExifOrientation(preview.bytes, orientation ?? 1),
    previewSize: preview.size,
    orientation,
    facts: contents.facts
  }
}

/**
 * Runs `work` on the RAW's preview. The preview failing to decode is the RAW's damage: it is
 * reported as such, naming the RAW (work's own errors name the preview's bytes in memory).
 */
export async function withRawPreview<T>(path: string, work: (raw: RawPhoto) => Promise<T>): Promise<T> {
  const raw = await readRawPhoto(path)
  try {
    return await work(raw)
  } catch (err) {
    if (!(err instanceof ImageDecodeError)) throw err
    if (err.reason === 'too-large') throw new ImageDecodeError(describeSource(path), 'too-large', `its embedded preview: ${err.why}`)
    throw damagedPreview(describeSource(path), err.why)
  }
}

type Candidate = { tag: string; bytes: Buffer; size: { width: number; height: number } | null }

/** The JPEG preview with the most pixels of those at least MIN_PREVIEW_SIDE on their short side. */
function largestPreview(previews: RawContents['previews'], source: string): Candidate & { size: { width: number; height: number } } {
  // TIFF and JPEG XL previews, rarer, are left out: JPEG headers can be sized without a decoder.
  const jpegs: Candidate[] = previews.filter((p) => p.bytes[0] === 0xff && p.bytes[1] === 0xd8).map((p) => ({ ...p, size: jpegSize(p.bytes) }))
  const sized = jpegs.filter((j): j is Candidate & { size: { width: number; height: number } } => j.size !== null)
  const area = (c: (typeof sized)[number]) => c.size.width * c.size.height
  const usable = sized.filter((c) => Math.min(c.size.width, c.size.height) >= MIN_PREVIEW_SIDE).sort((a, b) => area(b) - area(a) || b.bytes.length - a.bytes.length)
  if (usable.length) return usable[0]
  const broken = jpegs.find((j) => j.size === null)
  if (broken) throw damagedPreview(source, `the JPEG header of its ${broken.tag} cannot be read`)
  const largest = sized.sort((a, b) => area(b) - area(a))[0]
  const found = largest ? `the largest is ${largest.size.width} x ${largest.size.height} px` : previews.length ? 'it has none in JPEG' : 'it has none'
  throw new ImageDecodeError(source, 'unsupported', `it has no embedded preview of at least ${MIN_PREVIEW_SIDE} px (${found})`, HINT_NO_PREVIEW)
}

function damagedPreview(source: string, detail: string): ImageDecodeError {
  return new ImageDecodeError(source, 'corrupt', `its embedded preview is damaged: ${detail}`, HINT_DAMAGED)
}

/**
 * ExifTool's warnings that the file ends before its data does: offsets past its end (from -api
 * Validate, for TIFF-based RAWs), truncated boxes and images (CR3, X3F, RAF), a preview cut off.
 */
function isTruncationWarning(warning: string): boolean {
  return /past end of file|\btruncated\b.*\b(?:file|data|image|atom header)\b|error reading \w+ from file/i.test(warning)
}

function exifToolError(source: string, errors: string[]): ImageDecodeError {
  const detail = errors.join('; ')
  if (/file is empty/i.test(detail)) return new ImageDecodeError(source, 'empty', 'the file is empty (0 bytes)')
  if (/file not found/i.test(detail)) return new ImageDecodeError(source, 'not-found', 'file not found')
  if (/unknown file type|file format error|not a valid|wrong type|unsupported/i.test(detail)) {
    return new ImageDecodeError(source, 'unsupported', `not a camera RAW file (${detail})`, HINT_NO_PREVIEW)
  }
  return new ImageDecodeError(source, 'corrupt', `ExifTool could not read it (${detail})`, HINT_DAMAGED)
}

function parseOrientation(value: string | undefined): number | null {
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : null
}
