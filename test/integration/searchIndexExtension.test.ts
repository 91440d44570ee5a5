import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import type { PhotoOutcome } from '../../src/main/engine/library/libraryStore'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { PackStore } from '../../src/main/engine/models/packStore'
import { SearchService } from '../../src/main/engine/search/searchService'
import { VectorMatrix } from '../../src/main/engine/search/vectorMatrix'
import { prng } from '../helpers/prng'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

const QUERIES = ['dog', 'beach | snow', 'car -street', '(cat | dog) sofa']

/**
 * When photos are only added (an indexing run), search extends its index with them instead of
 * building it again; its answers must be exactly those of an index built from scratch.
 */
describe('search index extended with new photos', () => {
  const tmp = tempDir()
  const random = prng(11)
  let engine: Engine
  let written = 0

  const addPhotos = async (count: number) => {
    const library = await engine.library()
    const manifest = await engine.manifest()
    const folderId = library.store.folders()[0].id
    const outcomes: PhotoOutcome[] = Array.from({ length: count }, () => {
      const i = written++
      return {
        kind: 'indexed',
        facts: { path: join(tmp.dir, 'Photos', `${i}.jpg`), folderId, size: 1, mtimeMs: 0, fingerprint: `f${i}` },
        details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
        vectors: Float32Array.from({ length: manifest.dim * manifest.rows }, () => random() - 0.5)
      }
    })
    library.store.writeOutcomes(outcomes, library.store.modelId(manifest))
  }

  /** Every query's hits, and with --all and another top N, from `service`. */
  const answers = async (service: SearchService) => {
    const out = []
    for (const q of QUERIES) {
      for (const opts of [{ limit: 30 }, { all: true, limit: 30 }, { topN: 3, limit: 30 }]) {
        const response = await service.search(q, opts)
        out.push({ q, opts, photos: response.photos, hits: response.hits.map((h) => [h.path, h.score, h.match.principalVector, h.match.nearestWords.join(' ')]) })
      }
    }
    return out
  }

  /** What a search service of its own is built from: the engine's library, tags, learned keywords, tagger and pack. */
  const searchParts = async () => {
    const { tags, learnedKeywords, catalog } = await engine.repositories()
    return { library: await engine.library(), tags, learnedKeywords, tagger: await engine.tagger(), pack: engine.pack, catalog }
  }

  /** What a fresh index says, built from scratch over the library as it is. */
  const fromScratch = async () => {
    const service = new SearchService(await searchParts())
    const result = await answers(service)
    service.invalidate()
    return result
  }

  beforeAll(async () => {
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const { mkdirSync } = await import('node:fs')
    mkdirSync(join(tmp.dir, 'Photos'))
    ;(await engine.library()).addFolder(join(tmp.dir, 'Photos'))
    await addPhotos(400)
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await engine.close()
    tmp.cleanup()
  })

  it('answers as a fresh index would after each addition, extending instead of rebuilding, and merges its small shards', async () => {
    const build = vi.spyOn(VectorMatrix, 'build')
    const extend = vi.spyOn(VectorMatrix.prototype, 'extend')
    const compact = vi.spyOn(VectorMatrix.prototype, 'withoutSmallTail')
    const search = new SearchService(await searchParts())
    await answers(search)
    expect(build).toHaveBeenCalledTimes(1)
    // Six additions: past four small shards, the photos after the full ones are merged again.
    for (let round = 1; round <= 6; round++) {
      await addPhotos(37)
      const extended = await answers(search)
      const builds = build.mock.calls.length
      expect(extended).toEqual(await fromScratch())
      expect(build.mock.calls.length).toBe(builds + 1)
      expect(extend).toHaveBeenCalledTimes(round)
      expect(extended[0].photos).toBe(400 + 37 * round)
    }
    expect(compact).toHaveBeenCalled()
    expect(build.mock.calls.length).toBe(1 + 6)
    search.invalidate()
  }, 120_000)

  it('builds anew when a photo went missing', async () => {
    const search = new SearchService(await searchParts())
    await answers(search)
    const library = await engine.library()
    const build = vi.spyOn(VectorMatrix, 'build')
    build.mockClear()
    const gone = library.store.embeddedPhotoList(library.store.modelId(await engine.manifest()))[5]
    expect(library.store.markMissing([library.store.photoByPath(gone.path)!])).toEqual([gone.id])
    await addPhotos(3)
    const after = await answers(search)
    expect(build).toHaveBeenCalledTimes(1)
    build.mockClear()
    expect(after).toEqual(await fromScratch())
    search.invalidate()
  }, 120_000)

  it('follows a switch of the active model made by another process at once', async () => {
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse-copy' })
    const search = new SearchService(await searchParts())
    const before = await search.search('dog')
    expect(before.model).toBe('conse')
    // As `sdl-tagger model use` run beside the app: another PackStore, so no invalidate() reaches search.
    const cli = new PackStore(join(tmp.dir, 'data'))
    await cli.use('conse-copy')
    const switched = await search.search('dog')
    expect(switched).toMatchObject({ model: 'conse-copy', photos: 0 })
    await cli.use('conse')
    expect(await search.search('dog')).toMatchObject({ model: 'conse', photos: before.photos })
    search.invalidate()
  }, 60_000)
})
