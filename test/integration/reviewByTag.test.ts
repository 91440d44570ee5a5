import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReviewPage, ReviewTag, XmpExportReport } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { COCO_DIR, CONSE_ONNX, cocoPhotoNames, tempDir } from '../helpers/sharedData'

function valueOf<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message)
  return result.value
}

// Review by tag through the API, on eight COCO photos indexed with the ConSE pack: the tags the
// photos' suggestions name, and one tag's photos best first, as the photo view and the CLI's
// `review` rank them.
describe('review by tag', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(8)
  let engine: Engine
  let api: EngineApi
  let top: number

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    api = createEngineApi(engine)
    top = (await engine.settings.get()).suggestionCount
  }, 300_000)
  afterAll(async () => {
    await api.stop()
    await engine.close()
    tmp.cleanup()
  })

  /** Per tag, the photos whose suggestions (as the photo view lists them) name it, with the scores. */
  async function suggestedByTag(): Promise<Map<string, Array<{ path: string; score: number }>>> {
    const out = new Map<string, Array<{ path: string; score: number }>>()
    for (const { path, suggestions } of await (await engine.tagger()).autotag(undefined, { top })) {
      for (const s of suggestions) out.set(s.tag, [...(out.get(s.tag) ?? []), { path, score: s.score }])
    }
    return out
  }

  it('lists every suggested tag once, with its photos counted, the most photos first and then the surer tag', async () => {
    const expected = await suggestedByTag()
    const tags = valueOf(await api.reviewTags())
    expect(tags.map((t) => t.tag).sort()).toEqual([...expected.keys()].sort())
    for (const t of tags) {
      const photos = expected.get(t.tag)!
      expect(t.photos).toBe(photos.length)
      expect(t.meanScore).toBeCloseTo(photos.reduce((sum, p) => sum + p.score, 0) / photos.length, 5)
    }
    for (let i = 1; i < tags.length; i++) {
      const [a, b] = [tags[i - 1], tags[i]]
      expect(a.photos > b.photos || (a.photos === b.photos && a.meanScore >= b.meanScore)).toBe(true)
    }
    expect(tags[0].photos).toBeGreaterThan(1)
  })

  it('pages one tag’s photos best first, as the CLI’s review ranks them; a photo decided on it leaves the list', async () => {
    const [best] = valueOf(await api.reviewTags())
    const review = await (await engine.tagger()).review(best.tag, { top })
    const first = valueOf(await api.reviewTag(best.tag, { offset: 0, limit: 2 }))
    const rest = valueOf(await api.reviewTag(best.tag, { offset: 2, limit: 100 }))
    expect(first.total).toBe(best.photos)
    expect(rest.total).toBe(best.photos)
    const paged = [...first.photos, ...rest.photos]
    expect(paged.map((p) => ({ path: p.path, score: p.score }))).toEqual(review)
    expect(paged[0]).toMatchObject({ name: review[0].path.split('/').pop(), status: 'ok', offline: false })

    const accepted = valueOf(await api.tagPhotos({ photos: [paged[0].id], tag: best.tag, action: 'accept' }))
    expect(accepted.step).not.toBeNull()
    const after: ReviewPage = valueOf(await api.reviewTag(best.tag, { offset: 0, limit: 100 }))
    expect(after.photos.map((p) => p.id)).toEqual(paged.slice(1).map((p) => p.id))
    const counted: ReviewTag | undefined = valueOf(await api.reviewTags()).find((t) => t.tag === best.tag)
    expect(counted?.photos ?? 0).toBe(best.photos - 1)

    valueOf(await api.undoTagging())
    expect(valueOf(await api.reviewTag(best.tag, { offset: 0, limit: 100 })).total).toBe(best.photos)
  })

  it('names a tag the model cannot suggest, and answers an empty page for a known tag no photo waits on', async () => {
    const unknown = await api.reviewTag('qzxqzxq', { offset: 0, limit: 10 })
    expect(unknown).toMatchObject({ ok: false, error: { message: "'qzxqzxq' is not in the vocabulary" } })
    const suggested = new Set((await suggestedByTag()).keys())
    const vocabulary = (await (await engine.tagger()).vocabulary()).tags
    const waitedOnByNone = vocabulary.find((t) => !suggested.has(t))!
    expect(valueOf(await api.reviewTag(waitedOnByNone, { offset: 0, limit: 10 }))).toEqual({ tag: waitedOnByNone, total: 0, offset: 0, photos: [] })
    expect(await api.reviewTag('beach', { offset: -1, limit: 10 })).toMatchObject({ ok: false, error: { message: expect.stringContaining("argument 'request.offset'") } })
  })

  it('exports the sidecars of the photos asked for only', async () => {
    const [best] = valueOf(await api.reviewTags())
    const page = valueOf(await api.reviewTag(best.tag, { offset: 0, limit: 2 }))
    const ids = page.photos.map((p) => p.id)
    valueOf(await api.tagPhotos({ photos: ids, tag: best.tag, action: 'accept' }))
    // Every photo has a tag to export, so a sidecar written for another would show.
    const all = (await engine.repositories()).catalog.page(0, 100)
    valueOf(await api.tagPhotos({ photos: all.map((p) => p.id), tag: 'holiday', action: 'add-tag' }))
    const report: XmpExportReport = valueOf(await api.exportXmp({ dryRun: false, photos: ids }))
    expect(report.entries.map((e) => e.photoPath).sort()).toEqual(page.photos.map((p) => p.path).sort())
    for (const photo of all) expect(existsSync(`${photo.path}.xmp`)).toBe(ids.includes(photo.id))
  })
})
