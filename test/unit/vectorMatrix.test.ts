import { describe, expect, it } from 'vitest'
import { VectorMatrix } from '../../src/main/engine/search/vectorMatrix'

function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1
}

const DIM = 12
const ROWS = 3

/** Exactly what SDL defines: max over principal vectors k of sum_d A[d][k] w[d], A in dk layout. */
function bruteForce(photo: Float32Array, w: Float32Array): number {
  let best = -Infinity
  for (let k = 0; k < ROWS; k++) {
    let dot = 0
    for (let d = 0; d < DIM; d++) dot += photo[d * ROWS + k] * w[d]
    best = Math.max(best, dot)
  }
  return best
}

describe('VectorMatrix', () => {
  const rand = seeded(42)
  const photos = Array.from({ length: 300 }, () => Float32Array.from({ length: DIM * ROWS }, rand))
  const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v))
  const terms = Array.from({ length: 5 }, () => unit(Float32Array.from({ length: DIM }, rand)))

  it('scores every photo as max_k <A_k, w> within int8 quantisation error, and ranks like the exact scores', async () => {
    const matrix = await VectorMatrix.build(photos, photos.length, DIM, ROWS)
    expect(matrix.bytesPerPhoto).toBe(ROWS * (DIM + 4))
    for (const w of terms) {
      const scores = await matrix.scores(w)
      const exact = photos.map((p) => bruteForce(p, w))
      const scale = Math.max(...exact.map(Math.abs))
      for (let p = 0; p < photos.length; p++) expect(Math.abs(scores[p] - exact[p])).toBeLessThan(0.02 * scale)
      const top = (s: ArrayLike<number>) => Array.from(s, (v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 10).map(([, i]) => i)
      const overlap = top(scores).filter((i) => top(exact).includes(i)).length
      expect(overlap).toBeGreaterThanOrEqual(9)
    }
  })

  it("computes each photo's n-th best vocabulary score", async () => {
    const matrix = await VectorMatrix.build(photos.slice(0, 40), 40, DIM, ROWS)
    const vocabulary = Float32Array.from(terms.flatMap((t) => Array.from(t)))
    const thresholds = await matrix.vocabularyThresholds(vocabulary, 2)
    for (let p = 0; p < 40; p++) {
      const sorted = terms.map((w) => bruteForce(photos[p], w)).sort((a, b) => b - a)
      expect(Math.abs(thresholds[p] - sorted[1])).toBeLessThan(0.05)
    }
  })

  it('finds the principal vector that gives a photo its score', async () => {
    const matrix = await VectorMatrix.build(photos.slice(0, 5), 5, DIM, ROWS)
    const w = terms[0]
    const { k } = matrix.bestRow(3, w)
    const dots = [0, 1, 2].map((kk) => Array.from({ length: DIM }, (_, d) => photos[3][d * ROWS + kk] * w[d]).reduce((a, b) => a + b))
    expect(k).toBe(dots.indexOf(Math.max(...dots)))
  })
})
