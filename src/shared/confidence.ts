/**
 * Scores in plain words. SDL's score, max_k <A_k, w>, is a dot product with no fixed range: the
 * official model is trained with a pairwise ranking loss (log(1 + e^(negative - positive))), so
 * only the order of its scores means anything, and no range is documented for them; the ConSE
 * test pack's scores are a class probability times a cosine, in [0, 1]. So the levels are placed
 * on each model's own scale, read from its scores on the library (`scoreScale`), not at fixed
 * numbers.
 *
 * Measured with the ConSE pack on the 64 labelled COCO photos: the 90th percentile of each photo's
 * best suggestion is 0.62. Suggestions scoring 0.6 or more named an object the photo has 69% of
 * the time (the COCO class names scored directly: 73%, and every one above 0.7); from 0.4 (two
 * thirds of 0.62) 45%; below 0.4 about 25%, no better than a suggestion taken at random. Hence
 * "very likely" from the 90th percentile of the best scores, "likely" from two thirds of it.
 */
export type Confidence = 'very likely' | 'likely' | 'possible'

/** The scores from which a model's tags are "likely" and "very likely". */
export interface ScoreScale {
  likely: number
  veryLikely: number
}

/** Which share of photos have a best tag "very likely": the top tenth. */
const VERY_LIKELY_QUANTILE = 0.9
const LIKELY_SHARE = 2 / 3

/** A model's scale from the best score of each of a sample of its photos; null without any. */
export function scoreScale(bestScores: readonly number[]): ScoreScale | null {
  const sorted = bestScores.filter(Number.isFinite).sort((a, b) => a - b)
  if (!sorted.length) return null
  const veryLikely = sorted[Math.floor(VERY_LIKELY_QUANTILE * (sorted.length - 1))]
  // Two thirds of the way from zero, also for a model whose scores run below zero.
  return { veryLikely, likely: veryLikely - Math.abs(veryLikely) * (1 - LIKELY_SHARE) }
}

export function confidenceOf(score: number, scale: ScoreScale): Confidence {
  if (score >= scale.veryLikely) return 'very likely'
  return score >= scale.likely ? 'likely' : 'possible'
}

/** A score as the user reads it: a level, or the number itself where there is no scale yet. */
export function describeScore(score: number | null, scale: ScoreScale | null): string {
  if (score === null) return 'not scored'
  return scale ? confidenceOf(score, scale) : formatScore(score)
}

/** Three decimals tell close tags apart; for hover titles and the "show scores" setting. */
export function formatScore(score: number | null): string {
  return score === null ? '–' : score.toFixed(3)
}
