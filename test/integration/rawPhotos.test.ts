import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import sharp, { type Sharp } from 'sharp'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MediaService } from '../../src/main/engine/api/media'
import { Engine } from '../../src/main/engine/engine'
import { decodePhoto } from '../../src/main/engine/image/decodePhoto'
import { isPhotoFileName, isRawFileName, RAW_EXTENSIONS } from '../../src/main/engine/image/photoFiles'
import { rawPhotoMetadata } from '../../src/main/engine/image/photoMetadata'
import { decodeToModelInput, decodeToRgb224, ImageDecodeError, MODEL_INPUT_SIZE } from '../../src/main/engine/image/preprocess'
import { readRawPhoto } from '../../src/main/engine/image/rawPhoto'
import { closeRawPreviewReader } from '../../src/main/engine/image/rawPreviewReader'
import { writeThumbnail } from '../../src/main/engine/image/thumbnails'
import type { Library } from '../../src/main/engine/library/library'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { RAW_MAIN_GREY, type TestRaw, writeTestRaw } from '../helpers/rawFiles'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'
import { cosine } from '../helpers/vectorMath'

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

/** A camera RAW's fingerprint as fileFingerprint.ts defines it: SHA-256 over the size, the first MiB and the last MiB (all of a file under 2 MiB). */
function sampledFingerprint(bytes: Buffer): string {
  const head = Math.min(bytes.length, MIB)
  const ends = Buffer.concat([bytes.subarray(0, head), bytes.subarray(Math.max(head, bytes.length - MIB))])
  return 'raw1:' + createHash('sha256').update(`${bytes.length}:`).update(ends).digest('hex')
}
const MIB = 1 << 20

const wholeFileHash = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

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
  // Over 2 MiB, so that its fingerprint samples its ends instead of reading it all.
  await raw('big.dng', { layout: 'dng', main: { width: 1000, height: 1000 }, tags: ['-DateTimeOriginal=2024:02:03 10:20:30'] })
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
      // A RAW's content is its file, not its preview: this one is under 2 MiB, so its fingerprint covers all of it.
      const dng = readFileSync(join(folder, 'raw', 'PHOTO.DNG'))
      expect(dng.length).toBeLessThan(2 * MIB)
      expect(photos.photoByPath(join(folder, 'raw', 'PHOTO.DNG'))).toMatchObject({ size: dng.length, fingerprint: sampledFingerprint(dng) })
      const ids = catalog.idsByPath([join(folder, 'raw', 'TURNED.DNG')])
      const media = new MediaService(engine)
      const served = await media.resolve({ kind: 'photo', id: ids.get(join(folder, 'raw', 'TURNED.DNG'))! })
      expect(served.contentType).toBe('image/jpeg')
      expect('data' in served && (await sharp(served.data).metadata())).toMatchObject({ format: 'jpeg', width: 240, height: 320 })
      const thumb = await media.resolve({ kind: 'thumb', id: ids.get(join(folder, 'raw', 'TURNED.DNG'))! })
      expect('file' in thumb && (await sharp(thumb.file).metadata())).toMatchObject({ format: 'webp', width: 240, height: 320 })
      // Named by the fingerprint without its colon, which no file name on Windows may hold.
      expect('file' in thumb && basename(thumb.file)).toMatch(/^raw1-[0-9a-f]{64}\.webp$/)
    } finally {
      await engine.close()
    }
  })
})

/**
 * A RAW is fingerprinted by its size and its two ends, not its whole file (reading tens of MB cost
 * more than the rest of indexing it); the user's decisions still follow it, those on a RAW an
 * earlier release recorded by the hash of its whole file included.
 */
describe('a RAW’s decisions follow it, by the fingerprint of its ends', () => {
  let dir: ReturnType<typeof tempDir>
  let engine: Engine
  let library: Library
  let a: string
  let b: string
  const DECIDED = [
    { tag: 'beach', state: 'accepted' },
    { tag: 'dog', state: 'rejected' }
  ]
  const decide = (path: string) => {
    const id = library.store.photoByPath(path)!.id
    const tags = new TagStore(library.store.db)
    tags.setPhotoTag(id, 'beach', 'accepted')
    tags.setPhotoTag(id, 'dog', 'rejected')
    return id
  }
  const decisionsAt = (path: string) => new TagStore(library.store.db).photoTags(library.store.photoByPath(path)!.id).sort((x, y) => x.tag.localeCompare(y.tag))
  /** Writes the record's fingerprint as the release before this one did: the SHA-256 of the whole file. */
  const asEarlierRelease = (path: string) => library.store.db.prepare('UPDATE photos SET fingerprint = ? WHERE path = ?').run(wholeFileHash(readFileSync(path)), path)

  beforeEach(async () => {
    dir = tempDir('sdl-raw-fingerprint-test-')
    engine = new Engine({ dataDir: join(dir.dir, 'data'), executionProvider: 'cpu', indexing: 'this-thread' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    a = join(dir.dir, 'A')
    b = join(dir.dir, 'B')
    mkdirSync(a)
    mkdirSync(b)
    copyFileSync(files['big.dng'], join(a, 'big.dng'))
    copyFileSync(files['photo.nef'], join(a, 'photo.nef'))
    library = await engine.library()
    library.addFolder(a)
    library.addFolder(b)
    expect(await library.index()).toMatchObject({ indexed: 2, failed: 0 })
  }, 60_000)
  afterEach(async () => {
    await engine.close()
    dir.cleanup()
  })

  it('samples the first and last MiB with the size, and keeps the decisions through a move', async () => {
    const bytes = readFileSync(join(a, 'big.dng'))
    expect(bytes.length).toBeGreaterThan(2 * MIB)
    expect(library.store.photoByPath(join(a, 'big.dng'))!.fingerprint).toBe(sampledFingerprint(bytes))
    const id = decide(join(a, 'big.dng'))
    renameSync(join(a, 'big.dng'), join(b, 'big.dng'))
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    expect(library.store.photoByPath(join(b, 'big.dng'))!.id).toBe(id)
    expect(decisionsAt(join(b, 'big.dng'))).toEqual(DECIDED)
  })

  it('tells apart a RAW whose first or last MiB differs: another photo, the original keeping its decisions', async () => {
    const id = decide(join(a, 'big.dng'))
    const bytes = readFileSync(join(a, 'big.dng'))
    for (const [name, at] of [
      ['first.dng', MIB - 1],
      ['last.dng', bytes.length - MIB]
    ] as const) {
      const changed = Buffer.from(bytes)
      changed[at] ^= 0xff
      writeFileSync(join(b, name), changed)
    }
    expect(await library.index()).toMatchObject({ indexed: 2, moved: 0 })
    expect(library.store.photoByPath(join(a, 'big.dng'))!.id).toBe(id)
    expect(decisionsAt(join(b, 'first.dng'))).toEqual([])
    expect(decisionsAt(join(b, 'last.dng'))).toEqual([])
  })

  it('finds a RAW recorded by the hash of its whole file again after a move, and gives it the new fingerprint', async () => {
    const path = join(a, 'big.dng')
    const id = decide(path)
    asEarlierRelease(path)
    renameSync(path, join(b, 'big.dng'))
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    const moved = library.store.photoByPath(join(b, 'big.dng'))!
    expect(moved.id).toBe(id)
    expect(moved.fingerprint).toBe(sampledFingerprint(readFileSync(join(b, 'big.dng'))))
    expect(decisionsAt(join(b, 'big.dng'))).toEqual(DECIDED)
  })

  it('finds a RAW recorded by the hash of its whole file in place when only its time changed, and after a delete and restore', async () => {
    const big = join(a, 'big.dng')
    const nef = join(a, 'photo.nef')
    const ids = [decide(big), decide(nef)]
    asEarlierRelease(big)
    asEarlierRelease(nef)
    utimesSync(big, new Date('2024-05-01T00:00:00Z'), new Date('2024-05-01T00:00:00Z'))
    const bytes = readFileSync(nef)
    renameSync(nef, join(dir.dir, 'backup.nef'))
    expect(await library.index()).toMatchObject({ unchanged: 1, missing: 1 })
    writeFileSync(nef, bytes)
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    expect([big, nef].map((p) => library.store.photoByPath(p))).toMatchObject([
      { id: ids[0], fingerprint: sampledFingerprint(readFileSync(big)) },
      { id: ids[1], fingerprint: sampledFingerprint(bytes) }
    ])
    expect(decisionsAt(big)).toEqual(DECIDED)
    expect(decisionsAt(nef)).toEqual(DECIDED)
  })
})
