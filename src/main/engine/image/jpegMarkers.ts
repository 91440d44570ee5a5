/**
 * Reading and rewriting a JPEG's marker segments (ITU T.81 B.1), without decoding it: enough to
 * size up a camera's embedded previews and give one the orientation of the RAW file around it.
 */

const SOI = 0xd8
const SOS = 0xda
const APP0 = 0xe0
const APP1 = 0xe1
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1')

interface Segment {
  marker: number
  /** From its 0xFF to the end of its payload. */
  start: number
  end: number
}

/** The frame's size from its SOF marker; null when the bytes are not a JPEG or its header is cut or garbled. */
export function jpegSize(bytes: Buffer): { width: number; height: number } | null {
  const segments = headerSegments(bytes)
  const frame = segments?.find((s) => isStartOfFrame(s.marker))
  if (!frame || frame.end - frame.start < 9) return null
  const height = bytes.readUInt16BE(frame.start + 5)
  const width = bytes.readUInt16BE(frame.start + 7)
  return width && height ? { width, height } : null
}

/**
 * The JPEG with its EXIF blocks replaced by one that holds only `orientation` (1-8), so that
 * decoders turn it upright by that, and by nothing the JPEG said itself. Other segments (JFIF,
 * ICC profile, XMP) are kept. The bytes as they were when the header cannot be parsed.
 */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const segments = headerSegments(jpeg)
  if (!segments) return jpeg
  const kept = segments.filter((s) => !(s.marker === APP1 && jpeg.subarray(s.start + 4, s.start + 4 + EXIF_HEADER.length).equals(EXIF_HEADER)))
  // JFIF wants its APP0 first; the EXIF block goes right after it.
  const leading = kept.findIndex((s) => s.marker !== APP0)
  const parts = [jpeg.subarray(0, 2)]
  kept.forEach((s, i) => {
    if (i === leading) parts.push(exifSegment(orientation))
    parts.push(jpeg.subarray(s.start, s.end))
  })
  const scanAt = segments.at(-1)!.end
  parts.push(jpeg.subarray(scanAt))
  return Buffer.concat(parts)
}

/**
 * The segments from SOI up to and including the first SOS (whose end is where the entropy-coded
 * data starts), or null when the bytes are not a JPEG or a segment runs past their end.
 */
function headerSegments(bytes: Buffer): Segment[] | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return null
  const segments: Segment[] = []
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null
    const marker = bytes[at + 1]
    // Fill bytes: any number of 0xFF may precede a marker.
    if (marker === 0xff) {
      at++
      continue
    }
    const length = bytes.readUInt16BE(at + 2)
    if (length < 2 || at + 2 + length > bytes.length) return null
    segments.push({ marker, start: at, end: at + 2 + length })
    if (marker === SOS) return segments
    at += 2 + length
  }
  return null
}

/** SOF0-SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
}

/** APP1 with a big-endian TIFF block of one IFD holding one tag: Orientation (0x0112, SHORT). */
function exifSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4)
  tiff.write('MM\0*', 0, 'latin1')
  tiff.writeUInt32BE(8, 4)
  tiff.writeUInt16BE(1, 8)
  tiff.writeUInt16BE(0x0112, 10)
  tiff.writeUInt16BE(3, 12)
  tiff.writeUInt32BE(1, 14)
  tiff.writeUInt16BE(orientation, 18)
  const payload = Buffer.concat([EXIF_HEADER, tiff])
  const header = Buffer.from([0xff, APP1, 0, 0])
  header.writeUInt16BE(payload.length + 2, 2)
  return Buffer.concat([header, payload])
}
