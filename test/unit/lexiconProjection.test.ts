import { describe, expect, it } from 'vitest'
import {
  cholesky,
  crossValidate,
  fitKernelRidge,
  fitNeighbourBlend,
  fitRidge,
  nearestRow,
  selectAnchors,
  solveCholesky,
  type Anchors
} from '../../src/main/engine/lexicon/projection'
import { prng } from '../helpers/prng'

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

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}

/** Anchors whose targets are a known linear image of their inputs. */
function linearAnchors(count: number, seed: number): { anchors: Anchors; map: number[][]; next: () => number } {
  const next = random(seed)
  const map = isometry(next)
  const inputs = unitRows(count, 8, next)
  const targets = new Float32Array(count * 12)
  for (let i = 0; i < count; i++) targets.set(apply(map, inputs.subarray(i * 8, (i + 1) * 8)), i * 12)
  return { anchors: { count, inDim: 8, outDim: 12, inputs, targets }, map, next }
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
      const y = projection.project(x)
      expect(Math.hypot(...y)).toBeCloseTo(1, 6)
      expect(cosine(y, apply(map, x))).toBeGreaterThan(0.99999)
    }
  })

  it('kernel ridge reproduces its anchors and generalises a smooth map', () => {
    const { anchors, map, next } = linearAnchors(400, 2)
    const projection = fitKernelRidge(anchors, { tau: 0.5, lambda: 1e-4 })
    for (let i = 0; i < 20; i++) {
      const y = projection.project(anchors.inputs.subarray(i * 8, (i + 1) * 8))
      expect(cosine(y, anchors.targets.subarray(i * 12, (i + 1) * 12))).toBeGreaterThan(0.999)
    }
    const unseen = unitRows(100, 8, next)
    const cosines = Array.from({ length: 100 }, (_, i) => {
      const x = unseen.subarray(i * 8, (i + 1) * 8)
      return cosine(projection.project(x), apply(map, x))
    }).sort((a, b) => a - b)
    expect(cosines[50]).toBeGreaterThan(0.95)
  })

  it('the neighbour blend lands on the nearest anchor when it trusts only neighbours', () => {
    const { anchors } = linearAnchors(100, 3)
    const blend = fitNeighbourBlend(anchors, { lambda: 1, neighbours: 5, temperature: 0.001, weight: 0 })
    const y = blend.project(anchors.inputs.subarray(7 * 8, 8 * 8))
    expect(cosine(y, anchors.targets.subarray(7 * 12, 8 * 12))).toBeCloseTo(1, 6)
  })

  it('cross-validation scores a perfect map as perfect, and a useless one as useless', () => {
    const { anchors } = linearAnchors(120, 4)
    const opts = { folds: 10, candidates: anchors.targets, candidateRow: Array.from({ length: 120 }, (_, i) => i) }
    expect(crossValidate(anchors, (train) => fitRidge(train, 1e-6), opts)).toEqual({
      medianCosine: expect.closeTo(1, 5),
      nearestAccuracy: 1
    })
    const constant = { project: () => Float32Array.from(anchors.targets.subarray(0, 12)) }
    const useless = crossValidate(anchors, () => constant, opts)
    expect(useless.nearestAccuracy).toBeCloseTo(1 / 120, 6)
    expect(useless.medianCosine).toBeLessThan(0.5)
  })

  it('selects anchors and finds the nearest row', () => {
    const { anchors } = linearAnchors(10, 5)
    const some = selectAnchors(anchors, [3, 7])
    expect(some.count).toBe(2)
    expect([...some.targets.subarray(12)]).toEqual([...anchors.targets.subarray(7 * 12, 8 * 12)])
    expect(nearestRow(anchors.targets.subarray(4 * 12, 5 * 12), anchors.targets, 12)).toBe(4)
  })
})
