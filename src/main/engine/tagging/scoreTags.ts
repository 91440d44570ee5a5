import type { TagScore } from '../../../shared/models'
import type { PackVocabulary } from '../models/packManifest'

/**
 * SDL's tag score for every vocabulary word: `max_k <A_k, w>`, where the photo's output holds
 * A[d][k] at d*rows + k (layout `dk`) and `vectors` is row-major [tag][dim].
 */
export function scoreAllTags(output: Float32Array, rows: number, vocab: PackVocabulary): Float32Array {
  const { dim, vectors } = vocab
  const tagCount = vectors.length / dim
  const scores = new Float32Array(tagCount)
  const dots = new Float64Array(rows)
  for (let t = 0; t < tagCount; t++) {
    dots.fill(0)
    const base = t * dim
    for (let d = 0; d < dim; d++) {
      const w = vectors[base + d]
      const row = d * rows
      for (let k = 0; k < rows; k++) dots[k] += output[row + k] * w
    }
    let best = -Infinity
    for (let k = 0; k < rows; k++) if (dots[k] > best) best = dots[k]
    scores[t] = best
  }
  return scores
}

/** The `count` best tags, highest score first, unseen (zero-shot) tags flagged. */
export function topTags(scores: Float32Array, vocab: PackVocabulary, count: number): TagScore[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b)
  return order.slice(0, count).map((i) => ({ tag: vocab.tags[i], score: scores[i], unseen: vocab.unseen.has(vocab.tags[i]) }))
}
