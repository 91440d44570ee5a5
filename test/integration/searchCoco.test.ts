import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { Lexicon } from '../../src/main/engine/lexicon/lexicon'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

/** Average precision of a ranking (best first) against the set of relevant items. */
function averagePrecision(ranking: readonly string[], relevant: ReadonlySet<string>): number {
  let hits = 0
  let sum = 0
  ranking.forEach((item, i) => {
    if (relevant.has(item)) sum += ++hits / (i + 1)
  })
  return sum / relevant.size
}

// A real model on real photos: the ConSE pack (ImageNet MobileNetV2 in the SDL contract, GloVe
// space) on 64 labelled COCO photos. Retrieval through the app must be as good as scoring the
// model's raw float32 outputs directly.
describe('search on COCO photos with the ConSE pack', () => {
  const tmp = tempDir()
  const labels = JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')) as { images: Record<string, string[]> }
  const photos = Object.keys(labels.images).map((f) => join(COCO_DIR, f))
  const counts = new Map<string, number>()
  for (const tags of Object.values(labels.images)) for (const t of tags) counts.set(t, (counts.get(t) ?? 0) + 1)
  const classes = [...counts]
    .filter(([, n]) => n >= 3)
    .map(([c]) => c)
    .sort()
  let engine: Engine

  beforeAll(async () => {
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(COCO_DIR)
    expect(await library.index()).toMatchObject({ indexed: photos.length, failed: 0 })
  }, 300_000)
  afterAll(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it('ranks every class of 3+ photos as well as the raw model outputs do', async () => {
    const search = await engine.search()
    const { manifest } = await engine.session()
    const lexicon = await Lexicon.open({ dataDir: engine.dataDir, manifest, vocabulary: null })
    const raw = new Map<string, Float32Array>()
    for await (const r of engine.embed(photos)) if ('output' in r) raw.set(r.path, r.output)

    const appAps: number[] = []
    const rawAps: number[] = []
    for (const cls of classes) {
      // By file name: the library stores real paths, and ../shared may be reached through a link.
      const relevant = new Set(Object.keys(labels.images).filter((f) => labels.images[f].includes(cls)))
      const { hits } = await search.search(`"${cls}"`, { all: true, limit: photos.length })
      expect(hits).toHaveLength(photos.length)
      appAps.push(
        averagePrecision(
          hits.map((h) => basename(h.path)),
          relevant
        )
      )

      const found = lexicon.lookup(cls)
      if (!found.ok) throw new Error(`lexicon lacks ${cls}`)
      const w = found.vector
      const score = (out: Float32Array) => {
        let best = -Infinity
        for (let k = 0; k < manifest.rows; k++) {
          let dot = 0
          for (let d = 0; d < manifest.dim; d++) dot += out[d * manifest.rows + k] * w[d]
          best = Math.max(best, dot)
        }
        return best
      }
      const rawRanking = [...raw].map(([path, out]) => ({ path, s: score(out) })).sort((a, b) => b.s - a.s)
      rawAps.push(
        averagePrecision(
          rawRanking.map((r) => basename(r.path)),
          relevant
        )
      )
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    console.log(`${classes.length} classes: mAP through the app ${mean(appAps).toFixed(4)}, from raw outputs ${mean(rawAps).toFixed(4)}`)
    expect(classes.length).toBe(27)
    expect(Math.abs(mean(appAps) - mean(rawAps))).toBeLessThan(0.005)
    // Far above chance (the model card reports 0.254 against 0.140 for a random ranking).
    expect(mean(appAps)).toBeGreaterThan(0.2)
  })

  it('returns only photos a term applies to without --all, each saying why it matched', async () => {
    const search = await engine.search()
    const { hits } = await search.search('person', { limit: 10 })
    expect(hits.length).toBeGreaterThan(0)
    expect(hits.length).toBeLessThan(photos.length)
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score)
    for (const h of hits) {
      expect(h.match.term).toBe('person')
      expect(h.match.principalVector).toBeGreaterThanOrEqual(0)
      expect(h.match.principalVector).toBeLessThan(7)
      expect(h.match.nearestWords).toHaveLength(5)
    }
  })

  it('gives what exact scoring of every photo gives, for boolean queries, though its index holds 4-bit vectors', async () => {
    const search = await engine.search()
    const { store } = await engine.library()
    const manifest = await engine.manifest()
    const modelId = store.modelId(manifest)
    const tagger = await engine.tagger()
    const lexicon = await tagger.lexicon()
    const vocabularyId = (await tagger.baseVocabulary()).id
    // The reference: every photo's stored vectors scored exactly, and its 25th best vocabulary score as the cut-off.
    const ids = [...store.photoPaths()].filter(([id]) => store.photoVectors(id, modelId))
    const thresholds = new Map([...store.vocabularyScores(modelId, vocabularyId)].map((s) => [s.photoId, s.scores[24]]))
    const exact = (word: string) => {
      const found = lexicon.lookup(word)
      if (!found.ok) throw new Error(word)
      return new Map(
        ids.map(([id]) => {
          const v = store.photoVectors(id, modelId)!
          let best = -Infinity
          for (let k = 0; k < manifest.rows; k++) {
            let dot = 0
            for (let d = 0; d < manifest.dim; d++) dot += v[d * manifest.rows + k] * found.vector[d]
            best = Math.max(best, dot)
          }
          return [id, best]
        })
      )
    }
    const [person, dog, car, man] = ['person', 'dog', 'car', 'man'].map(exact)
    // Ranks within the top 25 of the vocabulary plus the term: at least the 25th score (a vocabulary
    // word ties with its own score, so float rounding is forgiven).
    const applies = (m: Map<number, number>, id: number) => m.get(id)! >= thresholds.get(id)! - 1e-5
    const cases: Array<[string, (id: number) => boolean, (id: number) => number]> = [
      ['person', (id) => applies(person, id), (id) => person.get(id)!],
      ['person -dog', (id) => applies(person, id) && !applies(dog, id), (id) => person.get(id)!],
      ['person | car', (id) => applies(person, id) || applies(car, id), (id) => Math.max(person.get(id)!, car.get(id)!)],
      ['person man', (id) => applies(person, id) && applies(man, id), (id) => Math.min(person.get(id)!, man.get(id)!)],
      ['(person | car) -man', (id) => (applies(person, id) || applies(car, id)) && !applies(man, id), (id) => Math.max(person.get(id)!, car.get(id)!)]
    ]
    for (const [query, matches, relevance] of cases) {
      const expected = ids
        .filter(([id]) => matches(id))
        .sort((a, b) => relevance(b[0]) - relevance(a[0]))
        .slice(0, 6)
        .map(([, path]) => path)
      expect(expected.length, query).toBeGreaterThan(0)
      // Only 12 candidates beyond the limit (of 64 photos) are rescored: the 4-bit stage must already hold the right ones.
      const { hits } = await search.search(query, { limit: 6, topN: 25, rescoredBeyondLimit: 12 })
      expect(
        hits.map((h) => h.path),
        query
      ).toEqual(expected)
    }
  })

  it('says which word it does not know, with near spellings', async () => {
    const search = await engine.search()
    await expect(search.search('dgo')).rejects.toThrow(/Unknown word 'dgo'/)
    await expect(search.search('(dog')).rejects.toThrow(/position/)
  })

  // Last: it changes the photos' tags.
  it("lets the user's tags decide: a tagged photo matches, a rejected one does not, and a tag the lexicon lacks is searchable", async () => {
    const search = await engine.search()
    const { store } = await engine.library()
    const tags = new TagStore(store.db)
    const [top] = (await search.search('person', { limit: 1 })).hits
    const id = (path: string) => store.photoByPath(path)!.id
    tags.setPhotoTag(id(top.path), 'person', 'rejected')
    expect((await search.search('person', { limit: 100 })).hits.map((h) => h.path)).not.toContain(top.path)

    const { hits: all } = await search.search('giraffe', { all: true, limit: photos.length })
    const last = all[all.length - 1]
    expect((await search.search('giraffe', { limit: 100 })).hits.map((h) => h.path)).not.toContain(last.path)
    tags.setPhotoTag(id(last.path), 'giraffe', 'accepted')
    const tagged = (await search.search('giraffe', { limit: 100 })).hits.find((h) => h.path === last.path)
    expect(tagged?.match.tagged).toBe(true)

    // Imported from XMP, unknown to every word list: found through the tag alone.
    tags.setPhotoTag(id(last.path), 'qzxfamily reunion', 'user')
    const { hits } = await search.search('"QZXfamily  reunion"')
    expect(hits.map((h) => h.path)).toEqual([last.path])
    expect(hits[0].match).toMatchObject({ term: 'qzxfamily reunion', principalVector: -1, nearestWords: [], tagged: true })
    await expect(search.search('qzxother')).rejects.toThrow(/Unknown word/)
  })
})
