import { describe, expect, it } from 'vitest'
import { STORED_TOP, VocabularyScorer } from '../../src/main/engine/tagging/vocabularyScores'

function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1
}

const DIM = 10
const ROWS = 3
const TAGS = 80

describe('VocabularyScorer', () => {
  const rand = seeded(7)
  const vectors = Float32Array.from({ length: TAGS * DIM }, rand)
  const vocabulary = { id: 'test', tags: Array.from({ length: TAGS }, (_, t) => `tag${t}`), unseen: new Set<string>(), dim: DIM, vectors }
  const photos = Array.from({ length: 9 }, () => Float32Array.from({ length: DIM * ROWS }, rand))

  /** SDL's score of every tag, brute force: max over k of sum_d A[d][k] w[d]. */
  const allScores = (photo: Float32Array) =>
    Array.from({ length: TAGS }, (_, t) => {
      let best = -Infinity
      for (let k = 0; k < ROWS; k++) {
        let dot = 0
        for (let d = 0; d < DIM; d++) dot += photo[d * ROWS + k] * vectors[t * DIM + d]
        best = Math.max(best, dot)
      }
      return best
    })

  it("keeps each photo's best tags, best first, with exact float32 scores", async () => {
    const scorer = await VocabularyScorer.open(vocabulary, ROWS)
    expect(scorer.top).toBe(STORED_TOP)
    const values = new Float32Array(photos.length * DIM * ROWS)
    photos.forEach((p, i) => values.set(p, i * DIM * ROWS))
    const tops = await scorer.topScores(values, photos.length)
    photos.forEach((photo, i) => {
      const exact = allScores(photo)
      const order = exact.map((s, t) => [s, t]).sort((a, b) => b[0] - a[0])
      expect(tops[i].scores).toHaveLength(STORED_TOP)
      expect(Array.from(tops[i].tags)).toEqual(order.slice(0, STORED_TOP).map(([, t]) => t))
      tops[i].scores.forEach((s, j) => expect(s).toBeCloseTo(order[j][0], 5))
    })
  })

  it('stores every tag of a vocabulary smaller than STORED_TOP', async () => {
    const small = { ...vocabulary, tags: vocabulary.tags.slice(0, 4), vectors: vectors.slice(0, 4 * DIM) }
    const scorer = await VocabularyScorer.open(small, ROWS)
    const [top] = await scorer.topScores(photos[0], 1)
    expect(Array.from(top.tags).sort()).toEqual([0, 1, 2, 3])
  })
})
