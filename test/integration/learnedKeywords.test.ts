import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import type { TagSuggestion } from '../../src/main/engine/tagging/autoTagger'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

// A keyword no dictionary knows, given to photos of one COCO class, learned from them with the
// ConSE pack on the 64 COCO dev photos: listed, suggested for the class's other photo (where it
// reaches its own cut-off) and not for photos of other classes, found by search after the photos
// that carry it (also without --all), relearned after a reject, and kept through a rename.
describe('keywords learned from the photos that carry them', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const labels = JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')) as { images: Record<string, string[]> }
  const names = Object.keys(labels.images).sort()
  const giraffes = names.filter((n) => labels.images[n].includes('giraffe'))
  const [carried, heldOut] = [giraffes.slice(0, 3), giraffes[3]]
  const KEYWORD = 'Qzxlongneck'
  let engine: Engine
  /** The library's path of each photo, by file name: it stores real paths, and ../shared may be reached through a link. */
  const paths = new Map<string, string>()
  const path = (name: string) => paths.get(name)!
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await cli('--json', ...args)
    expect(run.stderr).not.toMatch(/error|warning/i)
    expect(run.code).toBe(0)
    return JSON.parse(run.stdout) as T
  }
  const learner = () => engine.keywordLearner()
  const listed = async (keyword: string) => (await json<Array<{ keyword: string; learned: unknown }>>('keywords', 'list')).find((k) => k.keyword === keyword)
  /** The keyword's suggestion score for every photo that does not carry it, best first. */
  const suggestedFor = async (keyword: string) => {
    const results = await (await engine.tagger()).autotag(undefined, { top: 5000 })
    return results
      .map((r) => ({ name: basename(r.path), suggestion: r.suggestions.find((s) => s.tag === keyword) }))
      .filter((r): r is { name: string; suggestion: TagSuggestion } => r.suggestion !== undefined)
      .sort((a, b) => b.suggestion.score - a.suggestion.score)
  }

  beforeAll(async () => {
    expect(giraffes.length).toBeGreaterThanOrEqual(4)
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(COCO_DIR)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    const modelId = library.store.modelId(await engine.manifest())
    for (const photo of library.store.embeddedPhotoList(modelId)) paths.set(basename(photo.path), photo.path)
    // Whatever the index run queued is learned (nothing: no keyword yet) before the tests begin.
    expect(await (await learner()).idle()).toEqual({ learned: [], failed: [] })
  }, 300_000)
  afterAll(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it('learns a keyword once 3 photos carry it, not before, and lists it with its examples and quality', async () => {
    const tagger = await engine.tagger()
    for (const name of carried.slice(0, 2)) await tagger.addTag(path(name), KEYWORD)
    expect(await (await learner()).idle()).toEqual({ learned: [], failed: [] })
    expect(await listed(KEYWORD)).toEqual({ keyword: KEYWORD, path: [KEYWORD], photos: 2, learned: null })
    expect((await suggestedFor(KEYWORD)).length).toBe(0)

    await tagger.addTag(path(carried[2]), KEYWORD)
    expect(await (await learner()).idle()).toEqual({ learned: [KEYWORD], failed: [] })
    expect(await listed(KEYWORD)).toEqual({
      keyword: KEYWORD,
      path: [KEYWORD],
      photos: 3,
      learned: { examples: 3, quality: expect.stringMatching(/^(reliable|fair|needs more examples)$/) }
    })
    const human = await cli('keywords', 'list')
    expect(human.stdout).toMatch(new RegExp(`^${KEYWORD}  \\(3 photos\\)  learned from 3 photos\\. (Reliable|Fair|Needs more examples): .+\\.$`, 'm'))
    // Nothing changed since: nothing is learned again.
    expect(await (await learner()).learnStale()).toEqual({ learned: [], failed: [] })
  })

  it("suggests it where it reaches its own cut-off: the class's photo that lacks it, first, and few photos of other classes", async () => {
    const [{ threshold }] = (await engine.repositories()).learnedKeywords.learned(await modelId())
    expect(threshold).toEqual(expect.any(Number))
    const ranked = await suggestedFor(KEYWORD)
    for (const name of carried) expect(ranked.map((r) => r.name)).not.toContain(name)
    expect(ranked[0]).toEqual({ name: heldOut, suggestion: expect.objectContaining({ tag: KEYWORD, learnedFrom: 3 }) })
    expect(ranked.every((r) => r.suggestion.score >= threshold!)).toBe(true)
    const otherClasses = ranked.filter((r) => !labels.images[r.name].includes('giraffe'))
    expect(otherClasses.length).toBeLessThan((names.length - giraffes.length) / 4)
    // Among a photo's 10 suggestions (the default), though its raw score is below the words the photo shows.
    const tagger = await engine.tagger()
    const suggestions = await tagger.suggestions(path(heldOut))
    expect(suggestions).toHaveLength(10)
    expect(suggestions.find((s) => s.tag === KEYWORD)).toMatchObject({ learnedFrom: 3 })
    expect(Math.max(...suggestions.filter((s) => s.tag !== KEYWORD).map((s) => s.score))).toBeGreaterThan(ranked[0].suggestion.score)
    // A photo of another class that its vector scores below the cut-off is not suggested it, however many suggestions are asked.
    const search = await engine.search()
    const { hits } = await search.search(KEYWORD.toLowerCase(), { all: true, limit: names.length })
    const below = hits.filter((h) => h.score < threshold! && !labels.images[basename(h.path)].includes('giraffe'))
    expect(below.length).toBeGreaterThan(0)
    for (const hit of below.slice(0, 3)) expect((await tagger.suggestions(hit.path, { top: 5000 })).map((s) => s.tag)).not.toContain(KEYWORD)
    const { stdout } = await cli('tags', path(heldOut))
    expect(stdout).toMatch(new RegExp(`${KEYWORD} -?\\d+\\.\\d{3} \\(learned from 3 photos\\)`))
  })

  it('searches the photos that carry it first, then those its learned vector scores', async () => {
    const search = await engine.search()
    const { hits } = await search.search(KEYWORD.toLowerCase(), { all: true, limit: names.length })
    expect(hits).toHaveLength(names.length)
    expect(
      hits
        .slice(0, 3)
        .map((h) => basename(h.path))
        .sort()
    ).toEqual([...carried].sort())
    expect(hits.slice(0, 3).every((h) => h.match.tagged && Number.isFinite(h.score) && h.match.principalVector >= 0)).toBe(true)
    expect(hits[3]).toMatchObject({ path: path(heldOut), match: { tagged: false } })
    // Within each group, by the learned vector's score.
    for (const group of [hits.slice(0, 3), hits.slice(3)]) for (let i = 1; i < group.length; i++) expect(group[i - 1].score).toBeGreaterThanOrEqual(group[i].score)
  })

  it("without --all, finds the carriers first, then the photos reaching its own cut-off: the class's photo that lacks it first", async () => {
    const [{ threshold }] = (await engine.repositories()).learnedKeywords.learned(await modelId())
    const cut = await json<Array<{ path: string; score: number; match: { tagged: boolean } }>>('search', KEYWORD)
    expect(
      cut
        .slice(0, 3)
        .map((h) => h.match.tagged)
        .every(Boolean)
    ).toBe(true)
    expect(cut[3]).toMatchObject({ path: path(heldOut), match: { tagged: false } })
    // Exactly the photos its vector scores at or above the cut-off follow the carriers.
    const { hits } = await (await engine.search()).search(KEYWORD.toLowerCase(), { all: true, limit: names.length })
    const reaching = hits.filter((h) => !h.match.tagged && h.score >= threshold!).map((h) => h.path)
    expect(cut.slice(3).map((h) => h.path)).toEqual(reaching)
    expect(reaching.length).toBeLessThan(names.length / 4)
  })

  it('learns it again after a reject, and no longer suggests it there', async () => {
    // The photo of another class its vector scores highest: suggested it, or the nearest to being.
    const { hits } = await (await engine.search()).search(KEYWORD.toLowerCase(), { all: true, limit: names.length })
    const wrong = basename(hits.find((h) => !labels.images[basename(h.path)].includes('giraffe'))!.path)
    await (await engine.tagger()).reject(path(wrong), KEYWORD)
    // Its examples changed (in a library this small, every other photo was a negative already, so the vector need not).
    expect(await (await learner()).idle()).toEqual({ learned: [KEYWORD], failed: [] })
    expect((await engine.repositories()).learnedKeywords.learned(await modelId())).toMatchObject([{ key: KEYWORD.toLowerCase(), examples: 3 }])
    expect((await suggestedFor(KEYWORD)).map((r) => r.name)).not.toContain(wrong)
  })

  it('keeps the learned vector through a rename', async () => {
    const [before] = (await engine.repositories()).learnedKeywords.learned(await modelId())
    expect((await cli('keywords', 'rename', KEYWORD, 'Qzx Long Neck')).code).toBe(0)
    const [after] = (await engine.repositories()).learnedKeywords.learned(await modelId())
    expect(after).toMatchObject({ key: 'qzx long neck', text: 'Qzx Long Neck', examples: 3 })
    expect(after.vector).toEqual(before.vector)
    expect(await (await learner()).learnStale()).toEqual({ learned: [], failed: [] })
    expect((await listed('Qzx Long Neck'))?.learned).toMatchObject({ examples: 3 })
  })

  const modelId = async () => (await engine.library()).store.modelId(await engine.manifest())
})
