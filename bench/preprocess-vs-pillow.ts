/**
 * How close our preprocessing comes to the official Pillow pipeline, and what it costs.
 *
 *   npx tsx bench/preprocess-vs-pillow.ts
 *
 * Per sample photo: mean and max absolute difference (0..255 levels, over all 224*224*3 values)
 * between each candidate's 224x224 RGB and Pillow's `resize((224, 224))` of the same photo
 * (../shared/sdl/fixtures/pil-resized-224). Then, for two generated ~12 MP JPEGs (noise plus
 * gradients, a worst case for resampling; a mosaic of real photos from ../shared/photos), the
 * same difference against the exact Pillow port run on the full-size decode, and milliseconds
 * per photo with libvips on one thread: wall clock, and CPU time of the whole process.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp, { type KernelEnum } from 'sharp'
import { decodeToRgb224 } from '../src/main/engine/image/preprocess'
import { resizeBicubicRgb } from '../src/main/engine/image/pillowBicubic'

const SIZE = 224
const SDL_DIR = fileURLToPath(new URL('../../shared/sdl/', import.meta.url))
const PHOTOS = join(SDL_DIR, 'sample-photos')
const PILLOW = join(SDL_DIR, 'fixtures/pil-resized-224')
const COCO_DIR = fileURLToPath(new URL('../../shared/photos/coco-dev/', import.meta.url))

type Candidate = (file: string) => Promise<Uint8Array>

/** The decode settings of preprocess.ts, so candidates differ only in how they resize. */
const decode = (file: string) => sharp(file, { failOn: 'truncated', autoOrient: true, ignoreIcc: true }).flatten({ background: '#ffffff' }).toColourspace('srgb')

const sharpOnly =
  (kernel: keyof KernelEnum, fastShrinkOnLoad: boolean): Candidate =>
  (file) =>
    decode(file).resize(SIZE, SIZE, { fit: 'fill', kernel, fastShrinkOnLoad }).raw().toBuffer()

async function pillowPortOnFullDecode(file: string, ignoreIcc = true): Promise<Uint8Array> {
  const { data, info } = await sharp(file, { ignoreIcc, autoOrient: true }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  return resizeBicubicRgb(data, info.width, info.height, SIZE, SIZE)
}

const candidates: Record<string, Candidate> = {
  'chosen: decodeToRgb224': (file) => decodeToRgb224(file),
  'Pillow port, full decode': (file) => pillowPortOnFullDecode(file),
  'Pillow port, ICC applied': (file) => pillowPortOnFullDecode(file, false),
  'sharp cubic': sharpOnly('cubic', true),
  'sharp cubic, no fastShrink': sharpOnly('cubic', false),
  'sharp mitchell': sharpOnly('mitchell', true),
  'sharp mitchell, no fastShrink': sharpOnly('mitchell', false),
  'sharp lanczos3': sharpOnly('lanczos3', true),
  'sharp lanczos3, no fastShrink': sharpOnly('lanczos3', false)
}

function difference(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  let sum = 0
  let max = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i])
    sum += d
    if (d > max) max = d
  }
  return { mean: sum / a.length, max }
}

const fmt = (d: { mean: number; max: number }) => `${d.mean.toFixed(3)}/${String(d.max).padEnd(3)}`

async function compareWithPillow(): Promise<void> {
  const photos = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg'))
  console.log(`Difference to Pillow, mean/max levels, per sample photo (${photos.length})`)
  for (const [name, run] of Object.entries(candidates)) {
    const diffs = []
    for (const photo of photos) {
      const reference = await sharp(join(PILLOW, photo.replace(/\.jpg$/, '.png')))
        .raw()
        .toBuffer()
      diffs.push(difference(await run(join(PHOTOS, photo)), reference))
    }
    const mean = diffs.reduce((s, d) => s + d.mean, 0) / diffs.length
    const max = Math.max(...diffs.map((d) => d.max))
    console.log(`  ${name.padEnd(30)} all ${fmt({ mean, max })}  ${diffs.map(fmt).join(' ')}`)
  }
}

/** A 4000x3000 JPEG of gradients under per-pixel noise: detail at every frequency, a worst case. */
async function writeNoiseJpeg(path: string): Promise<void> {
  const width = 4000
  const height = 3000
  // Clamped, so gradient plus noise saturates at 0 and 255 instead of wrapping around.
  const pixels = new Uint8ClampedArray(width * height * 3)
  let seed = 12345
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const noise = ((seed >>> 24) - 128) * 0.3
      const i = (y * width + x) * 3
      pixels[i] = (255 * x) / width + noise
      pixels[i + 1] = (255 * y) / height + noise
      pixels[i + 2] = 128 + 127 * Math.sin(x / 37 + y / 53) + noise
    }
  }
  await sharp(Buffer.from(pixels.buffer), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(path)
}

/** A 4032x2880 JPEG tiling 7x6 COCO photos at about their own resolution: real photo detail. */
async function writePhotoMosaicJpeg(path: string): Promise<void> {
  const photos = readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))
  const tiles = []
  for (let i = 0; i < 42; i++) {
    const tile = await sharp(join(COCO_DIR, photos[i % photos.length]))
      .resize(576, 480)
      .toBuffer()
    tiles.push({ input: tile, left: (i % 7) * 576, top: Math.floor(i / 7) * 480 })
  }
  await sharp({ create: { width: 4032, height: 2880, channels: 3, background: 'black' } })
    .composite(tiles)
    .jpeg({ quality: 92 })
    .toFile(path)
}

async function timeAndCompareLarge(title: string, file: string): Promise<void> {
  const reference = await pillowPortOnFullDecode(file)
  console.log(`\n${title}: mean/max levels vs exact Pillow; median of 7 runs, libvips on one thread`)
  for (const [name, run] of Object.entries(candidates)) {
    const diff = difference(await run(file), reference)
    const wall = []
    const cpu = []
    for (let i = 0; i < 7; i++) {
      const start = performance.now()
      const cpuStart = process.cpuUsage()
      await run(file)
      const used = process.cpuUsage(cpuStart)
      wall.push(performance.now() - start)
      cpu.push((used.user + used.system) / 1000)
    }
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b)
      return sorted[sorted.length >> 1].toFixed(0).padStart(4)
    }
    console.log(`  ${name.padEnd(30)} ${fmt(diff)}  ${median(wall)} ms wall  ${median(cpu)} ms CPU`)
  }
}

await compareWithPillow()
sharp.concurrency(1)
const dir = mkdtempSync(join(tmpdir(), 'preprocess-bench-'))
try {
  const noise = join(dir, 'noise.jpg')
  await writeNoiseJpeg(noise)
  await timeAndCompareLarge('12 MP JPEG, 4000x3000 noise and gradients', noise)
  const mosaic = join(dir, 'mosaic.jpg')
  await writePhotoMosaicJpeg(mosaic)
  await timeAndCompareLarge('11.6 MP JPEG, 4032x2880 mosaic of COCO photos', mosaic)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
