import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import sharp from 'sharp'
import { SDL_DIR } from './sharedData'

export const VOCAB_DIR = join(SDL_DIR, 'nus-wide/original-pickles')
export const SAMPLE_PHOTOS_DIR = join(SDL_DIR, 'sample-photos')

/** Unpacks one of the gzip-compressed fixture checkpoints (about 135 MB) into `dir`. */
export async function gunzipFixture(format: 'zip' | 'legacy', dir: string): Promise<string> {
  const out = join(dir, `sdl_fixture_${format}.pth`)
  await pipeline(createReadStream(join(SDL_DIR, `fixtures/sdl_fixture_${format}.pth.gz`)), createGunzip(), createWriteStream(out))
  return out
}

export interface ReferenceOutputs {
  inputs: string[]
  outputs: number[][]
}

export function referenceOutputs(): ReferenceOutputs {
  return JSON.parse(readFileSync(join(SDL_DIR, 'fixtures/reference_outputs.json'), 'utf8')) as ReferenceOutputs
}

/** The two synthetic inputs of reference_outputs.json, as NCHW float32 [1,3,224,224]. */
export function syntheticInput(name: 'constant_0.5' | 'ramp'): Float32Array {
  const size = 224
  const plane = size * size
  const input = new Float32Array(3 * plane)
  if (name === 'constant_0.5') return input.fill(0.5)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      input[y * size + x] = x / 223
      input[plane + y * size + x] = y / 223
      input[2 * plane + y * size + x] = ((x + y) % 224) / 223
    }
  }
  return input
}

/** A Pillow-resized PNG from the fixtures, as the network's input (no resizing of ours involved). */
export async function pillowResizedInput(photo: string): Promise<Float32Array> {
  const png = join(SDL_DIR, 'fixtures/pil-resized-224', photo.replace(/\.jpg$/, '.png'))
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const plane = info.width * info.height
  const input = new Float32Array(3 * plane)
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[c * plane + i] = data[i * 3 + c] / 255
  return input
}

/** Largest |difference| relative to the largest |reference| value: the fixture's outputs are large. */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0
  let maxRef = 0
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]))
    maxRef = Math.max(maxRef, Math.abs(expected[i]))
  }
  return maxDiff / maxRef
}

export function l2Distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2
  return Math.sqrt(sum)
}
