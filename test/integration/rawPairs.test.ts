import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EventHub } from '../../src/main/engine/api/eventHub'
import { MediaService } from '../../src/main/engine/api/media'
import { PhotosApi } from '../../src/main/engine/api/photosApi'
import { Engine } from '../../src/main/engine/engine'
import { closeRawPreviewReader } from '../../src/main/engine/image/rawPreviewReader'
import type { Library } from '../../src/main/engine/library/library'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { writeTestRaw } from '../helpers/rawFiles'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'
import { cosine } from '../helpers/vectorMath'

/**
 * A RAW and the JPEG shot with it (same folder, same name in any case) are one photo: one row,
 * recorded under the RAW, tagged by the JPEG's pixels. The test RAWs embed a preview of another
 * photo than their JPEG, so which pixels were used shows in the vectors.
 */
const tmp = tempDir('sdl-raw-pairs-test-')
const sources = join(tmp.dir, 'sources')
/** A RAW whose embedded preview is COCO 9; a lone RAW with the same layout; the pair's JPEG (COCO 25); a lone JPEG (COCO 30). */
const SOURCE = { raw: join(sources, 'raw.nef'), otherRaw: join(sources, 'other.dng'), jpeg: join(sources, 'jpeg.jpg'), loneJpeg: join(sources, 'lone.jpg') }
/** The model's output for the RAW's preview and for the pair's JPEG, to tell which pixels a photo was embedded from. */
const reference: { preview?: Float32Array; jpeg?: Float32Array } = {}

beforeAll(async () => {
  mkdirSync(sources)
  const exifTool = new ExifToolRunner()
  try {
    const preview = await sharp(join(COCO_DIR, '000000000009.jpg')).resize(640).jpeg({ quality: 90 }).toBuffer()
    writeFileSync(join(sources, 'preview.jpg'), preview)
    await writeTestRaw(exifTool, SOURCE.raw, { layout: 'nef', preview })
    await writeTestRaw(exifTool, SOURCE.otherRaw, { layout: 'dng', preview: await sharp(join(COCO_DIR, '000000000034.jpg')).resize(640).jpeg().toBuffer() })
  } finally {
    await exifTool.close()
  }
  await sharp(join(COCO_DIR, '000000000025.jpg')).resize(640).jpeg({ quality: 90 }).toFile(SOURCE.jpeg)
  copyFileSync(join(COCO_DIR, '000000000030.jpg'), SOURCE.loneJpeg)
  const engine = new Engine({ dataDir: join(tmp.dir, 'reference-data'), executionProvider: 'cpu' })
  try {
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const out: Float32Array[] = []
    for await (const r of engine.embed([join(sources, 'preview.jpg'), SOURCE.jpeg])) if ('output' in r) out.push(r.output)
    ;[reference.preview, reference.jpeg] = out
  } finally {
    await engine.close()
  }
  // The two must be told apart for the tests below to mean anything.
  expect(cosine(reference.preview!, reference.jpeg!)).toBeLessThan(0.95)
}, 180_000)

afterAll(async () => {
  await closeRawPreviewReader()
  tmp.cleanup()
})

describe('a RAW and its JPEG are one photo', () => {
  let dataDir: string
  let folder: string
  let engine: Engine
  let library: Library
  let notices: string[]
  let cases = 0

  const at = (name: string) => join(folder, name)
  const put = (source: string, name: string) => copyFileSync(source, at(name))
  const index = () => library.index(undefined, { onNotice: (m) => notices.push(m) })
  const apply = (batch: { added?: string[]; changed?: string[]; removed?: string[] }) =>
    library.applyChanges(
      { added: (batch.added ?? []).map(at), changed: (batch.changed ?? []).map(at), removed: (batch.removed ?? []).map(at) },
      { onNotice: (m) => notices.push(m) }
    )
  const tags = () => new TagStore(library.store.db)
  const decide = (name: string) => {
    const id = library.store.photoByPath(at(name))!.id
    tags().setPhotoTag(id, 'beach', 'accepted')
    tags().setPhotoTag(id, 'grandma rose', 'user')
    tags().setPhotoTag(id, 'dog', 'rejected')
    return id
  }
  const DECIDED = [
    { tag: 'beach', state: 'accepted' },
    { tag: 'dog', state: 'rejected' },
    { tag: 'grandma rose', state: 'user' }
  ]
  const decisions = (id: number) =>
    tags()
      .photoTags(id)
      .sort((x, y) => x.tag.localeCompare(y.tag))
  const files = async (id: number) => (await engine.repositories()).catalog.byId(id)!.files
  /** Which pixels the photo's stored vectors are of: 'jpeg' (the pair's JPEG) or 'preview' (the RAW's own). */
  const pixelsOf = async (id: number) => {
    const store = library.store
    const vectors = store.photoVectors(id, store.modelId(await engine.manifest()))!
    const [jpeg, preview] = [cosine(vectors, reference.jpeg!), cosine(vectors, reference.preview!)]
    if (jpeg > 0.999) return 'jpeg'
    if (preview > 0.999) return 'preview'
    return `neither (${jpeg}, ${preview})`
  }
  const count = () => library.store.db.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }

  beforeEach(async () => {
    const dir = join(tmp.dir, `case-${++cases}`)
    dataDir = join(dir, 'data')
    folder = join(dir, 'Photos')
    mkdirSync(folder, { recursive: true })
    notices = []
    engine = new Engine({ dataDir, executionProvider: 'cpu', indexing: 'this-thread' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    library = await engine.library()
    library.addFolder(folder)
  })
  afterEach(async () => {
    await engine.close()
  })

  it('indexes a pair once, recorded under the RAW, tagged and shown by its JPEG, beside a lone RAW and a lone JPEG', async () => {
    put(SOURCE.raw, 'IMG_0001.NEF')
    put(SOURCE.jpeg, 'img_0001.jpg')
    put(SOURCE.otherRaw, 'IMG_0002.DNG')
    put(SOURCE.loneJpeg, 'IMG_0003.JPG')
    expect(await index()).toMatchObject({ seen: 3, indexed: 3, failed: 0 })
    expect(await library.status()).toMatchObject({ photos: 3, indexed: 3, missing: 0, errors: [] })
    const { catalog } = await engine.repositories()
    expect(catalog.count()).toBe(3)
    expect(catalog.page(0, 10).map((p) => p.name)).toEqual(['IMG_0001.NEF', 'IMG_0002.DNG', 'IMG_0003.JPG'])
    expect(library.store.photoByPath(at('img_0001.jpg'))).toBeUndefined()
    const id = library.store.photoByPath(at('IMG_0001.NEF'))!.id
    expect(await pixelsOf(id)).toBe('jpeg')

    // The photo view lists both files and shows the JPEG.
    const details = await new PhotosApi(engine, new EventHub()).getPhoto(id)
    expect(details.ok && details.value.files).toEqual([
      { path: at('IMG_0001.NEF'), size: readFileSync(at('IMG_0001.NEF')).length, shown: false, reason: null },
      { path: at('img_0001.jpg'), size: readFileSync(at('img_0001.jpg')).length, shown: true, reason: null }
    ])
    expect(await new MediaService(engine).resolve({ kind: 'photo', id })).toEqual({ contentType: 'image/jpeg', file: at('img_0001.jpg') })
    const lone = library.store.photoByPath(at('IMG_0002.DNG'))!.id
    expect(await files(lone)).toEqual([{ path: at('IMG_0002.DNG'), size: readFileSync(at('IMG_0002.DNG')).length, shown: true, reason: null }])

    // A decision made through either file is the pair's.
    const tagger = await engine.tagger()
    await tagger.addTag(at('img_0001.jpg'), 'grandma rose')
    await tagger.addTag(at('IMG_0001.NEF'), 'kitchen')
    expect(decisions(id).map((d) => d.tag)).toEqual(['grandma rose', 'kitchen'])
    expect(await index()).toMatchObject({ seen: 3, unchanged: 3, indexed: 0 })
  })

  it('pairs a JPEG that arrives after its RAW was indexed alone: one photo, the same record, now by the JPEG', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    await index()
    const id = decide('IMG.NEF')
    expect(await pixelsOf(id)).toBe('preview')
    put(SOURCE.jpeg, 'IMG.JPG')
    expect(await index()).toMatchObject({ seen: 1, indexed: 1, missing: 0 })
    expect(await library.status()).toMatchObject({ photos: 1, missing: 0 })
    expect(library.store.photoByPath(at('IMG.NEF'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect(await pixelsOf(id)).toBe('jpeg')
    expect((await files(id)).map((f) => f.path)).toEqual([at('IMG.NEF'), at('IMG.JPG')])
  })

  it('keeps the decisions of a JPEG indexed alone when its RAW appears: the JPEG’s record becomes the pair', async () => {
    put(SOURCE.jpeg, 'IMG.jpeg')
    await index()
    const id = decide('IMG.jpeg')
    put(SOURCE.raw, 'img.nef')
    expect(await index()).toMatchObject({ seen: 1, indexed: 1, missing: 0 })
    expect(count()).toEqual({ n: 1 })
    expect(library.store.photoByPath(at('img.nef'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect(await pixelsOf(id)).toBe('jpeg')
  })

  it('merges a RAW and a JPEG recorded apart (a library from before pairs): both’s decisions, the later one winning', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    await index()
    const rawId = library.store.photoByPath(at('IMG.NEF'))!.id
    tags().setPhotoTag(rawId, 'beach', 'accepted')
    tags().setPhotoTag(rawId, 'dog', 'accepted')
    library.store.db.prepare("UPDATE photo_tags SET created_at = '2020-01-01T00:00:00.000Z' WHERE photo_id = ?").run(rawId)
    // The JPEG, recorded as a photo of its own as an earlier version did.
    put(SOURCE.jpeg, 'IMG.JPG')
    const store = library.store
    const modelId = store.modelId(await engine.manifest())
    const bytes = readFileSync(at('IMG.JPG'))
    store.writeOutcomes(
      [
        {
          kind: 'indexed',
          facts: { path: at('IMG.JPG'), folderId: store.folders()[0].id, size: bytes.length, mtimeMs: 0, fingerprint: 'old' },
          details: { format: 'jpeg', width: 640, height: 480, orientation: 1, takenAt: null, camera: null },
          vectors: store.photoVectors(rawId, modelId)!
        }
      ],
      modelId
    )
    const jpegId = store.photoByPath(at('IMG.JPG'))!.id
    tags().setPhotoTag(jpegId, 'dog', 'rejected')
    tags().setPhotoTag(jpegId, 'grandma rose', 'user')
    expect(await library.status()).toMatchObject({ photos: 2 })

    expect(await index()).toMatchObject({ seen: 1, indexed: 1, missing: 0 })
    expect(await library.status()).toMatchObject({ photos: 1, missing: 0 })
    expect(count()).toEqual({ n: 1 })
    expect(decisions(rawId)).toEqual(DECIDED)
    expect(await pixelsOf(rawId)).toBe('jpeg')
  })

  it('makes the RAW the photo again when the JPEG is deleted, decisions kept, by the RAW’s preview', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    put(SOURCE.jpeg, 'IMG.JPG')
    await index()
    const id = decide('IMG.NEF')
    rmSync(at('IMG.JPG'))
    expect(await index()).toMatchObject({ seen: 1, indexed: 1, missing: 0 })
    expect(library.store.photoByPath(at('IMG.NEF'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect(await pixelsOf(id)).toBe('preview')
    expect((await files(id)).map((f) => f.path)).toEqual([at('IMG.NEF')])
    expect(await library.status()).toMatchObject({ photos: 1, missing: 0 })
  })

  it('makes the JPEG the photo when the RAW is deleted: it keeps the decisions', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    put(SOURCE.jpeg, 'IMG.JPG')
    await index()
    const id = decide('IMG.NEF')
    rmSync(at('IMG.NEF'))
    expect(await index()).toMatchObject({ seen: 1, missing: 0 })
    expect(library.store.photoByPath(at('IMG.JPG'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect(await pixelsOf(id)).toBe('jpeg')
    expect(await files(id)).toEqual([{ path: at('IMG.JPG'), size: readFileSync(at('IMG.JPG')).length, shown: true, reason: null }])
    expect(await library.status()).toMatchObject({ photos: 1, missing: 0 })
    expect(count()).toEqual({ n: 1 })
  })

  it('takes a pair renamed together back with its decisions, without reading it again', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    put(SOURCE.jpeg, 'IMG.JPG')
    await index()
    const id = decide('IMG.NEF')
    renameSync(at('IMG.NEF'), at('Kenya.NEF'))
    renameSync(at('IMG.JPG'), at('Kenya.JPG'))
    expect(await index()).toMatchObject({ seen: 1, moved: 1, indexed: 0, missing: 0 })
    expect(library.store.photoByPath(at('Kenya.NEF'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect((await files(id)).map((f) => f.path)).toEqual([at('Kenya.NEF'), at('Kenya.JPG')])
    expect(await pixelsOf(id)).toBe('jpeg')
  })

  it('follows the watcher’s events: a JPEG added, a pair renamed in one batch, the JPEG removed, the RAW removed', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    await index()
    const id = decide('IMG.NEF')

    put(SOURCE.jpeg, 'IMG.JPG')
    expect(await apply({ added: ['IMG.JPG'] })).toMatchObject({ seen: 1, indexed: 1, missing: 0 })
    expect(await pixelsOf(id)).toBe('jpeg')
    expect(await library.status()).toMatchObject({ photos: 1 })

    renameSync(at('IMG.NEF'), at('B.NEF'))
    renameSync(at('IMG.JPG'), at('B.JPG'))
    expect(await apply({ removed: ['IMG.NEF', 'IMG.JPG'], added: ['B.NEF', 'B.JPG'] })).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    expect(library.store.photoByPath(at('B.NEF'))!.id).toBe(id)

    rmSync(at('B.JPG'))
    expect(await apply({ removed: ['B.JPG'] })).toMatchObject({ indexed: 1, missing: 0 })
    expect(await pixelsOf(id)).toBe('preview')

    put(SOURCE.jpeg, 'B.JPG')
    await apply({ added: ['B.JPG'] })
    rmSync(at('B.NEF'))
    expect(await apply({ removed: ['B.NEF'] })).toMatchObject({ missing: 0 })
    expect(library.store.photoByPath(at('B.JPG'))!.id).toBe(id)
    expect(decisions(id)).toEqual(DECIDED)
    expect(await library.status()).toMatchObject({ photos: 1, missing: 0 })
  })

  it('pairs the first of two JPEGs by name and says so; the other is a photo of its own', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    put(SOURCE.jpeg, 'IMG.JPG')
    put(SOURCE.loneJpeg, 'IMG.jpeg')
    expect(await index()).toMatchObject({ seen: 2, indexed: 2 })
    const id = library.store.photoByPath(at('IMG.NEF'))!.id
    expect((await files(id)).map((f) => f.path)).toEqual([at('IMG.NEF'), at('IMG.JPG')])
    expect(await pixelsOf(id)).toBe('jpeg')
    expect(library.store.photoByPath(at('IMG.jpeg'))).toBeDefined()
    expect(notices).toContain('IMG.NEF is paired with IMG.JPG (the first of its RAW and JPEG files by name); IMG.jpeg is a photo of its own')
    expect(await library.status()).toMatchObject({ photos: 2 })
  })

  it('uses the RAW’s preview where the JPEG cannot be read, and says so, without an error', async () => {
    put(SOURCE.raw, 'IMG.NEF')
    writeFileSync(at('IMG.JPG'), 'not a JPEG\n')
    expect(await index()).toMatchObject({ seen: 1, indexed: 1, failed: 0 })
    const id = library.store.photoByPath(at('IMG.NEF'))!.id
    expect(await pixelsOf(id)).toBe('preview')
    expect(await library.status()).toMatchObject({ photos: 1, errors: [] })
    const [raw, jpeg] = await files(id)
    expect(raw).toMatchObject({ path: at('IMG.NEF'), shown: true, reason: null })
    expect(jpeg).toMatchObject({ path: at('IMG.JPG'), shown: false, reason: expect.stringMatching(/./) })
    expect(notices.some((n) => n.startsWith(`${at('IMG.JPG')} could not be read (`) && n.endsWith('the photo uses the preview inside IMG.NEF instead'))).toBe(true)
  })
})

describe('a pair from the command line', () => {
  it('is counted once by index and status, and found once by search', async () => {
    const dataDir = join(tmp.dir, 'cli-data')
    const folder = join(tmp.dir, 'Library')
    mkdirSync(folder)
    copyFileSync(SOURCE.raw, join(folder, 'DSC_0001.NEF'))
    copyFileSync(SOURCE.jpeg, join(folder, 'DSC_0001.JPG'))
    copyFileSync(SOURCE.loneJpeg, join(folder, 'other.jpg'))
    const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
    expect((await cli('model', 'add', CONSE_ONNX, '--name', 'conse')).code).toBe(0)
    expect((await cli('folders', 'add', folder)).code).toBe(0)
    const index = await cli('--json', 'index')
    expect(index.code).toBe(0)
    expect(JSON.parse(index.stdout)).toMatchObject({ seen: 2, indexed: 2, failed: 0 })
    expect(JSON.parse((await cli('--json', 'status')).stdout)).toMatchObject({ photos: 2, indexed: 2 })
    const hits = JSON.parse((await cli('--json', 'search', 'giraffe', '--all')).stdout) as Array<{ path: string }>
    expect(hits.map((h) => h.path).sort()).toEqual([join(folder, 'DSC_0001.NEF'), join(folder, 'other.jpg')])
  }, 120_000)
})
