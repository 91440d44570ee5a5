import exifReader from 'exif-reader'
import { extname } from 'node:path'
import type { Metadata } from 'sharp'
import { describeSource, readHeader } from './preprocess'
import type { RawPhoto } from './rawPhoto'

/** What the library stores about a photo besides its tags. */
export interface PhotoMetadata {
  /**
   * sharp's format name, except that HEIF is told apart as 'heic' (HEVC) or 'avif' (AV1); for a
   * camera RAW, ExifTool's file type in lower case ('cr3', 'nef', 'dng').
   */
  format: string
  /** As displayed: after the EXIF orientation. For a camera RAW, its own image size where it records one, else its preview's. */
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
    takenAt: takenAt([
      [exif?.Photo?.DateTimeOriginal, exif?.Photo?.OffsetTimeOriginal],
      [exif?.Photo?.DateTimeDigitized, exif?.Photo?.OffsetTimeDigitized],
      [exif?.Image?.DateTime, exif?.Photo?.OffsetTime]
    ]),
    camera: cameraName(exif?.Image?.Make, exif?.Image?.Model)
  }
}

/** The same facts of a camera RAW, from its own metadata as ExifTool read it (not its preview's). */
export function rawPhotoMetadata(raw: RawPhoto, path: string): PhotoMetadata {
  const { facts, orientation } = raw
  const [width, height] = /^(\d+)\D+(\d+)$/
    .exec(facts.ImageSize ?? '')
    ?.slice(1)
    .map(Number) ?? [raw.previewSize.width, raw.previewSize.height]
  const turned = orientation !== null && orientation >= 5
  return {
    format: (facts.FileType || extname(path).slice(1)).toLowerCase(),
    width: turned ? height : width,
    height: turned ? width : height,
    orientation,
    // ExifTool's names for EXIF's DateTimeOriginal, DateTimeDigitized and DateTime.
    takenAt: takenAt([
      [exifToolDate(facts.DateTimeOriginal), facts.OffsetTimeOriginal],
      [exifToolDate(facts.CreateDate), facts.OffsetTimeDigitized],
      [exifToolDate(facts.ModifyDate), facts.OffsetTime]
    ]),
    camera: cameraName(facts.Make, facts.Model)
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

/**
 * The first usable date of DateTimeOriginal, DateTimeDigitized (exiftool's CreateDate) and
 * DateTime (last modified), each given with its own offset tag.
 */
function takenAt(candidates: ReadonlyArray<readonly [unknown, unknown]>): string | null {
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

/** An EXIF date as ExifTool prints it ('2023:06:01 08:15:00', maybe with sub-seconds or a zone after) as exif-reader gives it: the wall clock in UTC fields. */
function exifToolDate(value: string | undefined): Date | null {
  const match = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value ?? '')
  if (!match) return null
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number)
  if (!year || !month || !day) return null
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second))
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
