import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import sharp, { type Metadata, type Sharp } from 'sharp'
import { decodeHeicInWorker } from './heicWorker'
import { describeSource, fileReadError, ImageDecodeError } from './imageDecodeError'
import { isRawFileName } from './photoFiles'
import { resizeBicubicRgb } from './pillowBicubic'
import { withRawPreview } from './rawPhoto'

/**
 * Photo -> SDL network input, matching the official `infer.py`:
 * `Image.open(path).convert('RGB').resize((224, 224))` then `pixels / 255` as float32 CHW, no
 * mean/std. sharp decodes (heic-decode for HEIC, see processPhoto); the final resize is a
 * bit-exact port of Pillow's bicubic (./pillowBicubic.ts), since no sharp kernel comes close
 * (bench/preprocess-vs-pillow.ts).
 */

export const MODEL_INPUT_SIZE = 224

/**
 * Photos longer than this many times the model size along an axis are first shrunk along that
 * axis by libvips (JPEG DCT-domain shrink-on-load, box shrink, cubic reduce) down to it, and
 * Pillow's bicubic runs on the result: the trade Pillow's own `reducing_gap` makes. Resizing a
 * camera photo in one go, as infer.py does, costs several times the CPU (a full-size decode plus
 * a very wide bicubic in JavaScript) for a result that differs from the shrunk path's by under a
 * level (0..255) on average. A gap of 2 saves little more time and lands markedly further from
 * Pillow. Photos up to 672 px, like the NUS-WIDE photos SDL was trained on, skip this step and
 * match Pillow exactly. Figures: docs/benchmarks.md.
 */
const REDUCING_GAP = 3

/** libvips' default cap, 0x3FFF squared (~268 megapixels): bounds memory for hostile or absurd files. */
const MAX_INPUT_PIXELS = 0x3fff * 0x3fff

// On glibc Linux sharp defaults to one libvips thread (to limit malloc fragmentation); a tagger
// is bound by decoding, so use every core.
sharp.concurrency(availableParallelism())
// A batch tagger decodes each photo once, so the operation cache would only hold memory.
sharp.cache(false)

export { describeSource, ImageDecodeError, type ImageDecodeReason } from './imageDecodeError'

/**
 * The photo as `size` x `size` interleaved 8-bit sRGB (HWC), stretched without cropping: the
 * pixels the model input is made from, also fit for thumbnails and tests. A camera RAW, given by
 * its path, is read through its embedded preview (./rawPhoto.ts).
 */
export async function decodeToRgb224(input: string | Buffer, size = MODEL_INPUT_SIZE): Promise<Buffer> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`image size must be a positive integer, got ${size}`)
  if (typeof input === 'string' && isRawFileName(input)) return withRawPreview(input, (raw) => decodeToRgb224(raw.jpeg, size))
  const source = describeSource(input)
  const bytes = typeof input === 'string' ? await readImageFile(input, source) : input

  const { data, info } = await decodeShrunk(bytes, size, source)
  const rgb = resizeBicubicRgb(data, info.width, info.height, size, size)
  return Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length)
}

/** The network input for one photo: float32 CHW (R plane, G plane, B plane), values in [0, 1]. */
export async function decodeToModelInput(input: string | Buffer, size = MODEL_INPUT_SIZE): Promise<Float32Array> {
  const rgb = await decodeToRgb224(input, size)
  const plane = size * size
  const chw = new Float32Array(3 * plane)
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    chw[i] = rgb[p] / 255
    chw[plane + i] = rgb[p + 1] / 255
    chw[2 * plane + i] = rgb[p + 2] / 255
  }
  return chw
}

/** Images from decodeToModelInput, concatenated into one NCHW batch. */
export function toNchwBatch(images: Float32Array[]): Float32Array {
  const each = images[0]?.length ?? 0
  if (images.some((img) => img.length !== each)) {
    throw new RangeError('toNchwBatch: all images must have the same size')
  }
  const batch = new Float32Array(each * images.length)
  images.forEach((img, i) => batch.set(img, i * each))
  return batch
}

async function readImageFile(path: string, source: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw fileReadError(err, source)
  }
}

/**
 * Decoded, upright, 8-bit sRGB without alpha, and shrunk only along axes longer than
 * REDUCING_GAP x `size`.
 */
function decodeShrunk(bytes: Buffer, size: number, source: string) {
  // Pillow ignores embedded ICC profiles, so the network was trained and is demonstrated on the
  // stored numbers; converting e.g. Adobe RGB photos to sRGB shifts them by several levels
  // from what the official pipeline feeds the model. CMYK still converts (with libvips'
  // built-in CMYK profile).
  return processPhoto(bytes, source, { ignoreIcc: true, thumbnailAtLeast: size }, (image) =>
    image
      // Pillow's convert('RGB') just drops alpha, exposing whatever colour the transparent pixels
      // happen to store (often black). White is how viewers and pages show such images (logos,
      // product shots, scanned documents), so the model sees what the user sees.
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(REDUCING_GAP * size, REDUCING_GAP * size, {
        fit: 'fill',
        // Only ever shrink, per axis; small photos reach Pillow's resize untouched.
        withoutEnlargement: true,
        // Catmull-Rom: the kernel Pillow's bicubic uses.
        kernel: 'cubic',
        // JPEG shrink-on-load (DCT scaling) is cruder than a cubic reduce, but with the gap left
        // for Pillow's resize, turning it off measured no closer to Pillow and costs time.
        fastShrinkOnLoad: true
      })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
  )
}

/**
 * Runs `pipeline` on the photo opened upright by sharp, or, for HEIC (whose HEVC codec sharp's
 * prebuilt libvips lacks), on its pixels decoded by heic-decode, so both share every later step.
 * The first frame of an animation or page of a multi-page file is the photo. A HEIC's own
 * thumbnail stands in for it where one is at least `thumbnailAtLeast` pixels on each side (all
 * a pipeline that shrinks to that size needs, in a fraction of the time). Failures become
 * ImageDecodeError; `pipeline` should only compute (write files after it returns), so that
 * every error it raises is about the photo.
 */
export async function processPhoto<T>(bytes: Buffer, source: string, opts: { ignoreIcc: boolean; thumbnailAtLeast?: number }, pipeline: (image: Sharp) => Promise<T>): Promise<T> {
  rejectEmpty(bytes, source)
  try {
    if (isHevcHeif(bytes)) return await pipeline(await decodeHeic(bytes, source, opts.thumbnailAtLeast))
    try {
      return await pipeline(openWithSharp(bytes, opts.ignoreIcc))
    } catch (err) {
      // A HEIF whose brands don't say HEVC (plain 'mif1') but whose image is HEVC-coded.
      if (!lacksHevcDecoder(err as Error)) throw err
      return await pipeline(await decodeHeic(bytes, source, opts.thumbnailAtLeast))
    }
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err
    throw await explainSharpError(err as Error, bytes, source)
  }
}

function openWithSharp(bytes: Buffer, ignoreIcc: boolean): Sharp {
  return sharp(bytes, {
    // Reject files cut short (interrupted copies, partial downloads): with 'none', libjpeg fills
    // the missing rows with grey and the photo gets confident, wrong tags. Unlike sharp's
    // default 'warning', damage libjpeg recovers from (a garbled stretch of data, stray bytes
    // between markers) still decodes, as it does in Pillow.
    failOn: 'truncated',
    limitInputPixels: MAX_INPUT_PIXELS,
    autoOrient: true,
    ignoreIcc
  })
}

/**
 * The photo's header as sharp reads it, without decoding pixels (HEIC included: libvips parses
 * HEIF containers even without an HEVC decoder). Errors as processPhoto would give, including
 * 'too-large' for a photo it would refuse to decode.
 */
export async function readHeader(bytes: Buffer, source: string): Promise<Metadata> {
  rejectEmpty(bytes, source)
  let header: Metadata
  try {
    header = await sharp(bytes).metadata()
  } catch (err) {
    throw await explainSharpError(err as Error, bytes, source)
  }
  if (header.width * header.height > MAX_INPUT_PIXELS) throw tooLargeError(source, header.width, header.height)
  return header
}

function rejectEmpty(bytes: Buffer, source: string): void {
  if (bytes.length === 0) throw new ImageDecodeError(source, 'empty', 'the file is empty (0 bytes)')
}

/** ISO-BMFF brands of HEIF files whose images are HEVC-coded (ISO/IEC 23008-12 and -2). */
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs'])

/** Whether the file opens with an ISO-BMFF `ftyp` box naming an HEVC brand, major or compatible. */
function isHevcHeif(bytes: Buffer): boolean {
  return ftypBrands(bytes).some((brand) => HEVC_BRANDS.has(brand))
}

/** The major brand then the compatible brands of the leading `ftyp` box; none if there is no such box. */
function ftypBrands(bytes: Buffer): string[] {
  if (bytes.length < 16 || bytes.toString('latin1', 4, 8) !== 'ftyp') return []
  const end = Math.min(bytes.readUInt32BE(0), bytes.length)
  // Major brand at 8, minor version at 12, then compatible brands to the end of the box.
  const brands = [bytes.toString('latin1', 8, 12)]
  for (let at = 16; at + 4 <= end; at += 4) brands.push(bytes.toString('latin1', at, at + 4))
  return brands
}

/** sharp's prebuilt libvips has libheif but no HEVC decoder plugin (only AV1, for AVIF). */
function lacksHevcDecoder(err: Error): boolean {
  return /^heif: .*\bHEVC\b/m.test(err.message)
}

/** heic-decode's major brands; it refuses any other before libheif sees the file. */
const HEIC_DECODE_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1'])

/**
 * The bytes under a major brand heic-decode accepts. libheif itself goes by the compatible
 * brands, so relabelling a rarer major brand ('heim', 'miaf', ...) as 'mif1' changes nothing else.
 */
function bytesAsHevcHeif(bytes: Buffer): Buffer {
  if (HEIC_DECODE_BRANDS.has(ftypBrands(bytes)[0] ?? '')) return bytes
  const relabelled = Buffer.from(bytes)
  relabelled.write('mif1', 8, 'latin1')
  return relabelled
}

/**
 * The primary image of a HEIC file (the photo), or its smallest thumbnail at least
 * `thumbnailAtLeast` pixels on each side, upright (libheif applies the irot/imir transforms) as
 * RGBA, ready for the shared pipeline. ICC profiles are lost. Decoded off the main thread (./heicWorker.ts).
 */
async function decodeHeic(bytes: Buffer, source: string, thumbnailAtLeast?: number): Promise<Sharp> {
  const result = await decodeHeicInWorker(bytesAsHevcHeif(bytes), { maxPixels: MAX_INPUT_PIXELS, thumbnailAtLeast })
  if (!result.ok) {
    // Checked before decoding, as libvips does for other formats, to bound memory.
    if (result.tooLarge) throw tooLargeError(source, result.tooLarge.width, result.tooLarge.height)
    // heic-decode's own message is vague ('HEIF image not found'); libheif's says what is wrong.
    throw corruptError(source, result.message)
  }
  const { width, height, data } = result
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 4 } })
}

async function explainSharpError(err: Error, bytes: Buffer, source: string): Promise<ImageDecodeError> {
  const message = err.message
  if (/exceeds pixel limit/i.test(message)) {
    const { width, height } = await sharp(bytes, { limitInputPixels: false })
      .metadata()
      .catch(() => ({ width: 0, height: 0 }))
    return tooLargeError(source, width, height)
  }
  if (/unsupported|channel limit/i.test(message)) {
    return new ImageDecodeError(source, 'unsupported', 'not an image, or an image format this app cannot read', `Readable formats: ${readableFormats()}.`)
  }
  return corruptError(source, libvipsDetail(message))
}

/** `width` and `height` are 0 where unknown. */
function tooLargeError(source: string, width: number, height: number): ImageDecodeError {
  const limit = `${Math.round(MAX_INPUT_PIXELS / 1e6)} megapixels`
  const dims = width && height ? `${width} x ${height} pixels, ` : ''
  return new ImageDecodeError(source, 'too-large', `the image is too large (${dims}over the ${limit} limit)`)
}

function corruptError(source: string, detail: string): ImageDecodeError {
  return new ImageDecodeError(
    source,
    'corrupt',
    `the image is truncated or corrupt (${detail})`,
    'The file may be an incomplete copy or download; copy it again from the original.'
  )
}

/**
 * sharp's message without libvips' repeated lines, nor the 'bad seek' lines it logs while libheif
 * probes past the end of a cut-off file, nor colons left dangling.
 */
function libvipsDetail(message: string): string {
  const lines = message
    .replace(/source: bad seek to \d+/g, '')
    .split('\n')
    .map((line) => line.trim().replace(/:$/, ''))
    .filter(Boolean)
  return [...new Set(lines)].join('; ')
}

function readableFormats(): string {
  return Object.entries(sharp.format)
    .filter(([id, format]) => id !== 'raw' && format.input.buffer)
    .map(([id]) => (id === 'heif' ? 'AVIF/HEIF' : id.toUpperCase()))
    .join(', ')
}
