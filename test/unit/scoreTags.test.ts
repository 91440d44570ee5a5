import { describe, expect, it } from 'vitest'
import type { PackVocabulary } from '../../src/main/engine/models/packManifest'
import { scoreAllTags, topTags } from '../../src/main/engine/tagging/scoreTags'

function randomVectors(count: number, dim: number, seed: number): Float32Array {
  let s = seed
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1
  return Float32Array.from({ length: count * dim }, next)
}

describe('scoreAllTags', () => {
  it('equals max over principal vectors of the dot product, reading the dk layout', () => {
    const dim = 5
    const rows = 3
    const tags = ['a', 'b', 'c', 'd']
    const vectors = randomVectors(tags.length, dim, 7)
    const output = randomVectors(1, dim * rows, 11)
    const vocab: PackVocabulary = { tags, unseen: new Set(['c']), dim, vectors }
    const scores = scoreAllTags(output, rows, vocab)
    for (let t = 0; t < tags.length; t++) {
      // Brute force from the definition: A[d][k] = output[d*rows + k], principal vector k = column k.
      let best = -Infinity
      for (let k = 0; k < rows; k++) {
        let dot = 0
        for (let d = 0; d < dim; d++) dot += output[d * rows + k] * vectors[t * dim + d]
        best = Math.max(best, dot)
      }
      expect(scores[t]).toBeCloseTo(best, 5)
    }
  })

  it('ranks tags best first and marks unseen ones', () => {
    const vocab: PackVocabulary = { tags: ['x', 'y', 'z'], unseen: new Set(['z']), dim: 1, vectors: new Float32Array([1, 1, 1]) }
    const top = topTags(new Float32Array([0.1, 0.3, 0.2]), vocab, 2)
    expect(top.map((t) => t.tag)).toEqual(['y', 'z'])
    expect(top[1].unseen).toBe(true)
    expect(top[0].unseen).toBe(false)
  })
})
