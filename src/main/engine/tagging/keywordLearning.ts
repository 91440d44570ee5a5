import { SdlError } from '../errors'
import { type CalibratedThreshold, type HeldOutScores, calibratedThreshold } from './keywordThreshold'
import { sdlScore } from './scoreTags'

/**
 * A word vector for a keyword no dictionary knows (a person's name, a project), learnt from the
 * photos that carry it, so that SDL's score `max_k <A_k, w>` ranks and suggests it like any word.
 *
 * The loss is a listwise form of SDL's ranking loss: for each positive p, log(1 + sum over negatives
 * n of exp(t (s_n - s_p))), a smooth log of the number of negatives ranked above p, which puts the
 * weight on the top of the ranking as average precision does. The max over principal vectors is
 * handled as in a latent-structural SVM: each round fixes every photo's best principal vector for the
 * current w, which leaves a smooth problem over plain vectors (convex but for the unit-length
 * constraint), solved by a few gradient steps on the unit sphere. Only a sample of the negatives is
 * read: `poolSize` at random, and each round the highest-scoring of them (the ones that decide the
 * top of the ranking) plus a few random ones. w stays unit length, like the word vectors, so its
 * scores compare with theirs. Learning starts from the keyword's word vector, or else from the
 * positives' mean principal direction less a little more than the other photos', and a pull towards
 * that start, whose weight falls as 1 / positives, keeps it there while examples are few: with the
 * handful of examples a user gives, that start is most of what they can tell (see the settings).
 */

export interface KeywordExamples {
  /** Photos that carry the keyword, each its principal vectors in layout `dk` (element d*rows + k = A[d][k]). */
  positives: readonly Float32Array[]
  /** Photos the keyword was rejected for, or any other photos (at most `poolSize` of them are read). */
  negatives: readonly Float32Array[]
  rows: number
  dim: number
  /** The keyword's unit word vector when it is also a known word. */
  prior?: Float32Array
  /** The keyword, for error messages. */
  keyword?: string
}

export interface KeywordLearningSettings {
  /** Seed of the sampling, so that the same examples always give the same vector. */
  seed: number
  /** Negatives read per keyword: at 100k photos, scoring them all once would already cost ~10x the time goal. */
  poolSize: number
  /** Pool photos with the highest scores kept each round. */
  hardNegatives: number
  /** Further pool photos drawn at random each round, so that the vector also separates the common case. */
  randomNegatives: number
  /** Positives in the working set; more are sampled down. */
  maxPositives: number
  /**
   * Times every photo's best principal vector is chosen again (and the hard negatives with it). On
   * the COCO bench (bench:keywords) most of the gain is the start: no round 0.384 mean AP, 3 rounds
   * 0.393; 6 rounds no better (with the earlier start). A soft maximum over k (log-sum-exp)
   * instead of this choice measured the same, at K times the cost per step.
   */
  rounds: number
  /**
   * Gradient steps per round: 6 and 12 measured the same on the bench (3 and 40 within 0.003 with
   * the earlier start), and 6 keeps a keyword at 100k photos and D=300 under the 50 ms goal.
   */
  steps: number
  /**
   * Sharpness of the ranking loss in units of the working photos' principal vector length: 2 and 5
   * lose 0.04 and 0.01 mean AP on the bench (with the earlier start), 20 is the same as 10, 40 a
   * little worse (it becomes a hinge on the single highest negative).
   */
  sharpness: number
  /**
   * Weight of the pull towards the keyword's word vector with one positive (divided by the number
   * of positives): 4 keeps it within ~25 degrees with 1-2 examples and lets 30+ examples move it.
   */
  priorStrength: number
  /**
   * The same towards the positives' mean principal direction less the other photos'. That start is
   * most of what a few examples can tell: 4 keeps learning near it (bench, 3 and 5 examples: 0.341
   * and 0.303 mean AP against 0.314 and 0.274 with 0.25; half of each class: 0.393 either way).
   */
  meanStrength: number
  /**
   * Times the other photos' mean principal direction taken off the positives' for that start:
   * 1.25 and 1.5 measured 0.393 and 0.392 mean AP on the bench against 0.375 with 1, about 0.37
   * with 2 and 0.31 with 3 (past ~1.5 w points away from every concept, not towards the keyword's).
   */
  negativeShare: number
}

export const KEYWORD_LEARNING: KeywordLearningSettings = {
  seed: 1,
  poolSize: 1024,
  hardNegatives: 128,
  randomNegatives: 64,
  maxPositives: 128,
  rounds: 3,
  steps: 6,
  sharpness: 10,
  priorStrength: 4,
  meanStrength: 4,
  negativeShare: 1.25
}

export interface IgnoredPhoto {
  set: 'positives' | 'negatives'
  index: number
  reason: string
}

export interface LearnedKeyword {
  /** Unit length, in the model's word space: score it as any word vector. */
  vector: Float32Array
  /** Where learning started and what it was pulled towards: the prior, or the positives' mean principal vector less the other photos'. */
  start: 'prior' | 'positives'
  /** Cosine between `vector` and that start. */
  startCosine: number
  positivesUsed: number
  negativesUsed: number
  /** Photos that were read but could not be used (wrong length, values that are not finite numbers). */
  ignored: IgnoredPhoto[]
}

export function learnKeywordVector(examples: KeywordExamples, settings: KeywordLearningSettings = KEYWORD_LEARNING): LearnedKeyword {
  const { rows, dim } = examples
  checkShape(examples)
  const random = seededRandom(settings.seed)
  const ignored: IgnoredPhoto[] = []
  const positives = usable(examples, 'positives', sample(examples.positives.length, settings.maxPositives, random), ignored)
  if (positives.length === 0) {
    throw new SdlError(
      `Cannot learn ${keywordName(examples)}: ${examples.positives.length === 0 ? 'no photo carries it' : 'none of the photos that carry it has usable principal vectors'}`,
      'Tag at least one indexed photo with it.'
    )
  }
  const pool = usable(examples, 'negatives', sample(examples.negatives.length, settings.poolSize, random), ignored)
  const positivesMean = meanDirection(positives, rows, dim)
  if (!unit(positivesMean)) {
    throw new SdlError(`Cannot learn ${keywordName(examples)}: the principal vectors of the photos that carry it are all zero`, 'Index the photos again with a working model.')
  }
  const prior = examples.prior ? unit(examples.prior) : null
  const anchor = prior ?? distinctive(positivesMean, pool, rows, dim, settings.negativeShare)
  const w = Float64Array.from(anchor)
  const pull = (prior ? settings.priorStrength : settings.meanStrength) / examples.positives.length

  const pos = new Float32Array(positives.length * dim)
  const negCount = Math.min(pool.length, settings.hardNegatives + settings.randomNegatives)
  const neg = new Float32Array(negCount * dim)
  for (let round = 0; round < settings.rounds && negCount > 0; round++) {
    const vector = Float32Array.from(w)
    positives.forEach((photo, i) => copyFacet(photo, sdlScore(photo, rows, vector).k, rows, dim, pos, i))
    hardAndRandom(pool, rows, vector, settings, random).forEach(({ photo, k }, i) => copyFacet(photo, k, rows, dim, neg, i))
    descend(w, { pos, neg, dim, anchor, pull, sharpness: settings.sharpness, steps: settings.steps })
  }
  return {
    vector: Float32Array.from(w),
    start: prior ? 'prior' : 'positives',
    startCosine: dot(w, anchor),
    positivesUsed: positives.length,
    negativesUsed: pool.length,
    ignored
  }
}

export type QualityLabel = 'reliable' | 'fair' | 'needs more examples'

export interface KeywordQuality {
  /**
   * Average precision of the keyword's own photos, each ranked by a vector learnt without it (k-fold
   * cross-validation) among the negatives of its fold, at the examples' share of positives; null
   * when it cannot be measured (fewer than 2 positives, or no negatives).
   */
  averagePrecision: number | null
  /** What a random order scores: the share of positives among the examples. */
  chance: number
  /** The same measure for the prior alone, when there is one: learning should beat it. */
  priorAveragePrecision: number | null
  folds: number
  label: QualityLabel
  /** The label in a sentence for the user. */
  summary: string
  /**
   * The score from which an unseen photo is taken to carry the keyword, read from the same
   * cross-validation (keywordThreshold.ts); null when it cannot be measured.
   */
  threshold: CalibratedThreshold | null
}

export interface QualitySettings extends KeywordLearningSettings {
  maxFolds: number
  /** Held-out negatives scored per fold; each stands for its share of the fold's negatives. */
  evaluationNegatives: number
  /** Fewer positives than this are never more than 'needs more examples'. */
  minExamples: number
  reliable: number
  fair: number
  /**
   * The precision, on the held-out photos, a learned keyword's own cut-off must reach (see
   * keywordThreshold.ts). On the COCO bench, end to end, the photos a code name's search matched
   * beyond its carriers were of its class about as often as this promised (30%, 33%, 50% for 0.25,
   * 0.33, 0.5); 0.2 found 1.3 of the class's 4.9 photos per search, 29% of those matched (the class
   * word's own top-10 cut-off: 0.6, 19%), 0.5 only 0.1, 0.15 1.5 at 28%.
   */
  minPrecision: number
}

export const KEYWORD_QUALITY: QualitySettings = { ...KEYWORD_LEARNING, maxFolds: 5, evaluationNegatives: 2000, minExamples: 3, reliable: 0.7, fair: 0.4, minPrecision: 0.2 }

export function keywordQuality(examples: KeywordExamples, settings: QualitySettings = KEYWORD_QUALITY): KeywordQuality {
  checkShape(examples)
  const { positives, negatives, rows } = examples
  const chance = positives.length / Math.max(1, positives.length + negatives.length)
  if (positives.length < 2 || negatives.length === 0) {
    const summary =
      negatives.length === 0
        ? 'There are no other photos to compare it with yet.'
        : `Only ${positives.length} photo carries it: tag a few more so that its quality can be measured.`
    return { averagePrecision: null, chance, priorAveragePrecision: null, folds: 0, label: 'needs more examples', summary, threshold: null }
  }
  const random = seededRandom(settings.seed)
  const folds = Math.min(settings.maxFolds, positives.length)
  const posFold = foldOf(positives.length, folds, random)
  const negFold = foldOf(negatives.length, folds, random)
  const prior = examples.prior ? unit(examples.prior) : null
  const learnt: HeldOutScores[] = []
  const byPrior: HeldOutScores[] = []
  for (let f = 0; f < folds; f++) {
    const train: KeywordExamples = {
      ...examples,
      positives: positives.filter((_, i) => posFold[i] !== f),
      negatives: negatives.filter((_, i) => negFold[i] !== f)
    }
    const heldOut = usable(examples, 'positives', indicesOf(posFold, f), [])
    const heldOutNegatives = indicesOf(negFold, f)
    const drawn = Array.from(sample(heldOutNegatives.length, settings.evaluationNegatives, random), (j) => heldOutNegatives[j])
    const testNegatives = usable(examples, 'negatives', drawn, [])
    const weight = heldOutNegatives.length / Math.max(1, testNegatives.length)
    const w = learnKeywordVector(train, { ...settings, seed: settings.seed + f }).vector
    learnt.push(heldOutScores(heldOut, testNegatives, weight, rows, w))
    if (prior) byPrior.push(heldOutScores(heldOut, testNegatives, weight, rows, prior))
  }
  const averagePrecision = pooledAveragePrecision(learnt)
  const label: QualityLabel =
    positives.length < settings.minExamples || averagePrecision < settings.fair ? 'needs more examples' : averagePrecision < settings.reliable ? 'fair' : 'reliable'
  return {
    averagePrecision,
    chance,
    priorAveragePrecision: prior ? pooledAveragePrecision(byPrior) : null,
    folds,
    label,
    summary: summaryOf(label, averagePrecision, positives.length < settings.minExamples),
    threshold: calibratedThreshold(learnt, settings.minPrecision)
  }
}

function summaryOf(label: QualityLabel, ap: number, tooFew: boolean): string {
  const percent = `${Math.round(ap * 100)}%`
  if (label === 'reliable') return `Reliable: on photos it did not learn from, its suggestions ranked the right photos first (average precision ${percent}).`
  if (label === 'fair') return `Fair: about half of its top suggestions are right (average precision ${percent}); more tagged photos will make it better.`
  return tooFew
    ? `Needs more examples: so few tagged photos cannot tell how well it works (average precision ${percent} so far).`
    : `Needs more examples: its suggestions are often wrong (average precision ${percent}); tag more photos, including unusual ones.`
}

function heldOutScores(positives: readonly Float32Array[], negatives: readonly Float32Array[], weight: number, rows: number, w: ArrayLike<number>): HeldOutScores {
  const vector = Float32Array.from(w)
  return { positives: positives.map((p) => sdlScore(p, rows, vector).score), negatives: negatives.map((n) => sdlScore(n, rows, vector).score), weight }
}

/** Average precision over every fold's positives, each fold ranking its own positives among its own negatives. */
function pooledAveragePrecision(folds: readonly HeldOutScores[]): number {
  let sum = 0
  let count = 0
  for (const fold of folds) {
    const negScores = Float64Array.from(fold.negatives).sort()
    const posScores = [...fold.positives].sort((a, b) => b - a)
    // Ties count against the keyword, so that photos it cannot tell apart score as chance.
    posScores.forEach((s, j) => (sum += (j + 1) / (j + 1 + fold.weight * (negScores.length - lowerBound(negScores, s)))))
    count += posScores.length
  }
  return sum / count
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

function checkShape(examples: KeywordExamples): void {
  const { rows, dim, prior } = examples
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dim) || dim < 1) {
    throw new SdlError(
      `Cannot learn ${keywordName(examples)}: the model's shape ${dim}x${rows} is not valid`,
      'Check the model pack: its dim and rows must be positive whole numbers.'
    )
  }
  if (prior && (prior.length !== dim || !prior.every(Number.isFinite) || !prior.some((v) => v !== 0))) {
    throw new SdlError(
      `Cannot learn ${keywordName(examples)}: its word vector is not ${dim} finite numbers, not all zero`,
      'Look the word up again in the lexicon of the model pack in use.'
    )
  }
}

function keywordName(examples: KeywordExamples): string {
  return examples.keyword === undefined ? 'the keyword' : `keyword '${examples.keyword}'`
}

/** The photos at `indices` of one set that can be used; the others are reported in `ignored`. */
function usable(examples: KeywordExamples, set: IgnoredPhoto['set'], indices: ArrayLike<number>, ignored: IgnoredPhoto[]): Float32Array[] {
  const size = examples.rows * examples.dim
  const kept: Float32Array[] = []
  for (let j = 0; j < indices.length; j++) {
    const photo = examples[set][indices[j]]
    if (photo.length !== size) ignored.push({ set, index: indices[j], reason: `has ${photo.length} values instead of ${size} (${examples.dim}x${examples.rows})` })
    else if (!allFinite(photo)) ignored.push({ set, index: indices[j], reason: 'has values that are not finite numbers' })
    else kept.push(photo)
  }
  return kept
}

function allFinite(values: Float32Array): boolean {
  // Infinity * 0 and NaN * 0 are NaN: one comparison at the end instead of one per value.
  let zero = 0
  for (let i = 0; i < values.length; i++) zero += values[i] * 0
  return zero === 0
}

/**
 * The positives' mean principal direction less `share` times the other photos'. Directions, not
 * vectors: a principal vector is a concept scaled by the model's confidence in it, and the
 * confident ones would otherwise outweigh the rest of a photo. What every photo shares (a background
 * the model always sees, the word space's common direction) would make each positive's best
 * principal vector that shared one, and learning would start, and stay, stuck on it; taking off a
 * little more than the other photos' mean also turns w away from concepts the model is sure of in
 * photos without the keyword.
 */
function distinctive(positivesMean: Float64Array, negatives: readonly Float32Array[], rows: number, dim: number, share: number): Float64Array {
  const common = negatives.length > 0 ? meanDirection(negatives, rows, dim) : new Float64Array(dim)
  return unit(positivesMean.map((v, d) => v - share * common[d])) ?? unit(positivesMean)!
}

/** The mean of the photos' unit principal vectors, all K of each (those that are zero left out). */
function meanDirection(photos: readonly Float32Array[], rows: number, dim: number): Float64Array {
  const sum = new Float64Array(dim)
  // One principal vector at a time, so that the inner loops run over d: ~15% faster than over k within d.
  for (const photo of photos) {
    for (let k = 0; k < rows; k++) {
      let squares = 0
      for (let i = k; i < photo.length; i += rows) squares += photo[i] * photo[i]
      if (squares === 0) continue
      const scale = 1 / Math.sqrt(squares)
      for (let d = 0, i = k; d < dim; d++, i += rows) sum[d] += photo[i] * scale
    }
  }
  for (let d = 0; d < dim; d++) sum[d] /= photos.length * rows
  return sum
}

/** The pool photos ranked highest by w, and a few more at random, each with its best principal vector. */
function hardAndRandom(
  pool: readonly Float32Array[],
  rows: number,
  w: Float32Array,
  settings: KeywordLearningSettings,
  random: () => number
): Array<{ photo: Float32Array; k: number }> {
  const scored = pool.map((photo) => ({ photo, ...sdlScore(photo, rows, w) })).sort((a, b) => b.score - a.score)
  const hard = Math.min(settings.hardNegatives, scored.length)
  const rest = scored.slice(hard)
  return [...scored.slice(0, hard), ...Array.from(sample(rest.length, settings.randomNegatives, random), (j) => rest[j])]
}

/** Row `i` of `out` := principal vector k of the photo. */
function copyFacet(photo: Float32Array, k: number, rows: number, dim: number, out: Float32Array, i: number): void {
  for (let d = 0; d < dim; d++) out[i * dim + d] = photo[d * rows + k]
}

interface Problem {
  /** Positives' and negatives' chosen principal vectors, row-major [photo][dim]. */
  pos: Float32Array
  neg: Float32Array
  dim: number
  anchor: Float64Array
  pull: number
  sharpness: number
  steps: number
}

/** Gradient steps on the unit sphere with a step length that grows after a success and halves after a failure. */
function descend(w: Float64Array, problem: Problem): void {
  const { dim, pos, neg } = problem
  const length = Math.sqrt((sumSquares(pos) + sumSquares(neg)) / ((pos.length + neg.length) / dim))
  if (length === 0) return
  const t = problem.sharpness / length
  const posScores = new Float64Array(pos.length / dim)
  const negScores = new Float64Array(neg.length / dim)
  let gradient = new Float64Array(dim)
  let tried = new Float64Array(dim)
  const candidate = new Float64Array(dim)
  let value = objective(w, problem, t, posScores, negScores, gradient)
  let angle = 0.3
  for (let step = 0; step < problem.steps; step++) {
    const along = dot(gradient, w)
    for (let d = 0; d < dim; d++) gradient[d] -= along * w[d]
    const norm = Math.sqrt(dot(gradient, gradient))
    if (norm < 1e-12) return
    for (let d = 0; d < dim; d++) candidate[d] = w[d] - (angle / norm) * gradient[d]
    normalize(candidate)
    const next = objective(candidate, problem, t, posScores, negScores, tried)
    if (next < value) {
      w.set(candidate)
      value = next
      ;[gradient, tried] = [tried, gradient]
      angle = Math.min(1, angle * 1.5)
    } else {
      angle /= 2
    }
  }
}

/**
 * mean over positives p of log(1 + sum_n exp(t (s_n - s_p))) + pull * sharpness * (1 - <w, anchor>),
 * and its gradient into `gradient`. The sum over negatives is shared by every positive,
 * so a step costs O((positives + negatives) * dim), not their product.
 */
function objective(w: Float64Array, problem: Problem, t: number, posScores: Float64Array, negScores: Float64Array, gradient: Float64Array): number {
  const { pos, neg, dim, anchor, pull, sharpness } = problem
  multiply(pos, w, dim, posScores)
  multiply(neg, w, dim, negScores)
  let top = -Infinity
  for (const s of negScores) top = Math.max(top, t * s)
  let mass = 0
  for (let n = 0; n < negScores.length; n++) mass += negScores[n] = Math.exp(t * negScores[n] - top)
  let loss = 0
  let negativePull = 0
  for (let p = 0; p < posScores.length; p++) {
    // log(1 + mass e^(top - t s_p)), kept finite however far apart the scores are.
    const x = Math.log(mass) + top - t * posScores[p]
    loss += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))
    const share = 1 / (1 + Math.exp(-x))
    posScores[p] = -share
    negativePull += share / mass
  }
  const count = posScores.length
  for (let d = 0; d < dim; d++) gradient[d] = -pull * sharpness * anchor[d]
  accumulate(pos, posScores, t / count, dim, gradient)
  accumulate(neg, negScores, (t * negativePull) / count, dim, gradient)
  return loss / count + pull * sharpness * (1 - dot(w, anchor))
}

function multiply(matrix: Float32Array, w: Float64Array, dim: number, out: Float64Array): void {
  for (let i = 0, o = 0; i < out.length; i++, o += dim) {
    let s = 0
    for (let d = 0; d < dim; d++) s += matrix[o + d] * w[d]
    out[i] = s
  }
}

/** gradient += scale * sum_i coefficients[i] * row_i */
function accumulate(matrix: Float32Array, coefficients: Float64Array, scale: number, dim: number, gradient: Float64Array): void {
  for (let i = 0, o = 0; i < coefficients.length; i++, o += dim) {
    const c = coefficients[i] * scale
    for (let d = 0; d < dim; d++) gradient[d] += c * matrix[o + d]
  }
}

/**
 * `count` distinct indices below n in random order (all of them when n <= count): a partial
 * Fisher-Yates shuffle that keeps only the swapped places, so drawing a few of 100k costs a few.
 */
function sample(n: number, count: number, random: () => number): Uint32Array {
  const m = Math.min(n, count)
  const swapped = new Map<number, number>()
  const out = new Uint32Array(m)
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(random() * (n - i))
    out[i] = swapped.get(j) ?? j
    swapped.set(j, swapped.get(i) ?? i)
  }
  return out
}

/** A balanced random fold number in [0, folds) for each of n items. */
function foldOf(n: number, folds: number, random: () => number): Uint8Array {
  const fold = new Uint8Array(n)
  sample(n, n, random).forEach((item, position) => (fold[item] = position % folds))
  return fold
}

function indicesOf(fold: Uint8Array, f: number): number[] {
  const out: number[] = []
  fold.forEach((g, i) => g === f && out.push(i))
  return out
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

function sumSquares(a: Float32Array): number {
  return dot(a, a)
}

function normalize(v: Float64Array): void {
  const norm = Math.sqrt(dot(v, v))
  for (let i = 0; i < v.length; i++) v[i] /= norm
}

function unit(v: ArrayLike<number>): Float64Array | null {
  const out = Float64Array.from(v)
  const norm = Math.sqrt(dot(out, out))
  if (!(norm > 0) || !Number.isFinite(norm)) return null
  for (let i = 0; i < out.length; i++) out[i] /= norm
  return out
}

/** Mulberry32: small, seeded, the same sequence on every machine. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
