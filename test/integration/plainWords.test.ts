import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src/shared/api'
import { confidenceOf, scoreScale } from '../../src/shared/confidence'
import { createEngineApi, type EngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.message} (${result.error.hint})`)
  return result.value
}

// The ConSE pack on the 64 labelled COCO photos: the figures the confidence levels were placed by (shared/confidence.ts).
describe('plain words with a real model', () => {
  const tmp = tempDir()
  const labels = JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')) as { images: Record<string, string[]> }
  let engine: Engine
  let api: EngineApi

  beforeAll(async () => {
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(COCO_DIR)
    await library.index()
  }, 300_000)
  afterAll(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it("places the levels on the model's own scale, the same for every photo and search", async () => {
    api = createEngineApi(engine)
    const photos = value(await api.listPhotos({ offset: 0, limit: 100 })).photos
    expect(photos).toHaveLength(Object.keys(labels.images).length)
    const details = await Promise.all(photos.map(async (p) => value(await api.getPhoto(p.id, { top: 10 }))))
    const scale = details[0].tags.scale!
    // The same scale for every photo and in search results, read from each photo's best stored score.
    expect(scale).toEqual(scoreScale(details.map((d) => d.tags.suggestions[0].score)))
    expect(scale.veryLikely).toBeGreaterThan(0.5)
    expect(scale.veryLikely).toBeLessThan(0.75)
    expect(value(await api.search('dog')).scale).toEqual(scale)
    // A tenth of the photos have a 'very likely' best tag, by the scale's definition; most of the rest a 'likely' or 'possible' one.
    const best = details.map((d) => confidenceOf(d.tags.suggestions[0].score, scale))
    const share = (level: string) => best.filter((l) => l === level).length / best.length
    expect(share('very likely')).toBeGreaterThan(0.05)
    expect(share('very likely')).toBeLessThan(0.2)
    expect(share('possible')).toBeGreaterThan(share('likely'))
  })

  it('answers an unknown word with near spellings to search with instead', async () => {
    const result = await api.search('sunset dgo')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.didYouMean?.word).toBe('dgo')
    expect(result.error.didYouMean?.suggestions).toContain('dog')
    expect(result.error.hint).toMatch(/^Did you mean: .*dog/)
  })

  it("completes with the default vocabulary first, and no rare words: 'ca' gives car and cat before 'can'", async () => {
    const words = value(await api.complete('ca', 8)).map((c) => c.word)
    expect(words.slice(0, 3)).toEqual(['car', 'castle', 'camera'])
    expect(words).toContain('cat')
    expect(value(await api.complete('dog', 8)).map((c) => c.word)).toEqual(['dog', 'dogs', 'dogged'])
  })
})
