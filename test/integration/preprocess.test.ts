import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { decodeToModelInput, decodeToRgb224, ImageDecodeError, MODEL_INPUT_SIZE, toNchwBatch, type ImageDecodeReason } from '../../src/main/engine/image/preprocess'
import { resizeBicubicRgb } from '../../src/main/engine/image/pillowBicubic'
import { COCO_DIR, SDL_DIR, tempDir } from '../helpers/sharedData'

const PHOTOS = join(SDL_DIR, 'sample-photos')
const PILLOW = join(SDL_DIR, 'fixtures/pil-resized-224')
const S = MODEL_INPUT_SIZE
const tmp = tempDir('sdl-preprocess-test-')
afterAll(tmp.cleanup)

type Rgb = [number, number, number]
const RED: Rgb = [255, 0, 0]
const BLUE: Rgb = [0, 0, 255]

const pixel = (rgb: Buffer, x: number, y: number): Rgb => {
  const i = (y * S + x) * 3
  return [rgb[i], rgb[i + 1], rgb[i + 2]]
}

/** A width x height image, left half `left`, right half `right`, as a sharp pipeline to encode. */
function halves(width: number, height: number, left: Rgb, right: Rgb) {
  const data = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? left : right, (y * width + x) * 3)
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
}

function save(name: string, bytes: Buffer | string): string {
  const path = join(tmp.dir, name)
  writeFileSync(path, bytes)
  return path
}

describe('matches Pillow resize((224, 224)) on the official sample photos', () => {
  const photos = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg'))

  it('finds the six photos in ../shared', () => {
    expect(photos).toHaveLength(6)
  })

  // Measured: 0 difference (bit-exact) on all six. The bound leaves room for a libjpeg update
  // rounding a few pixels differently, and fails for any real change of pipeline: sharp's own
  // cubic resize is ~9 levels off, converting embedded Adobe RGB profiles ~3.5.
  it.each(photos)('%s', async (photo) => {
    const ours = await decodeToRgb224(join(PHOTOS, photo))
    const pillow = await sharp(join(PILLOW, photo.replace(/\.jpg$/, '.png')))
      .raw()
      .toBuffer()
    expect(ours.length).toBe(S * S * 3)
    let sum = 0
    let max = 0
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i] - pillow[i])
      sum += d
      max = Math.max(max, d)
    }
    expect(sum / ours.length).toBeLessThan(0.1)
    expect(max).toBeLessThanOrEqual(2)
  })
})

describe('large photos', () => {
  it('are shrunk by libvips first and still land close to Pillow resizing the full image', async () => {
    // 2x2 tiles of a COCO photo at its own resolution: 1280x960, past the 672 px direct-path limit.
    const tile = await sharp(join(COCO_DIR, readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))[0]))
      .resize(640, 480)
      .toBuffer()
    const jpeg = await sharp({ create: { width: 1280, height: 960, channels: 3, background: 'black' } })
      .composite([0, 1, 2, 3].map((i) => ({ input: tile, left: (i % 2) * 640, top: (i >> 1) * 480 })))
      .jpeg({ quality: 92 })
      .toBuffer()
    const full = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true })
    const pillow = resizeBicubicRgb(full.data, full.info.width, full.info.height, S, S)
    const ours = await decodeToRgb224(save('large.jpg', jpeg))
    let sum = 0
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i] - pillow[i])
    // Measured 0.19; sharp's own cubic resize straight to 224 is 0.53 on this image.
    expect(sum / ours.length).toBeLessThan(0.3)
  })
})

describe('model input', () => {
  it('is float32 CHW in [0, 1], pixel / 255 of the RGB image', async () => {
    const photo = join(PHOTOS, readdirSync(PHOTOS)[0])
    const input = await decodeToModelInput(photo)
    const rgb = await decodeToRgb224(photo)
    expect(input).toBeInstanceOf(Float32Array)
    expect(input.length).toBe(3 * S * S)
    expect(input.every((v) => v >= 0 && v <= 1)).toBe(true)
    const at = 37 * S + 101
    for (let c = 0; c < 3; c++) expect(input[c * S * S + at]).toBe(Math.fround(rgb[at * 3 + c] / 255))
  })

  it('puts each channel in its own plane (red left half, blue right half)', async () => {
    const input = await decodeToModelInput(await halves(64, 32, RED, BLUE).png().toBuffer())
    const plane = (c: number, x: number, y: number) => input[c * S * S + y * S + x]
    for (const y of [0, 100, 223]) {
      // Away from the seam, where the bicubic overshoot is clamped but neighbours still blend.
      for (const x of [0, 50, 100]) expect([plane(0, x, y), plane(1, x, y), plane(2, x, y)]).toEqual([1, 0, 0])
      for (const x of [124, 170, 223]) expect([plane(0, x, y), plane(1, x, y), plane(2, x, y)]).toEqual([0, 0, 1])
    }
  })

  it('accepts a size other than 224', async () => {
    const input = await decodeToModelInput(join(PHOTOS, readdirSync(PHOTOS)[0]), 96)
    expect(input.length).toBe(3 * 96 * 96)
  })

  it('batches images as NCHW', () => {
    const a = new Float32Array([1, 2, 3])
    const b = new Float32Array([4, 5, 6])
    expect(Array.from(toNchwBatch([a, b]))).toEqual([1, 2, 3, 4, 5, 6])
    expect(toNchwBatch([]).length).toBe(0)
    expect(() => toNchwBatch([a, new Float32Array(2)])).toThrow(RangeError)
  })
})

describe('decoding', () => {
  it('applies the EXIF orientation', async () => {
    // Stored left red / right blue; orientation 6 says "rotate 90 degrees clockwise to view",
    // which puts the red half on top.
    const jpeg = await halves(40, 20, RED, BLUE).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer()
    expect((await sharp(jpeg).metadata()).orientation).toBe(6)
    const rgb = await decodeToRgb224(save('rotated.jpg', jpeg))
    for (const x of [10, 112, 213]) {
      expect(isNear(pixel(rgb, x, 10), RED)).toBe(true)
      expect(isNear(pixel(rgb, x, 213), BLUE)).toBe(true)
    }
  })

  it('flattens transparency onto white', async () => {
    // Left half opaque green; right half fully transparent black, which Pillow would show as black.
    const rgba = Buffer.alloc(32 * 32 * 4)
    for (let i = 0; i < 32 * 32; i++) if (i % 32 < 16) rgba.set([0, 255, 0, 255], i * 4)
    const png = await sharp(rgba, { raw: { width: 32, height: 32, channels: 4 } })
      .png()
      .toBuffer()
    const rgb = await decodeToRgb224(save('transparent.png', png))
    expect(pixel(rgb, 20, 100)).toEqual([0, 255, 0])
    expect(pixel(rgb, 200, 100)).toEqual([255, 255, 255])
  })

  it('reads a 16-bit PNG as the 8-bit image it holds', async () => {
    const source = halves(64, 32, RED, BLUE)
    const png16 = await source.clone().toColourspace('rgb16').png().toBuffer()
    expect((await sharp(png16).metadata()).depth).toBe('ushort')
    const rgb = await decodeToRgb224(save('deep.png', png16))
    const rgb8 = await decodeToRgb224(await source.clone().png().toBuffer())
    expect(rgb.length).toBe(S * S * 3)
    expect(rgb.every((v, i) => Math.abs(v - rgb8[i]) <= 1)).toBe(true)
  })

  it('reads greyscale as three equal channels', async () => {
    const grey = await sharp(Buffer.alloc(30 * 20, 100), { raw: { width: 30, height: 20, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer()
    expect((await sharp(grey).metadata()).channels).toBe(1)
    const rgb = await decodeToRgb224(save('grey.png', grey))
    expect(pixel(rgb, 5, 5)).toEqual([100, 100, 100])
    expect(pixel(rgb, 200, 150)).toEqual([100, 100, 100])
  })

  it('reads a palette PNG', async () => {
    const png = await halves(64, 32, RED, BLUE).png({ palette: true }).toBuffer()
    expect((await sharp(png).metadata()).isPalette).toBe(true)
    const rgb = await decodeToRgb224(save('palette.png', png))
    expect(pixel(rgb, 20, 100)).toEqual(RED)
    expect(pixel(rgb, 200, 100)).toEqual(BLUE)
  })

  it('converts a CMYK JPEG to RGB', async () => {
    const jpeg = await halves(64, 32, RED, BLUE).toColourspace('cmyk').jpeg().toBuffer()
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk')
    const rgb = await decodeToRgb224(save('cmyk.jpg', jpeg))
    // Through a print profile red and blue come back muted, but unmistakably red and blue.
    const [r1, g1, b1] = pixel(rgb, 20, 100)
    expect(r1).toBeGreaterThan(180)
    expect(Math.max(g1, b1)).toBeLessThan(60)
    const [r2, g2, b2] = pixel(rgb, 200, 100)
    expect(b2).toBeGreaterThan(100)
    expect(b2).toBeGreaterThan(2 * Math.max(r2, g2))
  })

  it('reads a photo given as a Buffer like the same file', async () => {
    const photo = join(PHOTOS, readdirSync(PHOTOS)[0])
    expect((await decodeToRgb224(readFileSync(photo))).equals(await decodeToRgb224(photo))).toBe(true)
  })
})

describe('errors', () => {
  async function expectDecodeError(input: string | Buffer, reason: ImageDecodeReason, words: RegExp): Promise<ImageDecodeError> {
    const err = await decodeToModelInput(input).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(ImageDecodeError)
    expect(err).toBeInstanceOf(SdlError)
    const decodeError = err as ImageDecodeError
    expect(decodeError.reason).toBe(reason)
    if (typeof input === 'string') expect(decodeError.message).toContain(input)
    expect(decodeError.message).toMatch(words)
    return decodeError
  }

  it('a missing file', async () => {
    await expectDecodeError(join(tmp.dir, 'no-such-photo.jpg'), 'not-found', /file not found/)
  })

  it('a zero-byte file', async () => {
    await expectDecodeError(save('empty.jpg', ''), 'empty', /empty \(0 bytes\)/)
  })

  it('a text file named .jpg', async () => {
    const err = await expectDecodeError(save('notes.jpg', 'shopping list: milk, eggs\n'), 'unsupported', /not an image/)
    expect(err.hint).toMatch(/JPEG, PNG/)
  })

  it('a JPEG cut in half', async () => {
    const jpeg = readFileSync(join(PHOTOS, readdirSync(PHOTOS)[0]))
    await expectDecodeError(save('half.jpg', jpeg.subarray(0, jpeg.length >> 1)), 'corrupt', /truncated or corrupt/)
  })

  it('a folder', async () => {
    await expectDecodeError(tmp.dir, 'not-a-file', /folder/)
  })

  it('an image over the pixel limit, without decoding it', async () => {
    // A PNG header claiming 20000 x 20000 (400 MP) over a few bytes of pixel data.
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
      const frame = Buffer.alloc(data.length + 12)
      frame.writeUInt32BE(data.length, 0)
      body.copy(frame, 4)
      frame.writeUInt32BE(crc32(body), data.length + 8)
      return frame
    }
    const header = Buffer.alloc(13)
    header.writeUInt32BE(20000, 0)
    header.writeUInt32BE(20000, 4)
    header.set([8, 2], 8) // 8 bits per sample, RGB
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(Buffer.alloc(100))),
      chunk('IEND', Buffer.alloc(0))
    ])
    await expectDecodeError(save('huge.png', png), 'too-large', /too large \(20000 x 20000 pixels, over the 268 megapixels limit\)/)
  })

  it.skipIf(process.getuid?.() === 0)('a file this user may not read', async () => {
    const path = save('secret.jpg', readFileSync(join(PHOTOS, readdirSync(PHOTOS)[0])))
    chmodSync(path, 0o000)
    await expectDecodeError(path, 'permission-denied', /permission denied/)
  })

  it('names in-memory input by its size', async () => {
    await expectDecodeError(Buffer.from('not an image'), 'unsupported', /\(12 bytes in memory\)/)
  })
})

function isNear(actual: Rgb, expected: Rgb): boolean {
  return actual.every((v, c) => Math.abs(v - expected[c]) <= 8)
}
