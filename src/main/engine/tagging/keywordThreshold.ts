/**
 * A learned keyword's own cut-off: the score from which search and suggestions take a photo to
 * carry it. The per-photo cut-off used for words (the photo's N-th best vocabulary score) does not
 * fit a learned vector: it is trained to rank the keyword's photos above the others, not to beat
 * the words the model knows, and on the COCO bench it reached a held-out photo's 10 best words for
 * 1% of the class's photos. So the cut-off is read from the keyword's own cross-validation
 * (keywordQuality): each held-out photo scored by a vector learnt without it, as an unseen photo
 * will be scored.
 */

/** One cross-validation fold's held-out photos, each scored by the vector learnt without them. */
export interface HeldOutScores {
  positives: readonly number[]
  negatives: readonly number[]
  /** How many of the fold's negatives each scored negative stands for. */
  weight: number
}

export interface CalibratedThreshold {
  /** A photo the keyword's vector scores at least this much is taken to carry it. */
  threshold: number
  /** On the held-out photos at that score: the share of those reaching it that carry the keyword (negatives weighted). */
  precision: number
  /** The share of the held-out photos that carry the keyword reaching it. */
  recall: number
}

/**
 * Of the held-out positive scores where precision reaches `minPrecision`, the one that maximises
 * F1, over every fold's photos pooled (the folds' vectors are unit length, so their scores share
 * a scale); ties go to the higher score, and negatives tying a positive count against the keyword.
 * Precision is measured at the examples' share of positives, as keywordQuality's average precision
 * is: the library's own share of photos that should carry the keyword is unknown. Null where no
 * score reaches that precision (or there is no held-out positive): the keyword then has no
 * cut-off of its own.
 *
 * F1 alone is not enough: a keyword its examples cannot tell apart has its best F1 at its lowest
 * positive, where most photos pass. On the COCO bench (bench:keywords, end to end) F1 alone made
 * a learned code name's search match 17 photos beyond its carriers, 13% of them of its class.
 */
export function calibratedThreshold(folds: readonly HeldOutScores[], minPrecision: number): CalibratedThreshold | null {
  const positives = folds.flatMap((f) => f.positives).sort((a, b) => b - a)
  if (!positives.length) return null
  const negatives = folds.flatMap((f) => f.negatives.map((score) => ({ score, weight: f.weight }))).sort((a, b) => b.score - a.score)
  let best: CalibratedThreshold & { f1: number } = { threshold: Infinity, precision: 0, recall: 0, f1: -1 }
  let above = 0
  let n = 0
  for (let i = 0; i < positives.length; i++) {
    const threshold = positives[i]
    // Every positive scoring as much counts, so a run of equal scores is judged at its last.
    if (i + 1 < positives.length && positives[i + 1] === threshold) continue
    for (; n < negatives.length && negatives[n].score >= threshold; n++) above += negatives[n].weight
    const found = i + 1
    const f1 = (2 * found) / (found + positives.length + above)
    if (found / (found + above) >= minPrecision && f1 > best.f1) best = { threshold, precision: found / (found + above), recall: found / positives.length, f1 }
  }
  return best.f1 < 0 ? null : { threshold: best.threshold, precision: best.precision, recall: best.recall }
}
