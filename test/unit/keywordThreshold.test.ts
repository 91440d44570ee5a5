import { describe, expect, it } from 'vitest'
import { KEYWORD_QUALITY, keywordQuality, learnKeywordVector } from '../../src/main/engine/tagging/keywordLearning'
import { calibratedThreshold } from '../../src/main/engine/tagging/keywordThreshold'
import { sdlScore } from '../../src/main/engine/tagging/scoreTags'
import { prng } from '../helpers/prng'

describe('calibratedThreshold', () => {
  it('takes the positive score that maximises F1 over the folds pooled', () => {
    // Pooled, best first: P .9, N .8, P .7, P .6, N .5, N .4, P .3, N .2.
    // At .9: F1 2/(1+4+0) = .40; .7: 4/(2+4+1) = .57; .6: 6/(3+4+1) = .75; .3: 8/(4+4+3) = .73.
    const folds = [
      { positives: [0.9, 0.3], negatives: [0.8, 0.2], weight: 1 },
      { positives: [0.7, 0.6], negatives: [0.5, 0.4], weight: 1 }
    ]
    expect(calibratedThreshold(folds, 0)).toEqual({ threshold: 0.6, precision: 0.75, recall: 0.75 })
  })

  it('counts each scored negative for the share of its fold it stands for', () => {
    // The negative at .8 standing for 10: .9 alone (F1 2/(1+2) = .67) beats .6 (4/(2+2+10) = .29).
    const folds = [
      { positives: [0.9], negatives: [0.8], weight: 10 },
      { positives: [0.6], negatives: [], weight: 1 }
    ]
    expect(calibratedThreshold(folds, 0)).toEqual({ threshold: 0.9, precision: 1, recall: 0.5 })
  })

  it('keeps only scores whose precision reaches the minimum, and gives none where no score does', () => {
    // F1 is best at the lowest positive (.1, precision 3/7), but only .9 has precision 1.
    const folds = [{ positives: [0.9, 0.2, 0.1], negatives: [0.5, 0.4, 0.3, 0.25], weight: 1 }]
    expect(calibratedThreshold(folds, 0)).toMatchObject({ threshold: 0.1 })
    expect(calibratedThreshold(folds, 0.5)).toEqual({ threshold: 0.9, precision: 1, recall: 1 / 3 })
    expect(calibratedThreshold([{ positives: [0.2, 0.1], negatives: [0.5, 0.4, 0.3], weight: 1 }], 0.5)).toBeNull()
  })

  it('counts negatives tying a positive against it, and judges equal positives together', () => {
    const folds = [{ positives: [0.5, 0.5, 0.1], negatives: [0.5, 0.2], weight: 1 }]
    // At .5: both positives and the tying negative pass (precision 2/3); at .1 everything does (3/5).
    expect(calibratedThreshold(folds, 0.7)).toBeNull()
    expect(calibratedThreshold(folds, 0.65)).toEqual({ threshold: 0.5, precision: 2 / 3, recall: 2 / 3 })
    expect(calibratedThreshold(folds, 0.6)).toEqual({ threshold: 0.1, precision: 0.6, recall: 1 })
  })

  it('has nothing to calibrate without a held-out positive', () => {
    expect(calibratedThreshold([{ positives: [], negatives: [0.3], weight: 1 }], 0)).toBeNull()
    expect(calibratedThreshold([], 0)).toBeNull()
  })
})

describe("keywordQuality's cut-off", () => {
  const DIM = 16
  const ROWS = 3
  const random = prng(21)
  const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v))
  const randomUnit = () => unit(Float32Array.from({ length: DIM }, () => random() - 0.5))
  /** A photo whose first principal vector is `concept` (or a random one) and the others random, in layout dk. */
  const photo = (concept?: Float32Array) => {
    const facets = [concept ?? randomUnit(), randomUnit(), randomUnit()]
    const out = new Float32Array(DIM * ROWS)
    facets.forEach((f, k) => f.forEach((v, d) => (out[d * ROWS + k] = v * (k === 0 ? 1 : 0.5))))
    return out
  }

  it('separates unseen photos of a clear concept from the others', () => {
    const concept = randomUnit()
    const positives = Array.from({ length: 8 }, () => photo(concept))
    const negatives = Array.from({ length: 200 }, () => photo())
    const quality = keywordQuality({ positives, negatives, rows: ROWS, dim: DIM })
    expect(quality.threshold).not.toBeNull()
    const { threshold, precision, recall } = quality.threshold!
    expect(precision).toBeGreaterThanOrEqual(KEYWORD_QUALITY.minPrecision)
    expect(recall).toBeGreaterThan(0.5)
    // Unseen photos, scored by the vector learnt from all the examples: most of the concept's
    // reach the cut-off, few others do.
    const { vector } = learnKeywordVector({ positives, negatives, rows: ROWS, dim: DIM })
    const reaching = (concept?: Float32Array) => Array.from({ length: 100 }, () => sdlScore(photo(concept), ROWS, vector).score).filter((s) => s >= threshold).length
    expect(reaching(concept)).toBeGreaterThan(80)
    expect(reaching()).toBeLessThan(10)
  })

  it('has none for examples it cannot measure, or that no score tells apart', () => {
    const same = photo()
    expect(keywordQuality({ positives: [same], negatives: [photo()], rows: ROWS, dim: DIM }).threshold).toBeNull()
    expect(keywordQuality({ positives: [same, same, same], negatives: Array.from({ length: 30 }, () => same), rows: ROWS, dim: DIM }).threshold).toBeNull()
  })
})
