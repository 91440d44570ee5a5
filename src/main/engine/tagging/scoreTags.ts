import type { TagScore } from '../../../shared/models'
import type { PackVocabulary } from '../models/packManifest'

/**
 * SDL's score of one word vector for a photo, `max_k <A_k, w>`, and the principal vector k that
 * gives it: the one implementation of the score in JavaScript (search's 4-bit first pass and the
 * vocabulary scorer compute the same in onnxruntime). The photo's output holds A[d][k] at
 * d*rows + k (layout `dk`); the word is `dim` values of `words` from `offset`.
 */
export function sdlScore(principal: Float32Array, rows: number, words: Float32Array, offset = 0, dim = words.length - offset): { score: number; k: number } {
  let best = -Infinity
  let bestK = 0
  for (let k = 0; k < rows; k++) {
    let dot = 0
    for (let d = 0; d < dim; d++) dot += principal[d * rows + k] * words[offset + d]
    if (dot > best) [best, bestK] = [dot, k]
  }
  return { score: best, k: bestK }
}

/** Principal vector A_k of a photo's output, as `dim` values. */
export function principalVector(principal: Float32Array, rows: number, k: number): Float32Array {
  const dim = principal.length / rows
  return Float32Array.from({ length: dim }, (_, d) => principal[d * rows + k])
}

/** SDL's score of every vocabulary word (`vectors` row-major [tag][dim]) for a photo. */
export function scoreAllTags(output: Float32Array, rows: number, vocab: PackVocabulary): Float32Array {
  const { dim, vectors } = vocab
  return Float32Array.from({ length: vectors.length / dim }, (_, t) => sdlScore(output, rows, vectors, t * dim, dim).score)
}

/** The `count` best tags, highest score first, unseen (zero-shot) tags flagged. */
export function topTags(scores: Float32Array, vocab: PackVocabulary, count: number): TagScore[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b)
  return order.slice(0, count).map((i) => ({ tag: vocab.tags[i], score: scores[i], unseen: vocab.unseen.has(vocab.tags[i]) }))
}
