import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent, Result } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

/**
 * Calls that start something or change settings, asked for twice at once (two windows, a double
 * click), start it once and lose no change: each used to check, await, then set.
 */
describe('calls asked for at once', () => {
  const tmp = tempDir()
  const folder = join(tmp.dir, 'Photos')
  let engine: Engine
  let api: EngineApi
  const events: ApiEvent[] = []

  beforeAll(async () => {
    mkdirSync(folder)
    for (const name of readdirSync(COCO_DIR)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 4))
      copyFileSync(join(COCO_DIR, name), join(folder, name))
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    api = createEngineApi(engine)
    api.events.subscribe((e) => events.push(e))
    value(await api.addFolder(folder))
  })
  afterAll(async () => {
    await api.stop()
    await engine.close()
    tmp.cleanup()
  })

  it('starts one indexing run for two starts', async () => {
    const [first, second] = await Promise.all([api.startIndexing(), api.startIndexing()])
    expect(value(first).runId).toBe(value(second).runId)
    const ended = await new Promise<ApiEvent>((resolve) => {
      const off = api.events.subscribe((e) => {
        if (e.type === 'indexing' && e.progress.phase === 'done') {
          off()
          resolve(e)
        }
      })
    })
    expect(ended).toMatchObject({ progress: { runId: value(first).runId, summary: { indexed: 4 } } })
    expect(new Set(events.flatMap((e) => (e.type === 'indexing' ? [e.progress.runId] : []))).size).toBe(1)
  })

  it('follows the folders once for two requests to', async () => {
    const [a, b] = await Promise.all([api.setWatching(true), api.setWatching(true)])
    expect(value(a)).toEqual(value(b))
    const started = events.filter((e) => e.type === 'watch' && e.state === 'starting')
    expect(started).toHaveLength(1)
    value(await api.setWatching(false))
  })

  it('keeps both of two settings changed at once', async () => {
    await Promise.all([api.updateSettings({ topN: 7 }), api.updateSettings({ suggestionCount: 3 }), api.updateSettings({ missingGraceDays: 0 })])
    expect(value(await api.getSettings())).toMatchObject({ topN: 7, suggestionCount: 3, missingGraceDays: 0 })
    // And on disk, as the next start of the app reads them.
    const again = new Engine({ dataDir: join(tmp.dir, 'data') })
    expect(await again.settings.get()).toMatchObject({ topN: 7, suggestionCount: 3, missingGraceDays: 0 })
  })
})
