import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import sharp, { type Sharp } from 'sharp'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { isIgnoredEntryName, isPhotoFileName, PHOTO_EXTENSIONS, RAW_EXTENSIONS } from '../../src/main/engine/image/photoFiles'
import { readPhotoMetadata } from '../../src/main/engine/image/photoMetadata'
import { decodeToModelInput, decodeToRgb224, ImageDecodeError, MODEL_INPUT_SIZE, type ImageDecodeReason } from '../../src/main/engine/image/preprocess'
import { writeThumbnail } from '../../src/main/engine/image/thumbnails'
import { tempDir } from '../helpers/sharedData'

const S = MODEL_INPUT_SIZE
const tmp = tempDir('sdl-photo-formats-test-')
afterAll(tmp.cleanup)

/** 64 x 48, quadrants red, green / blue, yellow, EXIF Apple iPhone 13 (see test/fixtures/README.md). */
const HEIC = readFileSync(fileURLToPath(new URL('../fixtures/quadrants.heic', import.meta.url)))

type Rgb = [number, number, number]
const RED: Rgb = [255, 0, 0]
const GREEN: Rgb = [0, 255, 0]
const BLUE: Rgb = [0, 0, 255]
const YELLOW: Rgb = [255, 255, 0]
const WHITE: Rgb = [255, 255, 255]
/** Top left, top right, bottom left, bottom right: the layout of the HEIC fixture. */
const UPRIGHT: Rgb[] = [RED, GREEN, BLUE, YELLOW]

/** A width x height picture of four coloured quadrants; `transparent` (a quadrant index) gets alpha 0. */
function quadrants(width = 64, height = 48, transparent?: number): Sharp {
  const channels = transparent === undefined ? 3 : 4
  const data = Buffer.alloc(width * height * channels)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)
      const pixel = channels === 3 ? UPRIGHT[q] : [...UPRIGHT[q], q === transparent ? 0 : 255]
      data.set(pixel, (y * width + x) * channels)
    }
  }
  return sharp(data, { raw: { width, height, channels } })
}

/** The colour at the centre of each quadrant of interleaved pixels, in the order of UPRIGHT. */
function quadrantColours(pixels: Buffer, width: number, height: number, channels = 3): Rgb[] {
  return [0, 1, 2, 3].map((q) => {
    const x = Math.floor(((q % 2) * 2 + 1) * (width / 4))
    const y = Math.floor(((q >> 1) * 2 + 1) * (height / 4))
    const i = (y * width + x) * channels
    return [pixels[i], pixels[i + 1], pixels[i + 2]]
  })
}

async function decodedQuadrants(input: string | Buffer): Promise<Rgb[]> {
  return quadrantColours(await decodeToRgb224(input), S, S)
}

function expectColours(actual: Rgb[], expected: Rgb[], tolerance: number): void {
  const off = actual.map((rgb, q) => Math.max(...rgb.map((v, c) => Math.abs(v - expected[q][c]))))
  expect(
    off.every((d) => d <= tolerance),
    `got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`
  ).toBe(true)
}

function save(name: string, bytes: Buffer | string): string {
  const path = join(tmp.dir, name)
  writeFileSync(path, bytes)
  return path
}

/** A fresh folder for tests that look at what else a call leaves behind. */
function freshDir(name: string): string {
  const dir = join(tmp.dir, name)
  mkdirSync(dir)
  return dir
}

describe('every format decodes to the right picture', () => {
  // Tolerances: 0 for lossless formats (the quadrant centres are far from any edge), else what
  // the codec's chroma subsampling and quantisation leave at flat colour.
  const cases: [string, string, () => Promise<Buffer>, number][] = [
    ['PNG', 'png', () => quadrants().png().toBuffer(), 0],
    ['16-bit PNG', 'png', () => quadrants().toColourspace('rgb16').png().toBuffer(), 0],
    ['palette PNG', 'png', () => quadrants().png({ palette: true }).toBuffer(), 0],
    ['JPEG', 'jpeg', () => quadrants().jpeg({ quality: 90 }).toBuffer(), 8],
    ['WebP', 'webp', () => quadrants().webp({ quality: 90 }).toBuffer(), 8],
    ['AVIF', 'avif', () => quadrants().avif({ quality: 70 }).toBuffer(), 12],
    // sharp writes JPEG-compressed TIFF by default; photos and scans mostly come LZW-compressed.
    ['TIFF', 'tiff', () => quadrants().tiff({ compression: 'lzw' }).toBuffer(), 0],
    ['GIF', 'gif', () => quadrants().gif().toBuffer(), 0],
    ['HEIC', 'heic', async () => HEIC, 12]
  ]

  it.each(cases)('%s', async (_name, format, encode, tolerance) => {
    const bytes = await encode()
    const path = save(`quadrants-${_name.replace(/\W/g, '')}.${format}`, bytes)
    expectColours(await decodedQuadrants(path), UPRIGHT, tolerance)
    expect(await readPhotoMetadata(bytes, path)).toMatchObject({ format, width: 64, height: 48 })
  })

  it('checks that the 16-bit and palette PNGs really are', async () => {
    expect((await sharp(await quadrants().toColourspace('rgb16').png().toBuffer()).metadata()).depth).toBe('ushort')
    expect((await sharp(await quadrants().png({ palette: true }).toBuffer()).metadata()).isPalette).toBe(true)
  })

  it('PNG with alpha: transparent pixels come out white', async () => {
    const png = await quadrants(64, 48, 3).png().toBuffer()
    expectColours(await decodedQuadrants(png), [RED, GREEN, BLUE, WHITE], 0)
  })

  it('animated GIF: the first frame, not the frames stacked', async () => {
    const frame = (colour: string) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: colour } })
        .png()
        .toBuffer()
    const gif = await sharp([await frame('red'), await frame('blue')], { join: { animated: true } })
      .gif()
      .toBuffer()
    expect((await sharp(gif).metadata()).pages).toBe(2)
    expectColours(await decodedQuadrants(gif), [RED, RED, RED, RED], 0)
    expect(await readPhotoMetadata(gif, 'animated.gif')).toMatchObject({ format: 'gif', width: 40, height: 30 })
    expect(await writeThumbnail(gif, join(tmp.dir, 'animated.webp'))).toEqual({ width: 40, height: 30 })
  })

  it('CMYK JPEG: converted to RGB, colours recognisable', async () => {
    const jpeg = await quadrants().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer()
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk')
    const [red, green, blue, yellow] = await decodedQuadrants(jpeg)
    // Through a print profile: red 232,0,0; sRGB green is out of the press's gamut and comes
    // back 191,207,0; blue 28,60,139; yellow 253,237,0.
    expect(red[0]).toBeGreaterThan(200)
    expect(Math.max(red[1], red[2])).toBeLessThan(40)
    expect(green[1]).toBeGreaterThan(Math.max(green[0], green[2]))
    expect(blue[2]).toBeGreaterThan(2 * Math.max(blue[0], blue[1]))
    expect(Math.min(yellow[0], yellow[1])).toBeGreaterThan(200)
    expect(yellow[2]).toBeLessThan(40)
  })

  describe('EXIF-rotated JPEG comes out as displayed', () => {
    // Stored upright quadrants, viewed after the rotation each orientation asks for.
    const cases: [number, Rgb[]][] = [
      [3, [YELLOW, BLUE, GREEN, RED]], // 180 degrees
      [6, [BLUE, RED, YELLOW, GREEN]], // 90 degrees clockwise
      [8, [GREEN, YELLOW, RED, BLUE]] // 90 degrees anticlockwise
    ]
    it.each(cases)('orientation %i', async (orientation, viewed) => {
      const jpeg = await quadrants().jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer()
      expectColours(await decodedQuadrants(jpeg), viewed, 8)
    })
  })
})

describe('HEIC', () => {
  it('decodes to float model input from a path', async () => {
    const input = await decodeToModelInput(save('model-input.heic', HEIC))
    expect(input.length).toBe(3 * S * S)
    // Red plane: 1 in the top-left quadrant, 0 in the top-right (green) one.
    expect(input[56 * S + 56]).toBeGreaterThan(0.95)
    expect(input[56 * S + 168]).toBeLessThan(0.05)
  })

  it('reads the metadata from the header and EXIF', async () => {
    expect(await readPhotoMetadata(HEIC, 'quadrants.heic')).toEqual({
      format: 'heic',
      width: 64,
      height: 48,
      // HEIF rotates with its own boxes, which libheif applies; EXIF orientation does not count.
      orientation: null,
      takenAt: '2024-07-14T09:30:05+02:00',
      camera: 'Apple iPhone 13'
    })
  })

  /** The fixture with its ftyp brands (major, then the compatible ones) replaced. */
  function withBrands(major: string, compatible: string[]): Buffer {
    const bytes = Buffer.from(HEIC)
    expect(bytes.toString('latin1', 4, 8)).toBe('ftyp')
    expect(bytes.readUInt32BE(0)).toBe(16 + 4 * compatible.length)
    bytes.write(major, 8, 'latin1')
    compatible.forEach((brand, i) => bytes.write(brand, 16 + 4 * i, 'latin1'))
    return bytes
  }

  it('decodes an HEVC image whose brands do not say HEVC, when sharp finds it cannot', async () => {
    const plain = withBrands('mif1', ['mif1', 'miaf', 'MiHE'])
    await expect(sharp(plain).raw().toBuffer()).rejects.toThrow(/HEVC/)
    expectColours(await decodedQuadrants(plain), UPRIGHT, 12)
  })

  it('decodes a major brand heic-decode does not know', async () => {
    expectColours(await decodedQuadrants(withBrands('heim', ['mif1', 'heic', 'miaf'])), UPRIGHT, 12)
  })

  it('a truncated HEIC is corrupt, named, with libheif’s reason, and nothing printed', async () => {
    const log = vi.spyOn(console, 'log')
    try {
      const path = save('cut.heic', HEIC.subarray(0, 600))
      const err = await failure(decodeToRgb224(path))
      expect(err.reason).toBe('corrupt')
      expect(err.message).toContain(path)
      expect(err.why).toMatch(/truncated or corrupt \(.*HEIF.*end of file/)
      // libheif-js prints its reasons with console.log, which would corrupt the CLI's --json output.
      expect(log).not.toHaveBeenCalled()
      const header = await failure(readPhotoMetadata(readFileSync(path), path))
      expect(header.reason).toBe('corrupt')
      expect(header.why).toMatch(/^the image is truncated or corrupt \(Input buffer has corrupt header; heif: .*end of file/)
      expect(header.why).not.toMatch(/bad seek/)
    } finally {
      log.mockRestore()
    }
  })

  it('decodes many asked for at once, the bad one failing alone', async () => {
    const good = Array.from({ length: 4 }, () => decodedQuadrants(HEIC))
    const bad = failure(decodeToRgb224(HEIC.subarray(0, 600)))
    for (const colours of await Promise.all(good)) expectColours(colours, UPRIGHT, 12)
    expect((await bad).reason).toBe('corrupt')
  })
})

describe('metadata', () => {
  const jpegWith = (exif: Parameters<Sharp['withExif']>[0]) => quadrants().jpeg().withExif(exif).toBuffer()

  it('takenAt from DateTimeOriginal, in local time without an invented zone; camera from Make + Model', async () => {
    const jpeg = await jpegWith({ IFD0: { Make: 'Apple', Model: 'iPhone 13' }, IFD2: { DateTimeOriginal: '2024:07:14 09:30:05' } })
    expect(await readPhotoMetadata(jpeg, 'a.jpg')).toEqual({
      format: 'jpeg',
      width: 64,
      height: 48,
      // libvips writes orientation 1 into any EXIF block it creates.
      orientation: 1,
      takenAt: '2024-07-14T09:30:05',
      camera: 'Apple iPhone 13'
    })
  })

  it('takenAt carries OffsetTimeOriginal where present', async () => {
    const jpeg = await jpegWith({ IFD2: { DateTimeOriginal: '2023:12:31 23:59:59', OffsetTimeOriginal: '-05:00' } })
    expect((await readPhotoMetadata(jpeg, 'a.jpg')).takenAt).toBe('2023-12-31T23:59:59-05:00')
  })

  it('takenAt falls back to DateTimeDigitized (CreateDate), then DateTime, skipping unset dates', async () => {
    const digitized = await jpegWith({
      IFD0: { DateTime: '2020:01:02 03:04:05' },
      IFD2: { DateTimeOriginal: '0000:00:00 00:00:00', DateTimeDigitized: '2021:02:03 04:05:06', OffsetTimeDigitized: '+09:00' }
    })
    expect((await readPhotoMetadata(digitized, 'a.jpg')).takenAt).toBe('2021-02-03T04:05:06+09:00')
    const modified = await jpegWith({ IFD0: { DateTime: '2020:01:02 03:04:05' } })
    expect((await readPhotoMetadata(modified, 'a.jpg')).takenAt).toBe('2020-01-02T03:04:05')
    const unset = await jpegWith({ IFD2: { DateTimeOriginal: '0000:00:00 00:00:00' } })
    expect((await readPhotoMetadata(unset, 'a.jpg')).takenAt).toBeNull()
  })

  it.each([
    ['Canon', 'Canon EOS R5', 'Canon EOS R5'],
    ['NIKON CORPORATION  ', 'NIKON D750', 'NIKON D750'],
    ['  SONY ', ' ILCE-7M3  ', 'SONY ILCE-7M3'],
    ['samsung', 'SM-G991B', 'samsung SM-G991B'],
    ['FUJIFILM', undefined, 'FUJIFILM'],
    [undefined, 'DMC-GX80', 'DMC-GX80']
  ])('camera from Make %j + Model %j is %j', async (Make, Model, camera) => {
    const IFD0 = { ...(Make && { Make }), ...(Model && { Model }) }
    expect((await readPhotoMetadata(await jpegWith({ IFD0 }), 'a.jpg')).camera).toBe(camera)
  })

  it('is all null where the photo has no EXIF', async () => {
    expect(await readPhotoMetadata(await quadrants().png().toBuffer(), 'a.png')).toEqual({
      format: 'png',
      width: 64,
      height: 48,
      orientation: null,
      takenAt: null,
      camera: null
    })
  })

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('width and height as displayed, orientation %i', async (orientation) => {
    const jpeg = await quadrants().jpeg().withMetadata({ orientation }).toBuffer()
    const turned = orientation >= 5
    expect(await readPhotoMetadata(jpeg, 'a.jpg')).toMatchObject({ orientation, width: turned ? 48 : 64, height: turned ? 64 : 48 })
  })
})

describe('file names', () => {
  it('knows the photo extensions in any case', () => {
    // Camera RAWs: rawPhotos.test.ts.
    expect(PHOTO_EXTENSIONS.filter((ext) => !RAW_EXTENSIONS.includes(ext)).sort()).toEqual(['avif', 'gif', 'heic', 'heif', 'jpe', 'jpeg', 'jpg', 'png', 'tif', 'tiff', 'webp'])
    for (const name of ['a.jpg', 'B.JPEG', 'c.Jpe', 'd.png', 'e.webp', 'f.AVIF', 'g.tif', 'h.TIFF', 'i.gif', 'IMG_0001.HEIC', 'j.heif', 'x.y.z.jpg']) {
      expect(isPhotoFileName(name), name).toBe(true)
    }
    for (const name of ['a.xmp', 'b.jpg.xmp', 'IMG_0001.AAE', 'c.mov', 'd.txt', 'jpg', '.jpg', 'e.jpg~', 'f.jpgx', 'Thumbs.db']) {
      expect(isPhotoFileName(name), name).toBe(false)
    }
  })

  it('ignores hidden entries, system files and folders, and XMP sidecars', () => {
    const ignored = [
      '.DS_Store',
      '._IMG_0001.jpg',
      '.Trashes',
      '.Spotlight-V100',
      '.thumbnails',
      'Thumbs.db',
      'thumbs.db',
      'desktop.ini',
      'Desktop.ini',
      '@eaDir',
      '#recycle',
      '$RECYCLE.BIN',
      'System Volume Information',
      'lost+found',
      'IMG_0001.xmp',
      'IMG_0001.JPG.XMP'
    ]
    for (const name of ignored) expect(isIgnoredEntryName(name), name).toBe(true)
    for (const name of ['IMG_0001.JPG', 'Holidays 2024', 'thumbs', 'eaDir', 'recycle', 'Photos.photoslibrary', 'Été 🌞']) {
      expect(isIgnoredEntryName(name), name).toBe(false)
    }
  })
})

describe('thumbnails', () => {
  it('are WebP, longest side 320 by default', async () => {
    const dest = join(tmp.dir, 'big.webp')
    expect(await writeThumbnail(await quadrants(1000, 600).jpeg().toBuffer(), dest)).toEqual({ width: 320, height: 192 })
    const meta = await sharp(dest).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 192])
  })

  it('take the size asked for, and never enlarge', async () => {
    const png = await quadrants().png().toBuffer()
    expect(await writeThumbnail(png, join(tmp.dir, 'small.webp'), { size: 32 })).toEqual({ width: 32, height: 24 })
    expect(await writeThumbnail(png, join(tmp.dir, 'same.webp'), { size: 500 })).toEqual({ width: 64, height: 48 })
  })

  it('are upright', async () => {
    const jpeg = await quadrants().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer()
    const dest = join(tmp.dir, 'upright.webp')
    expect(await writeThumbnail(jpeg, dest)).toEqual({ width: 48, height: 64 })
    const { data, info } = await sharp(dest).raw().toBuffer({ resolveWithObject: true })
    expectColours(quadrantColours(data, info.width, info.height, info.channels), [BLUE, RED, YELLOW, GREEN], 12)
  })

  it('of a HEIC', async () => {
    const dest = join(tmp.dir, 'heic.webp')
    expect(await writeThumbnail(HEIC, dest, { size: 32 })).toEqual({ width: 32, height: 24 })
    const { data, info } = await sharp(dest).raw().toBuffer({ resolveWithObject: true })
    expectColours(quadrantColours(data, info.width, info.height, info.channels), UPRIGHT, 16)
  })

  it('replace the file in one step and leave nothing else behind', async () => {
    const dir = freshDir('atomic')
    const dest = join(dir, 'thumb.webp')
    writeFileSync(dest, 'an older thumbnail')
    const png = await quadrants().png().toBuffer()
    // Concurrent writers of one thumbnail each rename a whole file over it.
    await Promise.all([writeThumbnail(png, dest), writeThumbnail(png, dest, { size: 16 }), writeThumbnail(png, dest)])
    expect(readdirSync(dir)).toEqual(['thumb.webp'])
    expect((await sharp(dest).metadata()).format).toBe('webp')
  })

  it('leave the previous thumbnail in place when the photo cannot be read', async () => {
    const dir = freshDir('failed')
    const dest = join(dir, 'thumb.webp')
    writeFileSync(dest, 'the previous thumbnail')
    const err = await failure(writeThumbnail(Buffer.from('not a photo'), dest, { source: '/photos/notes.jpg' }))
    expect(err.reason).toBe('unsupported')
    expect(err.message).toContain('"/photos/notes.jpg"')
    expect(readdirSync(dir)).toEqual(['thumb.webp'])
    expect(readFileSync(dest, 'utf8')).toBe('the previous thumbnail')
  })

  it('report a destination that cannot be written as the file system error, cleaning up', async () => {
    const dir = freshDir('unwritable')
    mkdirSync(join(dir, 'thumb.webp'))
    await expect(writeThumbnail(await quadrants().png().toBuffer(), join(dir, 'thumb.webp'))).rejects.toMatchObject({ code: 'EISDIR' })
    expect(readdirSync(dir)).toEqual(['thumb.webp'])
  })
})

describe('hostile input gives ImageDecodeError with a plain reason', () => {
  /** Each way a photo gets read: decoding from its path, its metadata, its thumbnail. */
  const readers: [string, (path: string) => Promise<unknown>][] = [
    ['decode', (path) => decodeToRgb224(path)],
    ['metadata', (path) => readPhotoMetadata(readFileSync(path), path)],
    ['thumbnail', (path) => writeThumbnail(readFileSync(path), join(tmp.dir, 'hostile.webp'), { source: path })]
  ]

  async function expectAll(path: string, reason: ImageDecodeReason, why: RegExp, only = readers): Promise<void> {
    for (const [, read] of only) {
      const err = await failure(read(path))
      expect(err.reason).toBe(reason)
      expect(err.message).toContain(`"${path}"`)
      expect(err.why).toMatch(why)
    }
  }

  it('a zero-byte file', async () => {
    await expectAll(save('empty.jpg', ''), 'empty', /^the file is empty \(0 bytes\)$/)
  })

  it('a truncated JPEG (its metadata, from the intact header, still reads)', async () => {
    const noise = Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 2654435761) >>> 24))
    const jpeg = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } })
      .jpeg()
      .toBuffer()
    const path = save('truncated.jpg', jpeg.subarray(0, jpeg.length >> 1))
    await expectAll(path, 'corrupt', /^the image is truncated or corrupt/, [readers[0], readers[2]])
    expect(await readPhotoMetadata(readFileSync(path), path)).toMatchObject({ format: 'jpeg', width: 256, height: 256 })
  })

  it('a text file named .jpg', async () => {
    await expectAll(save('shopping.jpg', 'milk, eggs, bread\n'), 'unsupported', /^not an image/)
  })

  // libvips' PNG loader stops at the garbage before it allocates anything, so this is 'corrupt';
  // preprocess.test.ts has a well-formed PNG over the pixel limit, which is 'too-large'.
  it('a PNG whose header claims 30000 x 30000 pixels, then garbage', async () => {
    const ihdr = Buffer.alloc(13)
    ihdr.writeUInt32BE(30000, 0)
    ihdr.writeUInt32BE(30000, 4)
    ihdr.set([8, 2], 8) // 8 bits per sample, RGB
    const body = Buffer.concat([Buffer.from('IHDR', 'latin1'), ihdr])
    const chunk = Buffer.alloc(body.length + 8)
    chunk.writeUInt32BE(ihdr.length, 0)
    body.copy(chunk, 4)
    chunk.writeUInt32BE(crc32(body), body.length + 4)
    const garbage = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 255))
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk, garbage])
    await expectAll(save('huge.png', png), 'corrupt', /^the image is truncated or corrupt \(Input buffer has corrupt header\)$/)
  })

  it('a symbolic link loop', async () => {
    const path = join(tmp.dir, 'loop.jpg')
    symlinkSync(path, path)
    const err = await failure(decodeToRgb224(path))
    expect(err.reason).toBe('unreadable')
    expect(err.why).toMatch(/symbolic link loop/)
  })

  it('a file deleted before it is read', async () => {
    const path = save('deleted.jpg', await quadrants().jpeg().toBuffer())
    rmSync(path)
    const err = await failure(decodeToRgb224(path))
    expect(err.reason).toBe('not-found')
    expect(err.message).toContain(path)
  })
})

describe('file names with spaces, accents, CJK and emoji', () => {
  const names = ['holiday photo 1.jpg', 'Café crème – été.JPG', '東京タワー 夜景.heic', '🎉 party 🥳.png', 'Ünïcödé ñ 한국어 😀.webp']

  it.each(names)('%s', async (name) => {
    expect(isPhotoFileName(name)).toBe(true)
    const dir = freshDir(`names-${names.indexOf(name)}`)
    const bytes = name.endsWith('.heic')
      ? HEIC
      : await quadrants()
          .toFormat(name.endsWith('.png') ? 'png' : name.endsWith('.webp') ? 'webp' : 'jpeg')
          .toBuffer()
    const path = join(dir, name)
    writeFileSync(path, bytes)
    expectColours(await decodedQuadrants(path), UPRIGHT, 12)
    expect(await readPhotoMetadata(readFileSync(path), path)).toMatchObject({ width: 64, height: 48 })
    expect(await writeThumbnail(readFileSync(path), join(dir, `${name}.webp`), { source: path })).toEqual({ width: 64, height: 48 })
    expect(readdirSync(dir).sort()).toEqual([name, `${name}.webp`].sort())
  })
})

async function failure(promise: Promise<unknown>): Promise<ImageDecodeError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(ImageDecodeError)
  return err as ImageDecodeError
}
