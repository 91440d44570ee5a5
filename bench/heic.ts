/**
 * HEIC model inputs per second: the old path against the new one, at the indexer's concurrency.
 *
 *   npm run bench:heic -- [--photos 48]
 *
 * Photos: 4032x3024 HEICs (an iPhone's 12 MP) of COCO photo mosaics from ../shared/photos, each with
 * and without the 320x240 thumbnail an iPhone stores, made once with heif-enc (apt-get install
 * libheif-examples) and kept in sdl-bench-corpus-heic-* under the temporary directory. `--photos`
 * model inputs are made from them, round robin, with up to 32 in flight as the indexer has (batches
 * of 16, one batch of lookahead):
 *
 * - before: the full decode on one decoder thread, then preprocess.ts's pipeline: the path before
 *   HEIC decoders were pooled and thumbnails used;
 * - after, no thumbnail: decodeToModelInput on HEICs without a thumbnail (the full decode, on the pool);
 * - after: decodeToModelInput on HEICs with one (the thumbnail, on the pool).
 *
 * Prints figures only; it never fails on a timing. heif-enc's thumbnails are scaled by nearest
 * neighbour, unlike a camera's, which costs nothing here but makes them poor for accuracy checks
 * (test/integration/heicThumbnails.test.ts has those).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { HeicDecoderPool } from '../src/main/engine/image/heicWorker'
import { resizeBicubicRgb } from '../src/main/engine/image/pillowBicubic'
import { decodeToModelInput, MODEL_INPUT_SIZE } from '../src/main/engine/image/preprocess'

const { values } = parseArgs({ options: { photos: { type: 'string', default: '48' } } })
const PHOTOS = Number(values.photos)
const COCO_DIR = fileURLToPath(new URL('../../shared/photos/coco-dev/', import.meta.url))
const CORPUS = join(tmpdir(), 'sdl-bench-corpus-heic-v1')
/** Distinct photos; each is decoded PHOTOS / SOURCES times (the decoders cache nothing). */
const SOURCES = 3
const IN_FLIGHT = 32
const MAX_PIXELS = 0x3fff * 0x3fff

try {
  execFileSync('heif-enc', ['--help'], { stdio: 'ignore' })
} catch (err) {
  // heif-enc --help exits 1 but runs; only a missing program is a problem.
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    console.error('bench:heic needs heif-enc to make its HEIC photos: apt-get install libheif-examples')
    process.exit(1)
  }
}

const withThumbnail = await ensureHeics('thumbnail', ['-t', '320'])
const withoutThumbnail = await ensureHeics('none', [])
console.log(`${PHOTOS} model inputs from 4032x3024 HEICs, ${IN_FLIGHT} in flight; ${availableParallelism()} cores (${cpus()[0].model})\n`)

const oneDecoder = new HeicDecoderPool(1)
const before = await rate(withoutThumbnail, (bytes) => oldPath(oneDecoder, bytes))
console.log(`before (full decode, one decoder thread)    ${before.toFixed(2)} photos/s`)
const full = await rate(withoutThumbnail, (bytes) => decodeToModelInput(bytes))
console.log(`after, no thumbnail (full decode, pool)     ${full.toFixed(2)} photos/s  ${(full / before).toFixed(1)}x`)
const thumbnail = await rate(withThumbnail, (bytes) => decodeToModelInput(bytes))
console.log(`after (320x240 thumbnail, pool)             ${thumbnail.toFixed(2)} photos/s  ${(thumbnail / before).toFixed(1)}x`)

/** Photos per second making model inputs from `files`, round robin, IN_FLIGHT at a time. */
async function rate(files: string[], modelInput: (bytes: Buffer) => Promise<unknown>): Promise<number> {
  // One untimed photo, so the decoders' start-up is not counted.
  await modelInput(await readFile(files[0]))
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < PHOTOS) await modelInput(await readFile(files[next++ % files.length]))
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return PHOTOS / ((performance.now() - started) / 1000)
}

/** The photo decoded whole on `pool`, then preprocess.ts's decodeShrunk and Pillow resize, as they were before thumbnails. */
async function oldPath(pool: HeicDecoderPool, bytes: Buffer): Promise<Uint8Array> {
  const result = await pool.decode(bytes, { maxPixels: MAX_PIXELS })
  if (!result.ok) throw new Error(result.message)
  const { data, info } = await sharp(result.data, { raw: { width: result.width, height: result.height, channels: 4 } })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(3 * MODEL_INPUT_SIZE, 3 * MODEL_INPUT_SIZE, { fit: 'fill', withoutEnlargement: true, kernel: 'cubic', fastShrinkOnLoad: true })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
  return resizeBicubicRgb(data, info.width, info.height, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
}

/** SOURCES 4032x3024 HEICs of COCO photo mosaics, encoded by heif-enc with `flags`; made once, then cached. */
async function ensureHeics(kind: string, flags: string[]): Promise<string[]> {
  mkdirSync(CORPUS, { recursive: true })
  const coco = readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))
  const files = []
  for (let i = 0; i < SOURCES; i++) {
    const file = join(CORPUS, `mosaic-${i}-${kind}.heic`)
    files.push(file)
    if (existsSync(file)) continue
    const started = performance.now()
    const jpeg = join(CORPUS, `mosaic-${i}.jpg`)
    if (!existsSync(jpeg)) await writeMosaic(coco.slice(i * 7).concat(coco.slice(0, i * 7)), jpeg)
    execFileSync('heif-enc', ['-q', '60', ...flags, '-o', `${file}.part`, jpeg], { stdio: 'ignore' })
    renameSync(`${file}.part`, file)
    console.log(`made ${file} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  }
  return files
}

/** 7x6 photos at about their own resolution in 4032x3024: real photo detail throughout. */
async function writeMosaic(photos: string[], path: string): Promise<void> {
  const tiles = []
  for (let i = 0; i < 42; i++) {
    const tile = await sharp(join(COCO_DIR, photos[i % photos.length]))
      .resize(576, 504)
      .toBuffer()
    tiles.push({ input: tile, left: (i % 7) * 576, top: Math.floor(i / 7) * 504 })
  }
  await sharp({ create: { width: 4032, height: 3024, channels: 3, background: 'black' } })
    .composite(tiles)
    .jpeg({ quality: 92 })
    .toFile(path)
}
