import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

// The ConSE pack (D=100, K=7, a real ImageNet model) keeps inference cheap, so these tests are
// about the library: what is read again, what is kept, what survives.
describe('library indexing', () => {
  const tmp = tempDir()
  const photos = join(tmp.dir, 'Photos')
  let engine: Engine

  const vectorsOf = async (path: string) => {
    const db = (await engine.library()).store.db
    return db.prepare('SELECT v.vectors FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE p.path = ?').get(path) as { vectors: Buffer } | undefined
  }

  beforeAll(async () => {
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    for (let i = 0; i < 6; i++) await writeTestPhoto(join(photos, i < 3 ? '' : 'trip', `photo-${i}.jpg`), i)
    ;(await engine.library()).addFolder(photos)
  })
  afterAll(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it('indexes every photo once, then reads nothing again while nothing changed', async () => {
    const library = await engine.library()
    const first = await library.index()
    expect(first).toMatchObject({ indexed: 6, failed: 0, unchanged: 0 })
    const second = await library.index()
    expect(second).toMatchObject({ indexed: 0, moved: 0, unchanged: 6, missing: 0, removed: 0 })
    expect(await library.status()).toMatchObject({ photos: 6, indexed: 6, offline: 0, errors: [] })
  })

  it('keeps the vectors of a renamed or moved photo without decoding it again', async () => {
    const library = await engine.library()
    const before = await vectorsOf(join(photos, 'photo-0.jpg'))
    renameSync(join(photos, 'photo-0.jpg'), join(photos, 'renamed.jpg'))
    renameSync(join(photos, 'photo-1.jpg'), join(photos, 'trip', 'moved.jpg'))
    const summary = await library.index()
    expect(summary).toMatchObject({ indexed: 0, moved: 2, missing: 0, removed: 0 })
    expect((await vectorsOf(join(photos, 'renamed.jpg')))!.vectors.equals(before!.vectors)).toBe(true)
    expect(await vectorsOf(join(photos, 'photo-0.jpg'))).toBeUndefined()
  })

  it('re-reads a changed photo and keeps a deleted one as missing', async () => {
    const library = await engine.library()
    await writeTestPhoto(join(photos, 'photo-2.jpg'), 99)
    rmSync(join(photos, 'trip', 'photo-3.jpg'))
    const summary = await library.index()
    expect(summary).toMatchObject({ indexed: 1, missing: 1, removed: 0 })
    expect(await library.status()).toMatchObject({ photos: 5, missing: 1 })
    expect(library.missingPhotos().map((p) => p.path)).toEqual([join(photos, 'trip', 'photo-3.jpg')])
    expect(await library.purgeMissing()).toHaveLength(1)
    expect(await library.status()).toMatchObject({ photos: 5, missing: 0 })
  })

  it('marks a folder that disappears offline, keeps its photos, and restores them without re-reading', async () => {
    const library = await engine.library()
    const away = `${photos}-unplugged`
    renameSync(photos, away)
    const offline = await library.index()
    expect(offline.offlineFolders).toEqual([photos])
    expect(await library.status()).toMatchObject({ photos: 5, offline: 5 })
    expect(library.folders()[0].offlineSince).not.toBeNull()
    renameSync(away, photos)
    const back = await library.index()
    expect(back).toMatchObject({ indexed: 0, moved: 0, missing: 0, removed: 0, unchanged: 5, offlineFolders: [] })
    expect(await library.status()).toMatchObject({ photos: 5, indexed: 5, offline: 0 })
  })

  it('records unreadable photos with a reason and carries on', async () => {
    const library = await engine.library()
    writeFileSync(join(photos, 'notes.jpg'), 'not a photo at all')
    writeFileSync(join(photos, 'empty.png'), '')
    await writeTestPhoto(join(photos, 'fine.jpg'), 7)
    const summary = await library.index()
    expect(summary).toMatchObject({ indexed: 1, failed: 2 })
    const { errors } = await library.status()
    expect(errors.map((e) => e.path).sort()).toEqual([join(photos, 'empty.png'), join(photos, 'notes.jpg')])
    for (const e of errors) expect(e.reason.length).toBeGreaterThan(5)
    // Unchanged bad files are not retried on every run.
    expect(await library.index()).toMatchObject({ indexed: 0, failed: 0 })
  })

  it('refuses folders nested in, or containing, a library folder', async () => {
    const library = await engine.library()
    expect(() => library.addFolder(join(photos, 'trip'))).toThrow(/already in the library/)
    expect(() => library.addFolder(tmp.dir)).toThrow(/contains/)
    expect(() => library.addFolder(join(tmp.dir, 'nope'))).toThrow(/does not exist/)
  })
})

describe('thumbnails', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('are made once per content and survive a rename', async () => {
    const engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const folder = join(tmp.dir, 'p')
    await writeTestPhoto(join(folder, 'a.jpg'), 1, { width: 800, height: 600 })
    const library = await engine.library()
    library.addFolder(folder)
    await library.index()
    const thumb = await library.thumbnail(join(folder, 'a.jpg'))
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'webp', width: 320, height: 240 })
    renameSync(join(folder, 'a.jpg'), join(folder, 'b.jpg'))
    await library.index()
    expect(await library.thumbnail(join(folder, 'b.jpg'))).toBe(thumb)
    await expect(library.thumbnail(join(folder, 'a.jpg'))).rejects.toThrow(/not an indexed photo/)
    await engine.close()
  })
})

describe('cancelling an index run', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('stops after the batch in flight and the next run finishes the rest', async () => {
    const engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const folder = join(tmp.dir, 'p')
    for (let i = 0; i < 12; i++) await writeTestPhoto(join(folder, `${i}.jpg`), i)
    const library = await engine.library()
    library.addFolder(folder)
    const controller = new AbortController()
    const stopped = await library.index(undefined, {
      batchSize: 2,
      signal: controller.signal,
      onProgress: (p) => p.done >= 2 && controller.abort()
    })
    expect(stopped.cancelled).toBe(true)
    expect(stopped.indexed).toBeGreaterThanOrEqual(2)
    expect(stopped.indexed).toBeLessThan(12)
    // Nothing was dropped as "deleted" by the unfinished run.
    expect((await library.status()).photos).toBe(stopped.indexed)
    const rest = await library.index()
    expect(rest).toMatchObject({ indexed: 12 - stopped.indexed, unchanged: stopped.indexed, cancelled: false })
    await engine.close()
  })
})
