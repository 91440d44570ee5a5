import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import type { ChangeBatch } from '../../src/main/engine/library/folderWatcher'
import type { IndexSummary } from '../../src/main/engine/library/indexer'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

describe('watching the library', () => {
  const tmp = tempDir()
  const photos = join(tmp.dir, 'Photos')
  const controller = new AbortController()
  const applied: Array<{ batch: ChangeBatch; summary: IndexSummary }> = []
  let waiters: Array<() => void> = []
  let engine: Engine
  let watching: Promise<void>

  /** Resolves with the first applied batch (from now on) that `match` accepts. */
  // The timeout only turns a missing batch into a useful message before the test's own timeout.
  const nextApplied = (match: (a: { batch: ChangeBatch; summary: IndexSummary }) => boolean, timeoutMs = 60_000) => {
    const from = applied.length
    return new Promise<{ batch: ChangeBatch; summary: IndexSummary }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching batch within ${timeoutMs} ms; got ${JSON.stringify(applied.slice(from))}`)), timeoutMs)
      const check = () => {
        const found = applied.slice(from).find(match)
        if (!found) return
        clearTimeout(timer)
        waiters = waiters.filter((w) => w !== check)
        resolve(found)
      }
      waiters.push(check)
    })
  }
  const stored = async (path: string) =>
    (await engine.library()).store.db
      .prepare('SELECT p.id, v.vectors FROM photos p LEFT JOIN principal_vectors v ON v.photo_id = p.id WHERE p.path = ? AND p.missing_since IS NULL')
      .get(path) as { id: number; vectors: Buffer | null } | undefined

  beforeAll(async () => {
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    await writeTestPhoto(join(photos, 'first.jpg'), 1)
    const library = await engine.library()
    library.addFolder(photos)
    let ready: () => void
    const following = new Promise<void>((r) => (ready = r))
    watching = library.watch({
      signal: controller.signal,
      onApplied: (batch, summary) => {
        applied.push({ batch, summary })
        for (const w of [...waiters]) w()
      },
      // After the initial reconciliation and the watcher's initial crawl: changes from now on are seen.
      onReady: () => ready()
    })
    await Promise.race([following, watching.then(() => Promise.reject(new Error('the watch ended before it was ready')))])
  })
  afterAll(async () => {
    controller.abort()
    await watching
    await engine.close()
    tmp.cleanup()
  })

  it('indexes a new photo as it arrives', async () => {
    const arrived = nextApplied((a) => a.summary.indexed === 1)
    await writeTestPhoto(join(photos, 'new.jpg'), 2)
    expect((await arrived).batch.added).toEqual([join(photos, 'new.jpg')])
    expect((await stored(join(photos, 'new.jpg')))?.vectors).toBeTruthy()
  })

  it('re-reads a modified photo', async () => {
    const before = await stored(join(photos, 'new.jpg'))
    const changed = nextApplied((a) => a.batch.changed.includes(join(photos, 'new.jpg')))
    await writeTestPhoto(join(photos, 'new.jpg'), 3)
    expect((await changed).summary.indexed).toBe(1)
    const after = await stored(join(photos, 'new.jpg'))
    expect(after!.vectors!.equals(before!.vectors!)).toBe(false)
  })

  it('keeps the vectors of renamed and moved photos, without decoding them', async () => {
    const first = await stored(join(photos, 'first.jpg'))
    const renamed = nextApplied((a) => a.summary.moved === 1)
    renameSync(join(photos, 'first.jpg'), join(photos, 'renamed.jpg'))
    expect((await renamed).summary).toMatchObject({ moved: 1, indexed: 0, removed: 0 })
    expect(await stored(join(photos, 'renamed.jpg'))).toEqual(first)

    mkdirSync(join(photos, 'album'))
    const moved = nextApplied((a) => a.summary.moved === 1)
    renameSync(join(photos, 'renamed.jpg'), join(photos, 'album', 'moved.jpg'))
    expect((await moved).summary).toMatchObject({ moved: 1, indexed: 0 })
    expect(await stored(join(photos, 'album', 'moved.jpg'))).toEqual(first)
  })

  it('keeps a deleted photo as missing, out of the library view', async () => {
    const deleted = nextApplied((a) => a.summary.missing === 1)
    rmSync(join(photos, 'new.jpg'))
    await deleted
    expect(await stored(join(photos, 'new.jpg'))).toBeUndefined()
    const library = await engine.library()
    expect(await library.status()).toMatchObject({ photos: 1, missing: 1 })
    expect(library.missingPhotos().map((p) => p.path)).toEqual([join(photos, 'new.jpg')])
  })

  it('marks photos offline when the folder disappears, and restores them without re-reading when it returns', async () => {
    const library = await engine.library()
    const wentAway = nextApplied((a) => a.summary.offlineFolders.includes(photos))
    renameSync(photos, `${photos}-unplugged`)
    expect((await wentAway).summary).toMatchObject({ missing: 0, removed: 0 })
    expect(await library.status()).toMatchObject({ photos: 1, offline: 1 })

    const cameBack = nextApplied((a) => a.batch.added.length > 0)
    renameSync(`${photos}-unplugged`, photos)
    expect((await cameBack).summary).toMatchObject({ indexed: 0, moved: 0, unchanged: 1, offlineFolders: [] })
    expect(await library.status()).toMatchObject({ photos: 1, indexed: 1, offline: 0 })
  })
})
