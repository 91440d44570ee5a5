import exifReader from 'exif-reader'
import type { Metadata } from 'sharp'
import { describeSource, readHeader } from './preprocess'

/** What the library stores about a photo besides its tags. */
export interface PhotoMetadata {
  /** sharp's format name, except that HEIF is told apart as 'heic' (HEVC) or 'avif' (AV1). */
  format: string
  /** As displayed: after the EXIF orientation. */
  width: number
  height: number
  /** The EXIF orientation, 1-8; null where absent (and for HEIF, which rotates by its own boxes). */
  orientation: number | null
  /** When the photo was taken, ISO 8601 in the camera's local time, with the UTC offset only where EXIF records one. */
  takenAt: string | null
  /** Make and model, e.g. 'Apple iPhone 13'. */
  camera: string | null
}

type Exif = ReturnType<typeof exifReader>

/**
 * Facts about the photo in `bytes` from its header and EXIF block, without decoding pixels.
 * `source` (its path) names it in errors: ImageDecodeError as decoding would give, except that a
 * truncated file whose header is intact still has metadata.
 */
export async function readPhotoMetadata(bytes: Buffer, source: string): Promise<PhotoMetadata> {
  const header = await readHeader(bytes, describeSource(source))
  const exif = parseExif(header.exif)
  return {
    format: formatName(header),
    width: header.autoOrient.width,
    height: header.autoOrient.height,
    orientation: header.orientation ?? null,
    takenAt: takenAt(exif),
    camera: cameraName(exif?.Image?.Make, exif?.Image?.Model)
  }
}

function formatName(header: Metadata): string {
  if (header.format !== 'heif') return header.format
  return header.compression === 'hevc' ? 'heic' : header.compression === 'av1' ? 'avif' : 'heif'
}

/** A damaged EXIF block loses only these facts; the photo itself is fine. */
function parseExif(block: Buffer | undefined): Exif | undefined {
  if (!block) return undefined
  try {
    return exifReader(block)
  } catch {
    return undefined
  }
}

/**
 * Cameras without a set clock write '0000:00:00 00:00:00', which exif-reader's Date.UTC turns
 * into this instant (year 0 -> 1900, month -1 and day 0 roll back).
 */
const UNSET_EXIF_DATE = Date.UTC(0, -1, 0)

/** DateTimeOriginal, else DateTimeDigitized (exiftool's CreateDate), else DateTime (last modified), each with its own offset tag. */
function takenAt(exif: Exif | undefined): string | null {
  const candidates = [
    [exif?.Photo?.DateTimeOriginal, exif?.Photo?.OffsetTimeOriginal],
    [exif?.Photo?.DateTimeDigitized, exif?.Photo?.OffsetTimeDigitized],
    [exif?.Image?.DateTime, exif?.Photo?.OffsetTime]
  ] as const
  for (const [date, offset] of candidates) {
    // exif-reader gives null for dates it cannot parse, despite its types.
    if (!(date instanceof Date) || Number.isNaN(date.getTime()) || date.getTime() === UNSET_EXIF_DATE) continue
    // EXIF times have no zone; exif-reader reads them as UTC, so the UTC fields are the camera's wall clock.
    const local = date.toISOString().slice(0, 19)
    const zone = typeof offset === 'string' ? offset.trim() : ''
    return /^[+-]\d{2}:\d{2}$/.test(zone) ? local + zone : local
  }
  return null
}

/** Make and Model, without the maker twice: many repeat it ('Canon' + 'Canon EOS R5', 'NIKON CORPORATION' + 'NIKON D750'). */
function cameraName(make: unknown, model: unknown): string | null {
  const maker = cleanText(make)
  const product = cleanText(model)
  if (!product) return maker || null
  const brand = maker.split(' ')[0].toLowerCase()
  return !maker || product.toLowerCase().startsWith(brand) ? product : `${maker} ${product}`
}

/** EXIF ASCII as written by firmware: NUL-padded, space-padded, sometimes with runs of spaces. */
function cleanText(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\0/g, ' ').replace(/\s+/g, ' ').trim() : ''
}
