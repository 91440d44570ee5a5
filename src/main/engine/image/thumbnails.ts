import { randomUUID } from 'node:crypto'
import { rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isRawFileName } from './photoFiles'
import { describeSource, processPhoto } from './preprocess'
import { withRawPreview } from './rawPhoto'

/** Longest side, in pixels: crisp on a 2x screen for a ~160 px grid cell. */
export const THUMBNAIL_SIZE = 320

/** WebP quality: artefacts invisible at thumbnail size, while a thumbnail stays small (docs/benchmarks.md). */
const QUALITY = 80

/**
 * Writes an upright WebP thumbnail of the photo in `bytes` to `dest`, its longest side `size`
 * (photos already smaller keep their size), and returns its dimensions. The file appears whole
 * or not at all: it is written beside `dest` under a hidden temporary name, then renamed over
 * it, so readers never see half a thumbnail and a failure leaves any previous one in place.
 * Decoding errors are ImageDecodeError naming `opts.source` (the photo's path) where given;
 * errors writing `dest` are the file system's. A camera RAW (by the extension of `opts.source`)
 * is read from that file, through its embedded preview (./rawPhoto.ts), and `bytes` go unused.
 */
export async function writeThumbnail(bytes: Buffer, dest: string, opts: { size?: number; source?: string } = {}): Promise<{ width: number; height: number }> {
  const size = opts.size ?? THUMBNAIL_SIZE
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`thumbnail size must be a positive integer, got ${size}`)
  if (opts.source && isRawFileName(opts.source)) return withRawPreview(opts.source, (raw) => writeThumbnail(raw.jpeg, dest, { size }))
  // Thumbnails are for people, so unlike model input they honour embedded ICC profiles
  // (converted to sRGB, the web's default).
  const { data, info } = await processPhoto(bytes, describeSource(opts.source ?? bytes), { ignoreIcc: false }, (image) =>
    image.resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: QUALITY }).toBuffer({ resolveWithObject: true })
  )
  await replaceFile(dest, data)
  return { width: info.width, height: info.height }
}

async function replaceFile(dest: string, data: Buffer): Promise<void> {
  const temp = join(dirname(dest), `.${basename(dest)}.${randomUUID()}.tmp`)
  try {
    await writeFile(temp, data)
    await rename(temp, dest)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
