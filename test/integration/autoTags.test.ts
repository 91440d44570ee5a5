import { copyFileSync, mkdirSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { SdlError } from '../../src/main/engine/errors'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { AutoTagger } from '../../src/main/engine/tagging/autoTagger'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir, cocoPhotoNames } from '../helpers/sharedData'

// The ConSE pack has no vocabulary of its own, so suggestions come from DEFAULT_VOCABULARY (and
// custom words), scored from the principal vectors the library stored for five COCO photos.
describe('auto-tags the user accepts or rejects, and a custom vocabulary', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(5)
  const photo = (i: number) => join(folder, names[i])
  let engine: Engine
  let tagger: AutoTagger

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    tagger = new AutoTagger({ ...(await engine.repositories()), pack: engine.pack })
  }, 300_000)
  afterAll(async () => {
    await engine.close()
    tmp.cleanup()
  })

  it('auto-tags photos as they are indexed: their best vocabulary tags are stored', async () => {
    const { store } = await engine.library()
    const modelId = store.modelId(await engine.manifest())
    const vocabularyId = (await tagger.baseVocabulary()).id
    expect(store.embeddedCount(modelId)).toBe(names.length)
    expect(store.photoIdsMissingVocabularyScores(modelId, vocabularyId)).toEqual([])
    const stored = [...store.vocabularyScores(modelId, vocabularyId)]
    expect(stored).toHaveLength(names.length)
    // What is stored is what scoring the photo afresh gives.
    const [first] = await tagger.suggestions(photo(0), { top: 1 })
    const own = stored.find((s) => s.photoId === store.photoByPath(photo(0))!.id)!
    expect((await tagger.baseVocabulary()).tags[own.tags[0]]).toBe(first.tag)
    expect(own.scores[0]).toBeCloseTo(first.score, 5)
  })

  it('suggests the best vocabulary tags, sorted, scored like the raw model output', async () => {
    const suggestions = await tagger.suggestions(photo(0), { top: 8 })
    expect(suggestions).toHaveLength(8)
    for (let i = 1; i < suggestions.length; i++) expect(suggestions[i - 1].score).toBeGreaterThanOrEqual(suggestions[i].score)
    for (const s of suggestions) expect(s.unseen).toBe(false)
    // The stored float16 vectors score close to the model's own float32 output.
    const vocab = await tagger.vocabulary()
    let raw: Float32Array | undefined
    for await (const r of engine.embed([photo(0)])) if ('output' in r) raw = r.output
    const { rows, dim } = (await engine.session()).manifest
    const t = vocab.tags.indexOf(suggestions[0].tag)
    let best = -Infinity
    for (let k = 0; k < rows; k++) {
      let dot = 0
      for (let d = 0; d < dim; d++) dot += raw![d * rows + k] * vocab.vectors[t * dim + d]
      best = Math.max(best, dot)
    }
    expect(Math.abs(best - suggestions[0].score)).toBeLessThan(0.01 * Math.max(1, Math.abs(best)))
    const floor = suggestions[3].score
    const above = await tagger.suggestions(photo(0), { top: 8, minScore: floor })
    expect(above.map((s) => s.tag)).toEqual(suggestions.slice(0, 4).map((s) => s.tag))
  })

  it('never suggests a rejected tag again, also after the photo is indexed again', async () => {
    const [first] = await tagger.suggestions(photo(1), { top: 5 })
    await tagger.reject(photo(1), first.tag)
    const after = await tagger.tags(photo(1), { top: 50 })
    expect(after.rejected).toEqual([first.tag])
    expect(after.suggestions.map((s) => s.tag)).not.toContain(first.tag)
    expect(after.suggestions).toHaveLength(50)

    // Touch the file so the indexer reads it again.
    utimesSync(photo(1), new Date(), new Date(Date.now() + 5000))
    const summary = await (await engine.library()).index()
    expect(summary.indexed + summary.unchanged).toBe(names.length)
    const reindexed = await tagger.tags(photo(1), { top: 50 })
    expect(reindexed.rejected).toEqual([first.tag])
    expect(reindexed.suggestions.map((s) => s.tag)).not.toContain(first.tag)
    const all = await tagger.autotag(folder, { top: 50 })
    expect(all.find((r) => r.path.endsWith(names[1]))!.suggestions.map((s) => s.tag)).not.toContain(first.tag)
  })

  it('moves an accepted tag to accepted, and flips a rejected one', async () => {
    const [a, b] = await tagger.suggestions(photo(2), { top: 2 })
    await tagger.accept(photo(2), a.tag)
    await tagger.reject(photo(2), b.tag)
    await tagger.accept(photo(2), b.tag)
    const t = await tagger.tags(photo(2))
    expect(t.accepted.sort()).toEqual([a.tag, b.tag].sort())
    expect(t.rejected).toEqual([])
    expect(t.suggestions.map((s) => s.tag)).not.toContain(a.tag)
    expect(t.suggestions.map((s) => s.tag)).not.toContain(b.tag)
    await expect(tagger.accept(photo(2), 'kitchn')).rejects.toThrow(/not in the vocabulary/)
  })

  it("takes the user's own tags as written, known to the lexicon or not", async () => {
    expect(await tagger.addTag(photo(3), ' Grandma ')).toBe('Grandma')
    expect(await tagger.addTag(photo(3), 'qzxqzxq')).toBe('qzxqzxq')
    const t = await tagger.tags(photo(3))
    expect(t.user).toEqual(['Grandma', 'qzxqzxq'])
    await expect(tagger.addTag(photo(3), ' \t ')).rejects.toThrow(SdlError)
  })

  it('scores custom vocabulary words alongside the default ones, as unseen', async () => {
    expect(await tagger.addWords(['kayak', 'lighthouse'])).toEqual({ added: ['kayak', 'lighthouse'], already: [], refused: [] })
    expect(await tagger.customWords()).toEqual(['kayak', 'lighthouse'])
    const vocab = await tagger.vocabulary()
    expect(vocab.tags.slice(-2)).toEqual(['kayak', 'lighthouse'])
    const all = await tagger.suggestions(photo(4), { top: 10_000 })
    expect(all).toHaveLength(vocab.tags.length)
    const kayak = all.find((s) => s.tag === 'kayak')!
    expect(kayak.unseen).toBe(true)
    expect(Number.isFinite(kayak.score)).toBe(true)
    // The batched autotag scores agree with the one-photo ones.
    const batch = (await tagger.autotag(undefined, { top: 10_000 })).find((r) => r.path.endsWith(names[4]))!
    expect(batch.suggestions.find((s) => s.tag === 'kayak')!.score).toBeCloseTo(kayak.score, 4)
    expect(batch.suggestions.map((s) => s.tag).slice(0, 5)).toEqual(all.map((s) => s.tag).slice(0, 5))
    await tagger.removeWord('lighthouse')
    expect(await tagger.customWords()).toEqual(['kayak'])
    await expect(tagger.removeWord('lighthouse')).rejects.toThrow(/not in the custom vocabulary/)
  })

  it('keeps a custom word the lexicon does not know (unsuggested until it has a vector), and refuses only invalid words, each with its reason', async () => {
    const result = await tagger.addWords(['kitchn', ' ', 'bad\u0007word', 'Kayak'])
    expect(result.added).toEqual(['kitchn'])
    expect(result.already).toEqual(['Kayak'])
    expect(result.refused).toEqual([
      { word: ' ', reason: 'a keyword cannot be empty' },
      { word: 'bad\u0007word', reason: 'it contains the control character U+0007' }
    ])
    expect(await tagger.customWords()).toEqual(['kayak', 'kitchn'])
    expect((await tagger.suggestions(photo(4), { top: 10_000 })).map((s) => s.tag)).not.toContain('kitchn')
    await tagger.removeWord('KITCHN')
    expect(await tagger.customWords()).toEqual(['kayak'])
  })

  it('autotags every indexed photo of the folder, and names a photo outside the library', async () => {
    const results = await tagger.autotag(folder, { top: 3 })
    expect(results.map((r) => r.path.split(/[\\/]/).pop()).sort()).toEqual([...names].sort())
    for (const r of results) expect(r.suggestions).toHaveLength(3)
    await expect(tagger.tags(join(COCO_DIR, names[0]))).rejects.toThrow(names[0])
    await expect(tagger.autotag(COCO_DIR)).rejects.toThrow(/not a library folder/)
  })

  it('works through the CLI', async () => {
    await engine.close()
    const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
    const auto = await cli('--json', 'autotag', folder, '--top', '2')
    expect(auto.code).toBe(0)
    const results = JSON.parse(auto.stdout) as Array<{ path: string; suggestions: Array<{ tag: string; score: number; unseen: boolean }> }>
    expect(results).toHaveLength(names.length)
    const tag = results.find((r) => r.path.endsWith(names[0]))!.suggestions[0].tag

    expect((await cli('reject', photo(0), tag)).code).toBe(0)
    const tags = JSON.parse((await cli('--json', 'tags', photo(0))).stdout)
    expect(tags.rejected).toEqual([tag])
    expect(tags.suggestions.map((s: { tag: string }) => s.tag)).not.toContain(tag)
    expect((await cli('accept', photo(0), tag)).stdout).toContain(`Accepted '${tag}'`)
    const human = await cli('tags', photo(0))
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`accepted: +${tag}`))

    expect((await cli('vocab', 'add', 'canoe')).stdout).toContain('Added canoe')
    expect(JSON.parse((await cli('--json', 'vocab', 'list')).stdout)).toEqual(['kayak', 'canoe'])
    const bad = await cli('vocab', 'add', 'Smyrnakis', 'bad\u0001word')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('"bad\\u0001word" not added: it contains the control character U+0001')
    expect(bad.stdout).toContain('Added Smyrnakis')
    expect((await cli('vocab', 'remove', 'canoe')).code).toBe(0)
    expect((await cli('vocab', 'remove', 'smyrnakis')).code).toBe(0)
    const human2 = await cli('autotag', '--top', '1')
    expect(human2.code).toBe(0)
    expect(human2.stdout.trim().split('\n')).toHaveLength(names.length)
    const missing = await cli('tags', join(tmp.dir, 'nowhere.jpg'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('nowhere.jpg')
  })
})
