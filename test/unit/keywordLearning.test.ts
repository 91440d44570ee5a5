import { describe, expect, it } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { KEYWORD_LEARNING, keywordQuality, learnKeywordVector } from '../../src/main/engine/tagging/keywordLearning'
import { sdlScore } from '../../src/main/engine/tagging/scoreTags'
import { prng } from '../helpers/prng'
import { cosine } from '../helpers/vectorMath'

const DIM = 32
const ROWS = 5

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v)
  return v.map((x) => x / norm)
}

function randomUnit(random: () => number): Float32Array {
  return unit(Float32Array.from({ length: DIM }, () => gaussian(random)))
}

/**
 * Photos like ConSE's: each principal vector a random concept's direction (plus noise) scaled by a
 * decreasing weight; a photo with the keyword has the hidden concept as one of its first three.
 * With `lookalike`, a fifth of the photos without it show instead a concept close to it (cosine
 * 0.8) as their first: only learning against such negatives tells the two apart.
 */
function library(count: number, hidden: Float32Array, share: number, seed: number, noise = 0.05, lookalike = false): { photos: Float32Array[]; tagged: boolean[] } {
  const random = prng(seed)
  const concepts = Array.from({ length: 200 }, () => randomUnit(random))
  const other = randomUnit(random)
  const near = unit(hidden.map((h, d) => 0.8 * h + 0.6 * other[d]))
  const tagged: boolean[] = []
  const photos = Array.from({ length: count }, () => {
    const has = random() < share
    tagged.push(has)
    const where = Math.floor(random() * 3)
    const photo = new Float32Array(DIM * ROWS)
    const confusing = lookalike && !has && random() < 0.2
    for (let k = 0; k < ROWS; k++) {
      const concept = has && k === where ? hidden : confusing && k === 0 ? near : concepts[Math.floor(random() * concepts.length)]
      const weight = 0.7 ** k * (0.6 + 0.8 * random())
      for (let d = 0; d < DIM; d++) photo[d * ROWS + k] = weight * concept[d] + noise * gaussian(random)
    }
    return photo
  })
  return { photos, tagged }
}

function averagePrecision(scores: readonly number[], relevant: readonly boolean[]): number {
  const order = scores.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s)
  let hits = 0
  let sum = 0
  order.forEach(({ i }, rank) => {
    if (relevant[i]) sum += ++hits / (rank + 1)
  })
  return sum / hits
}

/** The first `examples` tagged photos of the first 2000 as positives, their untagged ones as negatives; the rest ranked. */
function experiment(examples: number, opts: { prior?: Float32Array; seed?: number; noise?: number; lookalike?: boolean } = {}) {
  const random = prng(opts.seed ?? 7)
  const hidden = randomUnit(random)
  const { photos, tagged } = library(4000, hidden, 0.05, (opts.seed ?? 7) + 1, opts.noise, opts.lookalike)
  const train = photos.slice(0, 2000)
  const positives = train.filter((_, i) => tagged[i]).slice(0, examples)
  const negatives = train.filter((_, i) => !tagged[i])
  const learnt = learnKeywordVector({ positives, negatives, rows: ROWS, dim: DIM, prior: opts.prior })
  const test = photos.slice(2000)
  const heldOutAp = (w: Float32Array) =>
    averagePrecision(
      test.map((p) => sdlScore(p, ROWS, w).score),
      tagged.slice(2000)
    )
  return { hidden, learnt, positives, negatives, heldOutAp, chance: tagged.slice(2000).filter(Boolean).length / test.length }
}

describe('learnKeywordVector', () => {
  it('learns a keyword defined by a hidden direction apart from a lookalike, ranking held-out photos far above chance', () => {
    const { hidden, learnt, heldOutAp, chance } = experiment(30, { lookalike: true })
    expect(Math.hypot(...learnt.vector)).toBeCloseTo(1, 5)
    // Not the hidden direction itself, which ranks the lookalikes as high: away from them.
    expect(heldOutAp(hidden)).toBeLessThan(0.5)
    expect(cosine(learnt.vector, hidden)).toBeGreaterThan(0.5)
    expect(heldOutAp(learnt.vector)).toBeGreaterThan(Math.max(0.55, heldOutAp(hidden) + 0.1))
    expect(chance).toBeLessThan(0.1)
    expect(learnt).toMatchObject({ start: 'positives', positivesUsed: 30, negativesUsed: KEYWORD_LEARNING.poolSize, ignored: [] })
  })

  it('does better with more examples', () => {
    // Noisier photos than elsewhere, so that one example cannot pin the keyword down.
    const few = experiment(1, { noise: 0.15 })
    const many = experiment(30, { noise: 0.15 })
    expect(many.heldOutAp(many.learnt.vector)).toBeGreaterThan(few.heldOutAp(few.learnt.vector) + 0.15)
    expect(cosine(many.learnt.vector, many.hidden)).toBeGreaterThan(cosine(few.learnt.vector, few.hidden))
  })

  it('keeps the word vector of a known word with one or two examples, and leaves it as examples accumulate', () => {
    const prior = randomUnit(prng(99))
    for (const examples of [1, 2]) {
      const { learnt } = experiment(examples, { prior })
      expect(learnt.start).toBe('prior')
      expect(learnt.startCosine).toBeGreaterThan(0.9)
      expect(cosine(learnt.vector, prior)).toBeGreaterThan(0.9)
    }
    const { learnt, hidden, heldOutAp } = experiment(60, { prior })
    expect(cosine(learnt.vector, prior)).toBeLessThan(0.7)
    expect(cosine(learnt.vector, hidden)).toBeGreaterThan(0.8)
    expect(heldOutAp(learnt.vector)).toBeGreaterThan(heldOutAp(prior) + 0.5)
  })

  it('starts from what a few examples share, not from the concepts the model is surest of in each', () => {
    // Each positive: a different concept at full confidence, the keyword's own at a fifth of it.
    const random = prng(21)
    const hidden = randomUnit(random)
    const concepts = Array.from({ length: 200 }, () => randomUnit(random))
    const photo = (first: Float32Array, second: Float32Array | null) => {
      const out = new Float32Array(DIM * ROWS)
      for (let k = 0; k < ROWS; k++) {
        const concept = k === 0 ? first : k === 1 && second ? second : concepts[Math.floor(random() * concepts.length)]
        const weight = k === 0 ? 1 : k === 1 ? 0.2 : 0.05
        for (let d = 0; d < DIM; d++) out[d * ROWS + k] = weight * concept[d]
      }
      return out
    }
    const confident = [0, 1, 2].map(() => randomUnit(random))
    const positives = confident.map((c) => photo(c, hidden))
    const negatives = Array.from({ length: 300 }, () => photo(concepts[Math.floor(random() * concepts.length)], null))
    const start = learnKeywordVector({ positives, negatives, rows: ROWS, dim: DIM }, { ...KEYWORD_LEARNING, rounds: 0 }).vector
    // The positives' mean principal vector instead would start nearer each confident concept than the keyword.
    expect(cosine(start, hidden)).toBeGreaterThan(0.4)
    for (const c of confident) expect(cosine(start, c)).toBeLessThan(cosine(start, hidden))
  })

  it('gives the same vector for the same examples', () => {
    const a = experiment(10).learnt.vector
    const b = experiment(10).learnt.vector
    expect(Array.from(a)).toEqual(Array.from(b))
  })

  it('refuses a keyword without usable photos, naming it', () => {
    const nan = new Float32Array(DIM * ROWS).fill(NaN)
    const negatives = library(10, randomUnit(prng(1)), 0, 2).photos
    for (const positives of [[], [nan]]) {
      const run = () => learnKeywordVector({ positives, negatives, rows: ROWS, dim: DIM, keyword: 'Aunt Mabel' })
      expect(run).toThrow(SdlError)
      expect(run).toThrow(/keyword 'Aunt Mabel'/)
    }
    expect(() => learnKeywordVector({ positives: [new Float32Array(DIM * ROWS)], negatives, rows: ROWS, dim: DIM })).toThrow(/all zero/)
    expect(() => learnKeywordVector({ positives: negatives, negatives, rows: ROWS, dim: DIM, prior: new Float32Array(DIM - 1).fill(1) })).toThrow(/word vector/)
    expect(() => learnKeywordVector({ positives: negatives, negatives, rows: 0, dim: DIM })).toThrow(/shape/)
  })

  it('passes over photos with bad values, saying which and why, and learns from the rest', () => {
    const { photos, tagged } = library(600, randomUnit(prng(3)), 0.1, 4)
    const positives = photos.filter((_, i) => tagged[i])
    const negatives = photos.filter((_, i) => !tagged[i])
    const broken = Float32Array.from(positives[0])
    broken[5] = NaN
    const infinite = Float32Array.from(negatives[0])
    infinite[0] = Infinity
    const learnt = learnKeywordVector({ positives: [broken, ...positives.slice(1), new Float32Array(3)], negatives: [infinite, ...negatives.slice(1)], rows: ROWS, dim: DIM })
    expect(learnt.ignored).toEqual(
      expect.arrayContaining([
        { set: 'positives', index: 0, reason: 'has values that are not finite numbers' },
        { set: 'positives', index: positives.length, reason: `has 3 values instead of ${DIM * ROWS} (${DIM}x${ROWS})` },
        { set: 'negatives', index: 0, reason: 'has values that are not finite numbers' }
      ])
    )
    expect(learnt.positivesUsed).toBe(positives.length - 1)
    expect(learnt.vector.every(Number.isFinite)).toBe(true)
  })

  it('stays finite when every photo is the same, and starts from the positives without negatives', () => {
    const photo = library(1, randomUnit(prng(5)), 0, 6).photos[0]
    const same = Array.from({ length: 20 }, () => photo)
    const learnt = learnKeywordVector({ positives: same, negatives: same, rows: ROWS, dim: DIM })
    expect(learnt.vector.every(Number.isFinite)).toBe(true)
    expect(Math.hypot(...learnt.vector)).toBeCloseTo(1, 5)
    const alone = learnKeywordVector({ positives: same, negatives: [], rows: ROWS, dim: DIM })
    expect(alone.startCosine).toBeCloseTo(1, 6)
    expect(alone.negativesUsed).toBe(0)
  })
})

describe('keywordQuality', () => {
  it('calls a keyword with a clear visual meaning reliable, its estimate close to the AP on photos it never saw', () => {
    const { learnt, positives, negatives, heldOutAp } = experiment(30)
    const quality = keywordQuality({ positives, negatives, rows: ROWS, dim: DIM })
    expect(quality.label).toBe('reliable')
    expect(quality.folds).toBe(5)
    expect(quality.summary).toMatch(/^Reliable/)
    expect(quality.averagePrecision!).toBeGreaterThan(0.8)
    expect(Math.abs(quality.averagePrecision! - heldOutAp(learnt.vector))).toBeLessThan(0.15)
    expect(quality.chance).toBeCloseTo(30 / (30 + negatives.length), 6)
  })

  it('says a keyword given to random photos needs more examples, its estimate near chance', () => {
    const { photos } = library(1500, randomUnit(prng(8)), 0, 9)
    const random = prng(10)
    const tagged = photos.map(() => random() < 0.1)
    const quality = keywordQuality({ positives: photos.filter((_, i) => tagged[i]), negatives: photos.filter((_, i) => !tagged[i]), rows: ROWS, dim: DIM })
    expect(quality.label).toBe('needs more examples')
    expect(quality.averagePrecision!).toBeLessThan(3 * quality.chance)
  })

  it('measures the word vector alone beside the learnt one', () => {
    const prior = randomUnit(prng(11))
    const { positives, negatives } = experiment(20, { prior })
    const quality = keywordQuality({ positives, negatives, rows: ROWS, dim: DIM, prior })
    expect(quality.priorAveragePrecision!).toBeLessThan(0.3)
    expect(quality.averagePrecision!).toBeGreaterThan(quality.priorAveragePrecision! + 0.4)
  })

  it('cannot measure one example, or examples with nothing to compare with, and says so', () => {
    const { positives, negatives } = experiment(1)
    expect(keywordQuality({ positives, negatives, rows: ROWS, dim: DIM })).toMatchObject({
      averagePrecision: null,
      folds: 0,
      label: 'needs more examples',
      summary: expect.stringMatching(/Only 1 photo/)
    })
    expect(keywordQuality({ positives: [...positives, ...positives], negatives: [], rows: ROWS, dim: DIM })).toMatchObject({
      averagePrecision: null,
      label: 'needs more examples',
      summary: expect.stringMatching(/no other photos/)
    })
  })

  it('rates photos that cannot be told apart at chance', () => {
    const photo = library(1, randomUnit(prng(12)), 0, 13).photos[0]
    const quality = keywordQuality({ positives: Array.from({ length: 10 }, () => photo), negatives: Array.from({ length: 90 }, () => photo), rows: ROWS, dim: DIM })
    expect(quality.label).toBe('needs more examples')
    expect(quality.averagePrecision!).toBeCloseTo(0.1, 1)
  })
})
