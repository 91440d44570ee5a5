import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import type { Library } from '../../src/main/engine/library/library'
import type { ClaimablePhoto } from '../../src/main/engine/library/libraryStore'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

/**
 * The user's decisions on a photo (accepted, rejected and own tags) outlive anything that happens
 * to its file: a move seen in any order, a run working from a stale scan, a rename undone, a
 * delete then a restore, a folder taken out and added again. Each case here lost tags before.
 */
describe('decisions are never lost with a file', () => {
  let tmp: ReturnType<typeof tempDir>
  let engine: Engine
  let library: Library
  let a: string
  let b: string

  /** Decisions are written as the tagger writes them; the lexicon is not what is tested here. */
  const decide = (path: string) => {
    const tags = new TagStore(library.store.db)
    const id = library.store.photoByPath(path)!.id
    tags.setPhotoTag(id, 'beach', 'accepted')
    tags.setPhotoTag(id, 'grandma rose', 'user')
    tags.setPhotoTag(id, 'dog', 'rejected')
    return id
  }
  const decisionsAt = (path: string) => {
    const photo = library.store.photoByPath(path)
    return photo ? new TagStore(library.store.db).photoTags(photo.id).sort((x, y) => x.tag.localeCompare(y.tag)) : undefined
  }
  const DECIDED = [
    { tag: 'beach', state: 'accepted' },
    { tag: 'dog', state: 'rejected' },
    { tag: 'grandma rose', state: 'user' }
  ]

  beforeEach(async () => {
    tmp = tempDir()
    // In this thread: the cases below act between the steps of a run.
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu', indexing: 'this-thread' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    a = join(tmp.dir, 'A')
    b = join(tmp.dir, 'B')
    for (let i = 0; i < 3; i++) await writeTestPhoto(join(a, `a${i}.jpg`), i)
    for (let i = 0; i < 3; i++) await writeTestPhoto(join(b, `b${i}.jpg`), 10 + i)
    library = await engine.library()
    library.addFolder(a)
    library.addFolder(b)
    await library.index()
  })
  afterEach(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it('keeps them through a move when only the old folder is indexed first', async () => {
    const id = decide(join(b, 'b0.jpg'))
    renameSync(join(b, 'b0.jpg'), join(a, 'b0.jpg'))
    expect(await library.index(b)).toMatchObject({ missing: 1, removed: 0 })
    expect(await library.status()).toMatchObject({ photos: 5, missing: 1 })
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    expect(library.store.photoByPath(join(a, 'b0.jpg'))!.id).toBe(id)
    expect(decisionsAt(join(a, 'b0.jpg'))).toEqual(DECIDED)
    expect(await library.status()).toMatchObject({ photos: 6, missing: 0 })
  })

  it('keeps them through a move when the new folder is indexed first', async () => {
    const id = decide(join(b, 'b1.jpg'))
    renameSync(join(b, 'b1.jpg'), join(a, 'b1.jpg'))
    // B has not been looked at: the record at B/b1.jpg is taken once its file is found gone.
    expect(await library.index(a)).toMatchObject({ moved: 1, indexed: 0 })
    expect(library.store.photoByPath(join(a, 'b1.jpg'))!.id).toBe(id)
    expect(await library.index(b)).toMatchObject({ missing: 0, moved: 0 })
    expect(decisionsAt(join(a, 'b1.jpg'))).toEqual(DECIDED)
  })

  it('keeps a copy apart from its original: the original keeps the decisions', async () => {
    const id = decide(join(b, 'b2.jpg'))
    copyFileSync(join(b, 'b2.jpg'), join(a, 'copy.jpg'))
    expect(await library.index(a)).toMatchObject({ moved: 0, indexed: 1 })
    expect(library.store.photoByPath(join(b, 'b2.jpg'))!.id).toBe(id)
    expect(decisionsAt(join(b, 'b2.jpg'))).toEqual(DECIDED)
    expect(decisionsAt(join(a, 'copy.jpg'))).toEqual([])
  })

  it('keeps them when a photo is deleted, and gives them back when it is restored', async () => {
    const path = join(a, 'a0.jpg')
    const id = decide(path)
    const bytes = readFileSync(path)
    rmSync(path)
    expect(await library.index()).toMatchObject({ missing: 1 })
    expect(library.store.photoByPath(path)).toBeUndefined()
    // Restored from a backup: same content, a new modification time, later than the deletion.
    writeFileSync(path, bytes)
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0, missing: 0 })
    expect(library.store.photoByPath(path)!.id).toBe(id)
    expect(decisionsAt(path)).toEqual(DECIDED)
  })

  it('keeps them when a watcher batch is stale: a rename undone before the batch applies', async () => {
    const path = join(a, 'a1.jpg')
    decide(path)
    // The watcher saw a1 -> renamed; by the time its batch is applied the rename is undone.
    renameSync(path, join(a, 'renamed.jpg'))
    renameSync(join(a, 'renamed.jpg'), path)
    const summary = await library.applyChanges({ added: [join(a, 'renamed.jpg')], changed: [], removed: [path] })
    expect(summary).toMatchObject({ missing: 0, indexed: 0, moved: 0 })
    expect(decisionsAt(path)).toEqual(DECIDED)
  })

  it('keeps them when a run works from a stale scan: decisions made meanwhile, a file put back', async () => {
    const path = join(b, 'b1.jpg')
    decide(path)
    const bytes = readFileSync(path)
    rmSync(path)
    for (let i = 0; i < 4; i++) await writeTestPhoto(join(a, `new${i}.jpg`), 100 + i)
    // A second connection (the app beside a CLI run) decides while the run reads new photos, and
    // the deleted file comes back meanwhile.
    const other = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu', indexing: 'this-thread' })
    const otherLibrary = await other.library()
    let acted = false
    const summary = await library.index(undefined, {
      batchSize: 1,
      onProgress: (p) => {
        if (acted || p.done < 1) return
        acted = true
        const missing = otherLibrary.store.missingPhotos()
        expect(missing.map((m) => m.path)).toEqual([path])
        new TagStore(otherLibrary.store.db).setPhotoTag(missing[0].id, 'late', 'accepted')
        writeFileSync(path, bytes)
      }
    })
    await other.close()
    expect(acted).toBe(true)
    expect(summary).toMatchObject({ indexed: 4, missing: 1 })
    // The next run takes the photo back, with every decision, the late one too.
    expect(await library.index()).toMatchObject({ moved: 1, missing: 0 })
    expect(decisionsAt(path)).toEqual([...DECIDED, { tag: 'late', state: 'accepted' }].sort((x, y) => x.tag.localeCompare(y.tag)))
  })

  it('keeps them when a file is overwritten by another photo: both keep their own decisions', async () => {
    const target = join(a, 'a2.jpg')
    const targetId = decide(target)
    const movedId = library.store.photoByPath(join(b, 'b2.jpg'))!.id
    new TagStore(library.store.db).setPhotoTag(movedId, 'sunset', 'accepted')
    renameSync(join(b, 'b2.jpg'), target)
    expect(await library.index()).toMatchObject({ moved: 1, indexed: 0 })
    expect(library.store.photoByPath(target)!.id).toBe(movedId)
    expect(decisionsAt(target)).toEqual([{ tag: 'sunset', state: 'accepted' }])
    const gone = library.missingPhotos()
    expect(gone).toMatchObject([{ id: targetId, path: target, decisions: 3 }])
  })

  it('keeps them when a folder leaves the library, and gives them back when it is added again', async () => {
    const path = join(b, 'b0.jpg')
    const id = decide(path)
    library.removeFolder(b)
    expect(await library.status()).toMatchObject({ photos: 3, missing: 3 })
    library.addFolder(b)
    expect(await library.index(b)).toMatchObject({ moved: 3, indexed: 0 })
    expect(library.store.photoByPath(path)!.id).toBe(id)
    expect(decisionsAt(path)).toEqual(DECIDED)
  })

  it('moves a record only if it is still as it was when it was claimed', async () => {
    const path = join(a, 'a2.jpg')
    const id = decide(path)
    rmSync(path)
    await library.index()
    const store = library.store
    const modelId = store.modelId(await engine.manifest())
    const row = store.db.prepare('SELECT id, path, size, mtime_ms AS mtimeMs, fingerprint FROM photos WHERE id = ?').get(id) as Omit<ClaimablePhoto, 'missing' | 'hasVectors'>
    const claimed: ClaimablePhoto = { ...row, missing: true, hasVectors: true }
    const folderId = store.folders()[0].id
    // Another file took the record back first: a second claim made before that must not move it again.
    expect(store.writeOutcomes([{ kind: 'moved', from: claimed, facts: { ...row, path: join(a, 'first.jpg'), folderId } }], modelId)).toEqual([])
    const late = store.writeOutcomes([{ kind: 'moved', from: claimed, facts: { ...row, path: join(a, 'second.jpg'), folderId } }], modelId)
    expect(late).toHaveLength(1)
    expect(store.photoByPath(join(a, 'first.jpg'))!.id).toBe(id)
    expect(store.photoByPath(join(a, 'second.jpg'))).toBeUndefined()
    expect(decisionsAt(join(a, 'first.jpg'))).toEqual(DECIDED)
  })

  it('forgets missing photos only when asked, or after the grace period', async () => {
    const path = join(a, 'a0.jpg')
    decide(path)
    rmSync(path)
    await library.index()
    expect(await library.purgeMissing(1)).toEqual([])
    expect(library.missingPhotos()).toHaveLength(1)
    // Gone 40 days ago: past the default grace period of 30, the next whole run forgets it.
    library.store.db.prepare('UPDATE photos SET missing_since = ? WHERE missing_since IS NOT NULL').run(new Date(Date.now() - 40 * 86_400_000).toISOString())
    expect(await library.index(a)).toMatchObject({ removed: 1 })
    expect(library.missingPhotos()).toEqual([])
    expect(library.store.db.prepare('SELECT COUNT(*) AS n FROM photo_tags').get()).toEqual({ n: 0 })
  })

  it('calls the photos of a folder gone offline offline, not missing', async () => {
    rmSync(join(a, 'a0.jpg'))
    await library.index()
    mkdirSync(join(tmp.dir, 'elsewhere'))
    renameSync(a, join(tmp.dir, 'elsewhere', 'A'))
    expect((await library.index()).offlineFolders).toEqual([a])
    expect(library.missingPhotos()).toHaveLength(1)
  })
})
