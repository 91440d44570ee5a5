/**
 * Maps word vectors from one space into another (GloVe-100d into a pack's fastText-300d), learnt
 * from anchors: words whose vectors are known in both. A pack knows only its ~1000 tags in its own
 * space, so these are small problems: every fit is exact linear algebra on at most a few thousand
 * anchors, and every method returns unit vectors, because the SDL score is a dot product with a
 * unit word vector.
 *
 * bench/projection.ts compares the methods under cross-validation on the official vocabulary.
 */
import { SpellingIndex } from './spelling'

/** Word pairs known in both spaces: unit rows, row-major. */
export interface Anchors {
  count: number
  inDim: number
  outDim: number
  /** [count][inDim], the source space (GloVe). */
  inputs: Float32Array
  /** [count][outDim], the target space (the pack's). */
  targets: Float32Array
  /** The anchors' texts (normalized), for methods that use spelling. */
  words: string[]
}

export interface Projection {
  /**
   * The image of `x` (a unit vector of the source space), a unit vector of the target space;
   * `word` is its text (normalized), which only spelling-aware methods read.
   */
  project(x: ArrayLike<number>, word: string): Float32Array
}

/**
 * What the lexicon uses: kernel ridge (fitKernelRidge) from GloVe plus a little spelling, with the
 * kernel width, regularisation and spelling weight that gave the best median cosine in
 * bench/projection.ts. docs/projection-experiments.md records how they were chosen and the
 * alternatives that did no better; docs/benchmarks.md has the figures.
 */
export const KERNEL_RIDGE_SETTINGS = { tau: 0.5, lambda: 0.1, spelling: 0.05 }

/**
 * Kernel ridge regression with the kernel exp((cos - 1) / tau) on GloVe cosines, plus `spelling`
 * times the cosine of the words' character n-gram counts (spelling.ts): a word's image is
 * the targets' mean plus the anchors' residuals weighted by (K + lambda I)^-1 k(x). It is the
 * principled form of "blend a linear map with the nearest anchors' exact vectors": close anchors
 * dominate (an anchor maps to nearly its own exact vector), their weights are solved for jointly
 * so that near-duplicate anchors do not count twice, and away from all anchors the image is a
 * smooth function of the GloVe vector. Under 10-fold cross-validation on the official vocabulary
 * its median cosine is clearly above those of ridge and of ridge blended with the nearest
 * anchors (bench/projection.ts).
 */
export function fitKernelRidge(anchors: Anchors, opts: { tau: number; lambda: number; spelling: number }): Projection {
  const { count: n, inDim, outDim, inputs } = anchors
  const kernel = (dot: number) => Math.exp((dot - 1) / opts.tau)
  // Built from the anchors only, so a held-out word's spelling counts only through what it shares with them.
  const spelling = opts.spelling > 0 ? new SpellingIndex(anchors.words) : null
  const factor = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    const spelt = spelling?.similarities(anchors.words[i])
    for (let j = 0; j <= i; j++) {
      factor[i * n + j] = kernel(dot(inputs, i * inDim, inputs, j * inDim, inDim)) + (spelt ? opts.spelling * spelt[j] : 0)
    }
    factor[i * n + i] += opts.lambda
  }
  cholesky(factor, n)
  const mean = columnMeans(anchors.targets, n, outDim)
  const residuals = centred(anchors.targets, n, outDim, mean)

  return {
    project(x, word) {
      // The image is mean + R' (K + lambda I)^-1 k(x). Solving for the n weights per word (cheap)
      // rather than for R's 300 columns once at fit time keeps the fit, paid when a lexicon
      // projects its first word, to a single factorisation.
      const weights = spelling ? spelling.similarities(word) : new Float64Array(n)
      for (let j = 0; j < n; j++) weights[j] = kernel(dot(x, 0, inputs, j * inDim, inDim)) + opts.spelling * weights[j]
      solveCholeskyVector(factor, n, weights)
      const out = Float64Array.from(mean)
      for (let j = 0; j < n; j++) {
        const w = weights[j]
        const row = j * outDim
        for (let d = 0; d < outDim; d++) out[d] += w * residuals[row + d]
      }
      return unit(out)
    }
  }
}

/**
 * Ridge regression with an intercept: W = argmin |(X - mx) W - (Y - my)|^2 + lambda |W|^2. The
 * baseline: smooth, good at telling tags apart, but its images stay far from the true vectors.
 */
export function fitRidge(anchors: Anchors, lambda: number): Projection {
  const { count: n, inDim, outDim } = anchors
  const inMean = columnMeans(anchors.inputs, n, inDim)
  const outMean = columnMeans(anchors.targets, n, outDim)
  const x = centred(anchors.inputs, n, inDim, inMean)
  const y = centred(anchors.targets, n, outDim, outMean)
  // Normal equations: (X'X + lambda I) W = X'Y, with X'X only inDim x inDim.
  const gram = new Float64Array(inDim * inDim)
  const weights = new Float64Array(inDim * outDim)
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < inDim; a++) {
      const xa = x[r * inDim + a]
      if (xa === 0) continue
      for (let b = 0; b < inDim; b++) gram[a * inDim + b] += xa * x[r * inDim + b]
      for (let d = 0; d < outDim; d++) weights[a * outDim + d] += xa * y[r * outDim + d]
    }
  }
  for (let a = 0; a < inDim; a++) gram[a * inDim + a] += lambda
  cholesky(gram, inDim)
  solveCholesky(gram, inDim, weights, outDim)

  return {
    project(v) {
      const out = Float64Array.from(outMean)
      for (let a = 0; a < inDim; a++) {
        const xa = v[a] - inMean[a]
        for (let d = 0; d < outDim; d++) out[d] += xa * weights[a * outDim + d]
      }
      return unit(out)
    }
  }
}

/**
 * Ridge blended with the nearest anchors' exact vectors: unit(weight * ridge + (1 - weight) *
 * softmax(cos / temperature)-weighted mean of the `neighbours` most similar anchors' targets).
 * Kept for comparison in the benchmark; kernel ridge does the same job better.
 */
export function fitNeighbourBlend(anchors: Anchors, opts: { lambda: number; neighbours: number; temperature: number; weight: number }): Projection {
  const { count: n, inDim, outDim, inputs, targets } = anchors
  const ridge = fitRidge(anchors, opts.lambda)
  const k = Math.min(opts.neighbours, n)
  return {
    project(x, word) {
      const sims = new Float64Array(n)
      for (let j = 0; j < n; j++) sims[j] = dot(x, 0, inputs, j * inDim, inDim)
      const nearest = Array.from(sims.keys())
        .sort((a, b) => sims[b] - sims[a])
        .slice(0, k)
      const top = sims[nearest[0]]
      const blend = new Float64Array(outDim)
      for (const j of nearest) {
        const w = Math.exp((sims[j] - top) / opts.temperature)
        for (let d = 0; d < outDim; d++) blend[d] += w * targets[j * outDim + d]
      }
      const neighbours = unit(blend)
      const linear = ridge.project(x, word)
      for (let d = 0; d < outDim; d++) blend[d] = opts.weight * linear[d] + (1 - opts.weight) * neighbours[d]
      return unit(blend)
    }
  }
}

export interface CrossValidation {
  /** Median over anchors of cos(projected, true vector). */
  medianCosine: number
  /**
   * A distribution-free 95% confidence interval for that median (medianConfidenceInterval),
   * treating the held-out cosines as independent draws: methods closer than its width are not
   * told apart.
   */
  medianInterval: [number, number]
  /** How often the true vector is the nearest (by cosine) of all `candidates` to the projection. */
  nearestAccuracy: number
}

/**
 * k-fold cross-validation: anchor i is held out in fold i % folds, and projected by a map fitted on
 * the other folds. `candidates` are all the pack's vectors ([m][outDim], unit) and `candidateRow[i]`
 * is anchor i's row among them.
 */
export function crossValidate(
  anchors: Anchors,
  fit: (train: Anchors) => Projection,
  opts: { folds: number; candidates: Float32Array; candidateRow: ArrayLike<number> }
): CrossValidation {
  const { count: n, inDim, outDim } = anchors
  const cosines: number[] = []
  let hits = 0
  for (let fold = 0; fold < opts.folds; fold++) {
    const train: number[] = []
    const test: number[] = []
    for (let i = 0; i < n; i++) (i % opts.folds === fold ? test : train).push(i)
    const projection = fit(selectAnchors(anchors, train))
    for (const i of test) {
      const p = projection.project(anchors.inputs.subarray(i * inDim, (i + 1) * inDim), anchors.words[i])
      cosines.push(dot(p, 0, anchors.targets, i * outDim, outDim))
      if (nearestRow(p, opts.candidates, outDim) === opts.candidateRow[i]) hits++
    }
  }
  cosines.sort((a, b) => a - b)
  const mid = cosines.length >> 1
  const medianCosine = cosines.length % 2 ? cosines[mid] : (cosines[mid - 1] + cosines[mid]) / 2
  return { medianCosine, medianInterval: medianConfidenceInterval(cosines), nearestAccuracy: hits / n }
}

/**
 * The 95% interval for the median of the population `sorted` (ascending) was drawn from: its
 * order statistics at the 1-based ranks floor(n/2 - 0.98 sqrt(n)) and ceil(n/2 + 0.98 sqrt(n) + 1)
 * (0.98 sqrt(n) = 1.96 standard deviations of the binomial count of draws below the median),
 * clamped to the sample.
 */
export function medianConfidenceInterval(sorted: readonly number[]): [number, number] {
  const n = sorted.length
  if (n === 0) return [NaN, NaN]
  const half = (1.96 * Math.sqrt(n)) / 2
  const lo = Math.max(1, Math.floor(n / 2 - half))
  const hi = Math.min(n, Math.ceil(n / 2 + half + 1))
  return [sorted[lo - 1], sorted[hi - 1]]
}

export function selectAnchors(anchors: Anchors, rows: readonly number[]): Anchors {
  const { inDim, outDim } = anchors
  const inputs = new Float32Array(rows.length * inDim)
  const targets = new Float32Array(rows.length * outDim)
  rows.forEach((r, i) => {
    inputs.set(anchors.inputs.subarray(r * inDim, (r + 1) * inDim), i * inDim)
    targets.set(anchors.targets.subarray(r * outDim, (r + 1) * outDim), i * outDim)
  })
  return { count: rows.length, inDim, outDim, inputs, targets, words: rows.map((r) => anchors.words[r]) }
}

/**
 * Replaces a symmetric positive-definite A (n x n, row-major) by its Cholesky factor L (lower
 * triangle; A = L L'). Every matrix factored here is a Gram matrix plus lambda I, so it is
 * positive definite whenever lambda > 0.
 */
export function cholesky(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n
    let s = a[rj + j]
    for (let k = 0; k < j; k++) s -= a[rj + k] * a[rj + k]
    if (!(s > 0)) throw new Error('Matrix is not positive definite')
    const diag = Math.sqrt(s)
    a[rj + j] = diag
    for (let i = j + 1; i < n; i++) {
      const ri = i * n
      let t = a[ri + j]
      for (let k = 0; k < j; k++) t -= a[ri + k] * a[rj + k]
      a[ri + j] = t / diag
    }
  }
}

/** Solves L L' X = B in place (B: n x m, row-major), a whole row of B at a time. */
export function solveCholesky(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let i = 0; i < n; i++) {
    const bi = i * m
    for (let k = 0; k < i; k++) {
      const f = l[i * n + k]
      const bk = k * m
      for (let c = 0; c < m; c++) b[bi + c] -= f * b[bk + c]
    }
    const inv = 1 / l[i * n + i]
    for (let c = 0; c < m; c++) b[bi + c] *= inv
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = i * m
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i]
      const bk = k * m
      for (let c = 0; c < m; c++) b[bi + c] -= f * b[bk + c]
    }
    const inv = 1 / l[i * n + i]
    for (let c = 0; c < m; c++) b[bi + c] *= inv
  }
}

/** solveCholesky for one right-hand side, reading L by rows only (a column walk would miss the cache). */
function solveCholeskyVector(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n
    let s = b[i]
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k]
    b[i] = s / l[ri + i]
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n
    const x = (b[i] /= l[ri + i])
    for (let k = 0; k < i; k++) b[k] -= l[ri + k] * x
  }
}

/** Row of `rows` ([*][dim]) with the largest dot product with `v`. */
export function nearestRow(v: ArrayLike<number>, rows: Float32Array, dim: number): number {
  let best = -1
  let bestDot = -Infinity
  for (let r = 0; r * dim < rows.length; r++) {
    const d = dot(v, 0, rows, r * dim, dim)
    if (d > bestDot) {
      bestDot = d
      best = r
    }
  }
  return best
}

function dot(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, dim: number): number {
  let s = 0
  for (let d = 0; d < dim; d++) s += a[aOffset + d] * b[bOffset + d]
  return s
}

function columnMeans(rows: Float32Array, n: number, dim: number): Float64Array {
  const mean = new Float64Array(dim)
  for (let r = 0; r < n; r++) for (let d = 0; d < dim; d++) mean[d] += rows[r * dim + d]
  for (let d = 0; d < dim; d++) mean[d] /= n
  return mean
}

function centred(rows: Float32Array, n: number, dim: number, mean: Float64Array): Float64Array {
  const out = new Float64Array(n * dim)
  for (let r = 0; r < n; r++) for (let d = 0; d < dim; d++) out[r * dim + d] = rows[r * dim + d] - mean[d]
  return out
}

/** `v` scaled to unit length in place (a zero vector stays zero). */
export function normalized(v: Float32Array): Float32Array {
  let s = 0
  for (let d = 0; d < v.length; d++) s += v[d] * v[d]
  if (s > 0) {
    const scale = 1 / Math.sqrt(s)
    for (let d = 0; d < v.length; d++) v[d] *= scale
  }
  return v
}

function unit(v: Float64Array): Float32Array {
  let s = 0
  for (let d = 0; d < v.length; d++) s += v[d] * v[d]
  const scale = s > 0 ? 1 / Math.sqrt(s) : 0
  return Float32Array.from(v, (x) => x * scale)
}
