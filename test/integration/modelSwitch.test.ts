import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ApiEvent, Result } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { CONSE_ONNX, COCO_DIR, cocoPhotoNames, tempDir } from '../helpers/sharedData'
import { LIGHTROOM_XMP } from '../helpers/xmpFixtures'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

// What a window-only user meets: a model added from an ONNX pack file, another model switched to
// with nothing indexed for it (the window, `status` and `search` must say so, and --all cannot
// help), and the keywords the photos already had taken in as the user's own.
describe('adding and switching models from the window', () => {
  const tmp = tempDir()
  const home = join(tmp.dir, 'home')
  const photos = join(home, 'Pictures')
  const dataDir = join(tmp.dir, 'data')
  const names = cocoPhotoNames(3)
  const events: ApiEvent[] = []
  let engine: Engine
  let api: EngineApi
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])

  beforeAll(() => {
    mkdirSync(join(home, 'Downloads'), { recursive: true })
    mkdirSync(photos, { recursive: true })
    copyFileSync(CONSE_ONNX, join(home, 'Downloads', 'conse.onnx'))
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(photos, name))
    vi.stubEnv('HOME', home)
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    api = createEngineApi(engine)
    api.events.subscribe((e) => events.push(e))
  })

  afterAll(async () => {
    await api.stop()
    vi.unstubAllEnvs()
    tmp.cleanup()
  })

  /** Resolves once an indexing run has ended, with its last progress. */
  function runEnd(): Promise<ApiEvent & { type: 'indexing' }> {
    return new Promise((resolve) => {
      const off = api.events.subscribe((e) => {
        if (e.type === 'indexing' && ['done', 'cancelled', 'failed'].includes(e.progress.phase)) {
          off()
          resolve(e)
        }
      })
    })
  }

  it('adds an ONNX pack file typed as ~/…, named after the file, reporting the import as it goes', async () => {
    const added = value(await api.addModel({ onnxPath: '~/Downloads/conse.onnx' }))
    expect(added).toMatchObject({ name: 'conse', dim: 100, rows: 7, origin: 'add' })
    const install = events.filter((e) => e.type === 'model-install').map((e) => e.progress.phase)
    expect(install).toEqual(['import', 'done'])
    expect(events).toContainEqual({ type: 'library-changed', change: 'model' })
    // The first pack added is the one in use.
    expect(value(await api.getStatus()).activeModel?.name).toBe('conse')
    const again = await api.addModel({ onnxPath: '~/Downloads/conse.onnx', name: 'conse-b' })
    expect(value(again).name).toBe('conse-b')
  })

  it('says why an ONNX file cannot be added, naming it', async () => {
    writeFileSync(join(home, 'Downloads', 'plain.onnx'), Buffer.from([0x08, 0x07]))
    const refused = await api.addModel({ onnxPath: '~/Downloads/plain.onnx' })
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.message).toMatch(/plain\.onnx.*lacks the SDL metadata sdl\.dim/)
    expect(value(await api.listCatalog()).installed.map((m) => m.name)).toEqual(['conse', 'conse-b'])
  })

  it('after switching to a model with nothing indexed, the folders, search, `status` and `search --all` all say so', async () => {
    value(await api.addFolder('~/Pictures'))
    const ended = runEnd()
    value(await api.startIndexing())
    expect((await ended).progress.phase).toBe('done')
    expect(value(await api.listFolders())[0]).toMatchObject({ photos: 3, indexed: 3 })

    value(await api.activateModel('conse-b'))
    expect(value(await api.listFolders())[0]).toMatchObject({ photos: 3, indexed: 0 })
    expect(value(await api.search('dog'))).toMatchObject({ model: 'conse-b', photos: 0, hits: [] })

    const message = 'No photos are indexed with model conse-b yet: index them (3 photos). Run `sdl-tagger index`.\n'
    expect(await cli('search', 'dog')).toEqual({ code: 0, stdout: message, stderr: '' })
    expect((await cli('search', 'dog', '--all')).stdout).toBe(message)
    const status = await cli('status')
    expect(status.stdout).toContain('photos: 3, indexed by the active model: 0')
    expect(status.stdout).toContain('3 photos need indexing with conse-b: run `sdl-tagger index`')

    const reindexed = runEnd()
    value(await api.startIndexing())
    await reindexed
    expect(value(await api.listFolders())[0]).toMatchObject({ indexed: 3 })
    expect((await cli('status')).stdout).not.toContain('need indexing')
    expect(value(await api.search('dog', { all: true })).photos).toBe(3)
  })

  it('imports the keywords the photos already have as the user’s own tags', async () => {
    writeFileSync(join(photos, `${names[0]}.xmp`), LIGHTROOM_XMP)
    events.length = 0
    const report = value(await api.importKeywords())
    expect(report).toMatchObject({ photos: 3, withKeywords: 1, skipped: [] })
    expect(report.imported).toBeGreaterThan(0)
    expect(events).toContainEqual({ type: 'library-changed', change: 'tags' })
    // Nothing new the second time: the keywords are there already.
    expect(value(await api.importKeywords()).imported).toBe(0)
  })
})
