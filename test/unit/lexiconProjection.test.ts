import { describe, expect, it } from 'vitest'
import {
  cholesky,
  crossValidate,
  fitKernelRidge,
  fitNeighbourBlend,
  fitRidge,
  medianConfidenceInterval,
  nearestRow,
  selectAnchors,
  solveCholesky,
  type Anchors
} from '../../src/main/engine/lexicon/projection'
import { charNgrams, SpellingIndex } from '../../src/main/engine/lexicon/spelling'
import { prng } from '../helpers/prng'
import { cosine } from '../helpers/vectorMath'

/** Roughly normal pseudo-random numbers: the sum of four seeded uniforms, centred. */
function random(seed: number): () => number {
  const uniform = prng(seed)
  return () => uniform() + uniform() + uniform() + uniform() - 2
}

function unitRows(rows: number, dim: number, next: () => number): Float32Array {
  const out = new Float32Array(rows * dim)
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: dim }, next)
    const norm = Math.hypot(...row)
    row.forEach((v, d) => (out[r * dim + d] = v / norm))
  }
  return out
}

/** An 8 x 12 matrix with orthonormal rows: it maps unit vectors to unit vectors. */
function isometry(next: () => number): number[][] {
  const rows: number[][] = []
  while (rows.length < 8) {
    const v = Array.from({ length: 12 }, next)
    for (const r of rows) {
      const dot = r.reduce((s, x, i) => s + x * v[i], 0)
      r.forEach((x, i) => (v[i] -= dot * x))
    }
    const norm = Math.hypot(...v)
    rows.push(v.map((x) => x / norm))
  }
  return rows
}

function apply(map: number[][], x: ArrayLike<number>): number[] {
  return map[0].map((_, d) => map.reduce((s, row, a) => s + x[a] * row[d], 0))
}

/** Anchors whose targets are a known linear image of their inputs. */
function linearAnchors(count: number, seed: number): { anchors: Anchors; map: number[][]; next: () => number } {
  const next = random(seed)
  const map = isometry(next)
  const inputs = unitRows(count, 8, next)
  const targets = new Float32Array(count * 12)
  for (let i = 0; i < count; i++) targets.set(apply(map, inputs.subarray(i * 8, (i + 1) * 8)), i * 12)
  const words = Array.from({ length: count }, (_, i) => `word${i}`)
  return { anchors: { count, inDim: 8, outDim: 12, inputs, targets, words }, map, next }
}

describe('projection', () => {
  it('solves a symmetric positive-definite system', () => {
    const a = Float64Array.from([4, 2, 0, 2, 5, 3, 0, 3, 6])
    const x = [
      [1, -1],
      [2, 0.5],
      [-3, 2]
    ]
    const b = new Float64Array(6)
    for (let i = 0; i < 3; i++) for (let c = 0; c < 2; c++) b[i * 2 + c] = [0, 1, 2].reduce((s, k) => s + a[i * 3 + k] * x[k][c], 0)
    cholesky(a, 3)
    solveCholesky(a, 3, b, 2)
    expect([...b].map((v) => +v.toFixed(12))).toEqual(x.flat())
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/)
  })

  it('ridge recovers a known linear map', () => {
    const { anchors, map, next } = linearAnchors(200, 1)
    const projection = fitRidge(anchors, 1e-6)
    const unseen = unitRows(50, 8, next)
    for (let i = 0; i < 50; i++) {
      const x = unseen.subarray(i * 8, (i + 1) * 8)
      const y = projection.project(x, 'unseen')
      expect(Math.hypot(...y)).toBeCloseTo(1, 6)
      expect(cosine(y, apply(map, x))).toBeGreaterThan(0.99999)
    }
  })

  it('kernel ridge reproduces its anchors and generalises a smooth map', () => {
    const { anchors, map, next } = linearAnchors(400, 2)
    const projection = fitKernelRidge(anchors, { tau: 0.5, lambda: 1e-4, spelling: 0 })
    for (let i = 0; i < 20; i++) {
      const y = projection.project(anchors.inputs.subarray(i * 8, (i + 1) * 8), anchors.words[i])
      expect(cosine(y, anchors.targets.subarray(i * 12, (i + 1) * 12))).toBeGreaterThan(0.999)
    }
    const unseen = unitRows(100, 8, next)
    const cosines = Array.from({ length: 100 }, (_, i) => {
      const x = unseen.subarray(i * 8, (i + 1) * 8)
      return cosine(projection.project(x, 'unseen'), apply(map, x))
    }).sort((a, b) => a - b)
    expect(cosines[50]).toBeGreaterThan(0.95)
  })

  it('the neighbour blend lands on the nearest anchor when it trusts only neighbours', () => {
    const { anchors } = linearAnchors(100, 3)
    const blend = fitNeighbourBlend(anchors, { lambda: 1, neighbours: 5, temperature: 0.001, weight: 0 })
    const y = blend.project(anchors.inputs.subarray(7 * 8, 8 * 8), anchors.words[7])
    expect(cosine(y, anchors.targets.subarray(7 * 12, 8 * 12))).toBeCloseTo(1, 6)
  })

  it('cross-validation scores a perfect map as perfect, and a useless one as useless', () => {
    const { anchors } = linearAnchors(120, 4)
    const opts = { folds: 10, candidates: anchors.targets, candidateRow: Array.from({ length: 120 }, (_, i) => i) }
    expect(crossValidate(anchors, (train) => fitRidge(train, 1e-6), opts)).toEqual({
      medianCosine: expect.closeTo(1, 5),
      medianInterval: [expect.closeTo(1, 5), expect.closeTo(1, 5)],
      nearestAccuracy: 1
    })
    const constant = { project: () => Float32Array.from(anchors.targets.subarray(0, 12)) }
    const useless = crossValidate(anchors, () => constant, opts)
    expect(useless.nearestAccuracy).toBeCloseTo(1 / 120, 6)
    expect(useless.medianCosine).toBeLessThan(0.5)
    const [lo, hi] = useless.medianInterval
    expect(lo).toBeLessThan(useless.medianCosine)
    expect(hi).toBeGreaterThan(useless.medianCosine)
  })

  it("the median's confidence interval is the order statistics about n/2 -+ 0.98 sqrt(n)", () => {
    // 0..99: ranks floor(50 - 9.8) = 40 and ceil(50 + 9.8 + 1) = 61 (1-based), the values 39 and 60.
    expect(medianConfidenceInterval(Array.from({ length: 100 }, (_, i) => i))).toEqual([39, 60])
    // Samples of a uniform on [0, 1): about 95% of the intervals hold the true median, 0.5, and
    // their width shrinks as 1 / sqrt(n) (2 * 1.96 * 0.5 / sqrt(n)).
    const uniform = prng(7)
    for (const n of [101, 1000]) {
      let covered = 0
      let width = 0
      for (let trial = 0; trial < 400; trial++) {
        const [lo, hi] = medianConfidenceInterval(Array.from({ length: n }, uniform).sort((a, b) => a - b))
        if (lo < 0.5 && 0.5 < hi) covered++
        width += (hi - lo) / 400
      }
      expect(covered / 400).toBeGreaterThan(0.92)
      expect(covered / 400).toBeLessThan(0.985)
      // Rounding to whole ranks adds about 2 / n to 1.96 / sqrt(n).
      expect(width * Math.sqrt(n)).toBeGreaterThan(1.9)
      expect(width * Math.sqrt(n)).toBeLessThan(2.2)
    }
    expect(medianConfidenceInterval([0.3])).toEqual([0.3, 0.3])
    expect(medianConfidenceInterval([])).toEqual([NaN, NaN])
  })

  it('selects anchors and finds the nearest row', () => {
    const { anchors } = linearAnchors(10, 5)
    const some = selectAnchors(anchors, [3, 7])
    expect(some.count).toBe(2)
    expect(some.words).toEqual(['word3', 'word7'])
    expect([...some.targets.subarray(12)]).toEqual([...anchors.targets.subarray(7 * 12, 8 * 12)])
    expect(nearestRow(anchors.targets.subarray(4 * 12, 5 * 12), anchors.targets, 12)).toBe(4)
  })

  it("spelling is fastText's character 3- to 6-grams of each word, with < > around it", () => {
    expect([...charNgrams('dog').entries()]).toEqual([
      ['<do', 1],
      ['dog', 1],
      ['og>', 1],
      ['<dog', 1],
      ['dog>', 1],
      ['<dog>', 1]
    ])
    const grams = charNgrams('hot dog')
    expect(grams.get('<ho')).toBe(1)
    expect(grams.get('ot>')).toBe(1)
    expect(grams.has('t d')).toBe(false) // n-grams stay within a word
    expect(charNgrams('aaaa').get('aaa')).toBe(2)

    const index = new SpellingIndex(['star', 'stars', 'moon', 'starfish'])
    const sims = index.similarities('star')
    expect(sims[0]).toBeCloseTo(1, 12)
    expect(sims[1]).toBeGreaterThan(sims[3])
    expect(sims[3]).toBeGreaterThan(0)
    expect(sims[2]).toBe(0)
    expect([...index.similarities('xyz')]).toEqual([0, 0, 0, 0])
  })

  it('kernel ridge with spelling carries a held-out word to the vectors of words spelt like it', () => {
    // Families of words spelt alike ('bravoing', 'bravoed', ...) whose targets are their family's
    // vector, while their inputs are random: only spelling tells a family apart.
    const next = random(6)
    const stems = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']
    const suffixes = ['', 's', 'ing', 'ed', 'er', 'ly', 'ness', 'ish']
    const familyVectors = unitRows(stems.length, 12, next)
    const count = stems.length * suffixes.length
    const inputs = unitRows(count, 8, next)
    const targets = new Float32Array(count * 12)
    const words: string[] = []
    stems.forEach((stem, f) =>
      suffixes.forEach((suffix, k) => {
        const i = f * suffixes.length + k
        words.push(stem + suffix)
        for (let d = 0; d < 12; d++) targets[i * 12 + d] = familyVectors[f * 12 + d] + 0.1 * next()
      })
    )
    const anchors: Anchors = { count, inDim: 8, outDim: 12, inputs, targets, words }
    const heldOut = stems.map((_, f) => f * suffixes.length + 2) // the '-ing' words
    const train = selectAnchors(
      anchors,
      Array.from({ length: count }, (_, i) => i).filter((i) => !heldOut.includes(i))
    )
    const familyCosine = (spelling: number) => {
      const projection = fitKernelRidge(train, { tau: 0.5, lambda: 0.1, spelling })
      const cosines = heldOut.map((i, f) => cosine(projection.project(inputs.subarray(i * 8, (i + 1) * 8), words[i]), familyVectors.subarray(f * 12, (f + 1) * 12)))
      return Math.min(...cosines)
    }
    expect(familyCosine(0)).toBeLessThan(0.5)
    expect(familyCosine(1)).toBeGreaterThan(0.9)
  })
})
