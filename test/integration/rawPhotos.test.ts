import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp, { type Sharp } from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MediaService } from '../../src/main/engine/api/media'
import { Engine } from '../../src/main/engine/engine'
import { decodePhoto } from '../../src/main/engine/image/decodePhoto'
import { isPhotoFileName, isRawFileName, RAW_EXTENSIONS } from '../../src/main/engine/image/photoFiles'
import { rawPhotoMetadata } from '../../src/main/engine/image/photoMetadata'
import { decodeToModelInput, decodeToRgb224, ImageDecodeError, MODEL_INPUT_SIZE } from '../../src/main/engine/image/preprocess'
import { readRawPhoto } from '../../src/main/engine/image/rawPhoto'
import { closeRawPreviewReader } from '../../src/main/engine/image/rawPreviewReader'
import { writeThumbnail } from '../../src/main/engine/image/thumbnails'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { RAW_MAIN_GREY, type TestRaw, writeTestRaw } from '../helpers/rawFiles'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

const tmp = tempDir('sdl-raw-photos-test-')
const exifTool = new ExifToolRunner()
const S = MODEL_INPUT_SIZE

type Rgb = [number, number, number]
const RED: Rgb = [255, 0, 0]
const GREEN: Rgb = [0, 255, 0]
const BLUE: Rgb = [0, 0, 255]
const YELLOW: Rgb = [255, 255, 0]

/** A width x height picture of four quadrants: top left red, top right green, bottom left blue, bottom right yellow. */
function quadrants(width: number, height: number): Sharp {
  const data = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([RED, GREEN, BLUE, YELLOW][(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)], (y * width + x) * 3)
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
}

/** The colour at the centre of each quadrant of S x S RGB pixels: top left, top right, bottom left, bottom right. */
function quadrantColours(pixels: Buffer): Rgb[] {
  return [0, 1, 2, 3].map((q) => {
    const i = (Math.floor((((q >> 1) * 2 + 1) * S) / 4) * S + Math.floor((((q % 2) * 2 + 1) * S) / 4)) * 3
    return [pixels[i], pixels[i + 1], pixels[i + 2]]
  })
}

function expectColours(actual: Rgb[], expected: Rgb[]): void {
  const off = Math.max(...actual.flatMap((rgb, q) => rgb.map((v, c) => Math.abs(v - expected[q][c]))))
  expect(off, `got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`).toBeLessThanOrEqual(12)
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}

/** This process's child processes, by /proc (Linux): pid and command name. */
function childProcesses(): Array<{ pid: number; name: string }> {
  const children: Array<{ pid: number; name: string }> = []
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === process.pid) children.push({ pid: Number(entry), name })
    } catch {
      // The process ended while being listed.
    }
  }
  return children
}

async function failure(promise: Promise<unknown>): Promise<ImageDecodeError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(ImageDecodeError)
  return err as ImageDecodeError
}

/** A real photo, 640 px wide: the preview the test RAWs embed. */
let preview: Buffer
const files: Record<string, string> = {}

async function raw(name: string, spec: Omit<TestRaw, 'preview'> & { preview?: Buffer }): Promise<string> {
  const path = await writeTestRaw(exifTool, join(tmp.dir, 'raws', name), { preview, ...spec })
  files[name] = path
  return path
}

beforeAll(async () => {
  mkdirSync(join(tmp.dir, 'raws'))
  preview = await sharp(join(COCO_DIR, '000000000009.jpg')).resize(640).jpeg({ quality: 90 }).toBuffer()
  writeFileSync(join(tmp.dir, 'preview.jpg'), preview)
  // The grey main image alone, as a reader that ignores the preview would see the RAW.
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: RAW_MAIN_GREY, g: RAW_MAIN_GREY, b: RAW_MAIN_GREY } } }).toFile(join(tmp.dir, 'grey.png'))
  await raw('photo.dng', { layout: 'dng', tags: ['-DateTimeOriginal=2023:06:01 08:15:00', '-OffsetTimeOriginal=+02:00'] })
  await raw('photo.nef', { layout: 'nef', tags: ['-DateTimeOriginal=2022:12:24 18:00:05'] })
  // Orientation 6 (turn 90 degrees clockwise to show); the preview's own EXIF says 3, which must not count.
  const turnedPreview = await quadrants(320, 240).jpeg({ quality: 95 }).withMetadata({ orientation: 3 }).toBuffer()
  await raw('turned.dng', { layout: 'dng', preview: turnedPreview, tags: ['-Orientation#=6'] })
  await raw('tiny.dng', { layout: 'dng', preview: await sharp(preview).resize(160).jpeg().toBuffer() })
  // A preview whose header is whole but whose image data stops half way.
  await raw('corrupt.nef', { layout: 'nef', preview: preview.subarray(0, preview.length >> 1) })
  const whole = readFileSync(files['photo.dng'])
  files['truncated.dng'] = join(tmp.dir, 'raws', 'truncated.dng')
  writeFileSync(files['truncated.dng'], whole.subarray(0, whole.length - 1000))
  files['text.cr2'] = join(tmp.dir, 'raws', 'text.cr2')
  writeFileSync(files['text.cr2'], 'not a raw file\n')
  await exifTool.close()
}, 120_000)

afterAll(async () => {
  await closeRawPreviewReader()
  tmp.cleanup()
})

describe('file names', () => {
  it('knows the RAW extensions, in any case, as photos', () => {
    for (const ext of ['cr2', 'cr3', 'crw', 'nef', 'nrw', 'arw', 'sr2', 'srf', 'raf', 'orf', 'rw2', 'rwl', 'pef', 'dng', '3fr', 'iiq', 'srw', 'x3f', 'erf', 'mrw', 'kdc', 'mos']) {
      expect(RAW_EXTENSIONS).toContain(ext)
      expect(isPhotoFileName(`IMG_0001.${ext.toUpperCase()}`)).toBe(true)
      expect(isRawFileName(`/photos/2024/IMG_0001.${ext}`)).toBe(true)
    }
    expect(isRawFileName('/photos/IMG_0001.jpg')).toBe(false)
    expect(isRawFileName('/photos.nef/IMG_0001')).toBe(false)
  })
})

describe('a RAW is read through its embedded preview', () => {
  it('decodes to exactly the preview JPEG, not the grey main image (DNG PreviewImage, NEF JpgFromRaw)', async () => {
    const fromPreview = await decodeToRgb224(preview)
    for (const name of ['photo.dng', 'photo.nef']) expect((await decodeToRgb224(files[name])).equals(fromPreview), name).toBe(true)
    // What the files' main image holds, to be sure the test tells the two apart.
    expect((await sharp(files['photo.dng']).stats()).channels.map((c) => c.mean)).toEqual([RAW_MAIN_GREY, RAW_MAIN_GREY, RAW_MAIN_GREY])
  })

  it('embeds like the preview JPEG itself, and unlike the grey main image', async () => {
    const dataDir = join(tmp.dir, 'embed-data')
    const engine = new Engine({ dataDir, executionProvider: 'cpu' })
    try {
      await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
      const results = []
      for await (const r of engine.embed([files['photo.dng'], files['photo.nef'], join(tmp.dir, 'preview.jpg'), join(tmp.dir, 'grey.png')])) results.push(r)
      const [dng, nef, jpeg, grey] = results.map((r) => ('output' in r ? r.output : null))
      expect(cosine(dng!, jpeg!)).toBeGreaterThan(0.9999)
      expect(cosine(nef!, jpeg!)).toBeGreaterThan(0.9999)
      expect(cosine(dng!, grey!)).toBeLessThan(0.9)
    } finally {
      await engine.close()
    }
  })

  it('turns it upright by the RAW’s orientation, not the preview’s own', async () => {
    // Stored TL red, TR green, BL blue, BR yellow; turned 90 degrees clockwise to show.
    expectColours(quadrantColours(await decodeToRgb224(files['turned.dng'])), [BLUE, RED, YELLOW, GREEN])
    const details = rawPhotoMetadata(await readRawPhoto(files['turned.dng']), files['turned.dng'])
    expect(details).toMatchObject({ orientation: 6, width: 240, height: 320 })
  })

  it('has the RAW’s own metadata: its type, size, capture date and camera', async () => {
    const dng = await decodePhoto(files['photo.dng'])
    expect(dng.details).toEqual({ format: 'dng', width: 320, height: 240, orientation: 1, takenAt: '2023-06-01T08:15:00+02:00', camera: 'Canon EOS R5' })
    expect(dng.pixels).toEqual(await decodeToModelInput(preview))
    const nef = await decodePhoto(files['photo.nef'])
    expect(nef.details).toMatchObject({ format: 'nef', takenAt: '2022-12-24T18:00:05', camera: 'NIKON D750' })
  })

  it('makes thumbnails from the preview, upright', async () => {
    const dest = join(tmp.dir, 'thumb.webp')
    expect(await writeThumbnail(readFileSync(files['photo.dng']), dest, { source: files['photo.dng'] })).toEqual({ width: 320, height: 240 })
    const thumb = await sharp(dest).stats()
    expect(Math.max(...thumb.channels.map((c) => c.stdev))).toBeGreaterThan(20)
    expect(await writeThumbnail(readFileSync(files['turned.dng']), dest, { source: files['turned.dng'] })).toEqual({ width: 240, height: 320 })
  })

  it('reads many at once, each its own', async () => {
    const names = ['photo.dng', 'photo.nef', 'turned.dng', 'photo.dng', 'photo.nef', 'turned.dng', 'photo.dng', 'photo.nef', 'turned.dng', 'photo.dng']
    const all = await Promise.all(names.map((name) => readRawPhoto(files[name])))
    all.forEach((r, i) => expect(r.facts.FileType, names[i]).toBe(names[i].endsWith('.nef') ? 'NEF' : 'DNG'))
    expect(all[0].jpeg.equals(all[3].jpeg)).toBe(true)
    expect(all[2].previewSize).toEqual({ width: 320, height: 240 })
  })
})

describe('a RAW without a usable preview is an error naming it, with the reason', () => {
  const readers: Array<[string, (path: string) => Promise<unknown>]> = [
    ['decode', (path) => decodeToRgb224(path)],
    ['index', (path) => decodePhoto(path)],
    ['thumbnail', (path) => writeThumbnail(readFileSync(path), join(tmp.dir, 'failed.webp'), { source: path })]
  ]

  async function expectAll(name: string, reason: string, why: RegExp): Promise<void> {
    for (const [reader, read] of readers) {
      const err = await failure(read(files[name]))
      expect(err.reason, reader).toBe(reason)
      expect(err.message, reader).toContain(`"${files[name]}"`)
      expect(err.why, reader).toMatch(why)
    }
  }

  it('a preview too small for the model', async () => {
    await expectAll('tiny.dng', 'unsupported', /^it has no embedded preview of at least 224 px \(the largest is 160 x 120 px\)$/)
  })

  it('a damaged preview', async () => {
    await expectAll('corrupt.nef', 'corrupt', /^its embedded preview is damaged: the image is truncated or corrupt/)
  })

  it('a truncated RAW', async () => {
    await expectAll('truncated.dng', 'corrupt', /^the RAW file is truncated \(IFD0:StripOffsets\+StripByteCounts runs past end of file\)$/)
  })

  it('a text file named .cr2', async () => {
    await expectAll('text.cr2', 'unsupported', /^not a camera RAW file \(ExifTool reads it as TXT\)$/)
  })

  it('a missing file', async () => {
    const err = await failure(decodeToRgb224(join(tmp.dir, 'raws', 'gone.nef')))
    expect(err.reason).toBe('not-found')
  })
})

describe('a library with RAWs and JPEGs, from the command line', () => {
  const dataDir = join(tmp.dir, 'cli-data')
  const folder = join(tmp.dir, 'Library')
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])

  beforeAll(async () => {
    mkdirSync(join(folder, 'raw'), { recursive: true })
    for (const name of ['photo.dng', 'photo.nef', 'turned.dng', 'tiny.dng', 'corrupt.nef', 'truncated.dng']) copyFileSync(files[name], join(folder, 'raw', name.toUpperCase()))
    copyFileSync(join(tmp.dir, 'preview.jpg'), join(folder, 'preview.jpg'))
    copyFileSync(join(COCO_DIR, '000000000025.jpg'), join(folder, 'other.jpg'))
    expect((await cli('model', 'add', CONSE_ONNX, '--name', 'conse')).code).toBe(0)
    expect((await cli('folders', 'add', folder)).code).toBe(0)
  }, 120_000)

  it('indexes the RAWs in the index worker, lists the unreadable ones with their reasons, and finds them', async () => {
    const index = await cli('--json', 'index')
    expect(index.code).toBe(1)
    expect(JSON.parse(index.stdout)).toMatchObject({ seen: 8, indexed: 5, failed: 3 })

    const status = JSON.parse((await cli('--json', 'status')).stdout)
    expect(status).toMatchObject({ photos: 8, indexed: 5 })
    const reasons = Object.fromEntries(status.errors.map((e: { path: string; reason: string }) => [e.path, e.reason]))
    expect(reasons).toEqual({
      [join(folder, 'raw', 'TINY.DNG')]: expect.stringMatching(/^it has no embedded preview of at least 224 px/),
      [join(folder, 'raw', 'CORRUPT.NEF')]: expect.stringMatching(/^its embedded preview is damaged: /),
      [join(folder, 'raw', 'TRUNCATED.DNG')]: expect.stringMatching(/^the RAW file is truncated/)
    })

    // The RAWs and the preview JPEG they embed rank together, with the same score.
    const search = await cli('--json', 'search', 'giraffe', '--all')
    expect(search.code).toBe(0)
    const hits = JSON.parse(search.stdout) as Array<{ path: string; score: number }>
    const score = (name: string) => hits.find((h) => h.path === join(folder, name))?.score
    expect(score('raw/PHOTO.DNG')).toBeCloseTo(score('preview.jpg')!, 3)
    expect(score('raw/PHOTO.NEF')).toBeCloseTo(score('preview.jpg')!, 3)
    expect(hits.map((h) => h.path)).toContain(join(folder, 'raw', 'TURNED.DNG'))
  }, 120_000)

  it.runIf(process.platform === 'linux')('leaves no ExifTool running once the engines that read RAWs are closed, the index worker’s included', async () => {
    // This thread's reader (used by the tests above), closed as an engine closes it; the index
    // worker's was closed by the worker's own engine when the CLI run ended.
    await closeRawPreviewReader()
    expect(childProcesses().filter((p) => p.name === 'perl')).toEqual([])
  })

  it('shows the photo view a JPEG of the RAW’s preview, upright', async () => {
    const engine = new Engine({ dataDir, executionProvider: 'cpu' })
    try {
      const { catalog, photos } = await engine.repositories()
      // Fingerprinted as a whole, like every photo: a RAW's content is its file, not its preview.
      const dng = readFileSync(join(folder, 'raw', 'PHOTO.DNG'))
      expect(photos.photoByPath(join(folder, 'raw', 'PHOTO.DNG'))).toMatchObject({ size: dng.length, fingerprint: createHash('sha256').update(dng).digest('hex') })
      const ids = catalog.idsByPath([join(folder, 'raw', 'TURNED.DNG')])
      const media = new MediaService(engine)
      const served = await media.resolve({ kind: 'photo', id: ids.get(join(folder, 'raw', 'TURNED.DNG'))! })
      expect(served.contentType).toBe('image/jpeg')
      expect('data' in served && (await sharp(served.data).metadata())).toMatchObject({ format: 'jpeg', width: 240, height: 320 })
      const thumb = await media.resolve({ kind: 'thumb', id: ids.get(join(folder, 'raw', 'TURNED.DNG'))! })
      expect('file' in thumb && (await sharp(thumb.file).metadata())).toMatchObject({ format: 'webp', width: 240, height: 320 })
    } finally {
      await engine.close()
    }
  })
})
