import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { type OnnxGraph, OnnxGraphBuilder, attr, encodeOnnxModel } from '../onnx/onnxModel'

/**
 * Every indexed photo's principal vectors for one model, held in memory for search as int8 rows
 * (one row per principal vector, D values, with a float32 scale per row): D*K + 4*K bytes a photo
 * (2,128 for SDL's 300x7), a quarter of float32. Scoring a term is one int8 matrix-vector
 * product, which onnxruntime's MLAS kernels run at close to memory bandwidth; plain JavaScript
 * was ten times slower.
 */
export class VectorMatrix {
  private constructor(
    readonly dim: number,
    readonly rows: number,
    readonly photoCount: number,
    private readonly values: Int8Array,
    private readonly rowScales: Float32Array,
    private readonly session: ort.InferenceSession
  ) {}

  /**
   * `photos` yields each photo's principal vectors in the model's dk layout (element d*rows + k),
   * in the order photo indices will refer to.
   */
  static async build(photos: Iterable<Float32Array>, photoCount: number, dim: number, rows: number): Promise<VectorMatrix> {
    const values = new Int8Array(photoCount * rows * dim)
    const rowScales = new Float32Array(photoCount * rows)
    let p = 0
    for (const vectors of photos) {
      for (let k = 0; k < rows; k++) {
        let max = 0
        for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(vectors[d * rows + k]))
        const scale = max / 127 || 1
        const row = p * rows + k
        rowScales[row] = scale
        for (let d = 0; d < dim; d++) values[row * dim + d] = Math.round(vectors[d * rows + k] / scale)
      }
      p++
    }
    if (p !== photoCount) throw new Error(`expected ${photoCount} photos, got ${p}`)
    return new VectorMatrix(dim, rows, photoCount, values, rowScales, await matVecSession(dim, rows))
  }

  /** Bytes held per photo. */
  get bytesPerPhoto(): number {
    return this.rows * (this.dim + 4)
  }

  /** max_k <A_k, w> for every photo; `w` is a unit word vector of length D. */
  async scores(w: Float32Array): Promise<Float32Array> {
    if (!this.photoCount) return new Float32Array(0)
    const wScale = int8Scale(w)
    const wq = Int8Array.from(w, (v) => Math.round(v / wScale))
    const result = await this.session.run({
      vectors: new ort.Tensor('int8', this.values, [this.photoCount * this.rows, this.dim]),
      term: new ort.Tensor('int8', wq, [this.dim, 1]),
      rowScales: new ort.Tensor('float32', this.rowScales, [this.photoCount * this.rows, 1]),
      termScale: new ort.Tensor('float32', Float32Array.of(wScale), [1])
    })
    return result.scores.data as Float32Array
  }

  /**
   * Each photo's calibration: the `n`-th best score among `vocabulary` (row-major [tag][D], unit
   * vectors). A term applies to a photo when it beats this, i.e. it would rank within the photo's
   * top `n` of the vocabulary plus the term. Computed in chunks of photos, all in onnxruntime.
   */
  async vocabularyThresholds(vocabulary: Float32Array, n: number): Promise<Float32Array> {
    const tags = vocabulary.length / this.dim
    const k = Math.min(n, tags)
    const out = new Float32Array(this.photoCount)
    if (!this.photoCount || !k) return out
    const vScale = int8Scale(vocabulary)
    // [D, T]: the vocabulary transposed, quantised like a term.
    const vq = new Int8Array(this.dim * tags)
    for (let t = 0; t < tags; t++) for (let d = 0; d < this.dim; d++) vq[d * tags + t] = Math.round(vocabulary[t * this.dim + d] / vScale)
    const session = await thresholdSession(this.dim, this.rows)
    const chunk = 4096
    for (let first = 0; first < this.photoCount; first += chunk) {
      const count = Math.min(chunk, this.photoCount - first)
      const rows = this.rows
      const result = await session.run({
        vectors: new ort.Tensor('int8', this.values.subarray(first * rows * this.dim, (first + count) * rows * this.dim), [count, rows, this.dim]),
        vocabulary: new ort.Tensor('int8', vq, [this.dim, tags]),
        rowScales: new ort.Tensor('float32', this.rowScales.subarray(first * rows, (first + count) * rows), [count, rows, 1]),
        termScale: new ort.Tensor('float32', Float32Array.of(vScale), [1]),
        k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1])
      })
      const best = result.best.data as Float32Array
      for (let p = 0; p < count; p++) out[first + p] = best[p * k + k - 1]
    }
    return out
  }

  /** Which principal vector gives photo `p` its score for `w`, and that vector (dequantised). */
  bestRow(p: number, w: Float32Array): { k: number; vector: Float32Array } {
    let bestK = 0
    let best = -Infinity
    for (let k = 0; k < this.rows; k++) {
      const row = this.row(p, k)
      let dot = 0
      for (let d = 0; d < this.dim; d++) dot += row[d] * w[d]
      if (dot > best) [best, bestK] = [dot, k]
    }
    return { k: bestK, vector: this.row(p, bestK) }
  }

  row(p: number, k: number): Float32Array {
    const r = p * this.rows + k
    const scale = this.rowScales[r]
    return Float32Array.from(this.values.subarray(r * this.dim, (r + 1) * this.dim), (v) => v * scale)
  }
}

const sessions = new Map<string, Promise<ort.InferenceSession>>()

/**
 * Per photo, the k best scores over a vocabulary: MatMulInteger([photos, K, D], [D, T]) scaled,
 * max over K, then TopK over T -> [photos, k], best first.
 */
function thresholdSession(dim: number, rows: number): Promise<ort.InferenceSession> {
  return cachedSession(`thresholds-${dim}x${rows}`, () => {
    const g = new OnnxGraphBuilder()
    const scaled = scaledDots(g, 'vocabulary')
    const tagScores = g.node('ReduceMax', [scaled], 'score', [attr.ints('axes', [1]), attr.int('keepdims', 0)])
    // TopK has two outputs (values, indices), which the one-output builder helper cannot name.
    g.nodes.push({ name: 'best', opType: 'TopK', inputs: [tagScores, 'k'], outputs: ['best', 'bestTags'], attributes: [attr.int('axis', 1)] })
    return {
      name: 'vocabulary-thresholds',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'vectors', elemType: 'int8', shape: ['P', rows, dim] },
        { name: 'vocabulary', elemType: 'int8', shape: [dim, 'T'] },
        { name: 'rowScales', elemType: 'float32', shape: ['P', rows, 1] },
        { name: 'termScale', elemType: 'float32', shape: [1] },
        { name: 'k', elemType: 'int64', shape: [1] }
      ],
      outputs: [{ name: 'best', elemType: 'float32', shape: ['P', 'k'] }]
    }
  })
}

/**
 * The scoring graph, all in onnxruntime so no per-row work happens in JavaScript:
 * MatMulInteger([R, D] int8, [D, 1] int8) -> int32 dots, times each row's and the term's scale,
 * reshaped to [photos, K] and reduced by max over K -> [photos] float32.
 */
function matVecSession(dim: number, rows: number): Promise<ort.InferenceSession> {
  return cachedSession(`scores-${dim}x${rows}`, () => {
    const g = new OnnxGraphBuilder()
    const scaled = scaledDots(g, 'term')
    const perPhoto = g.node('Reshape', [scaled, g.initializer('photoRows', [2], BigInt64Array.of(-1n, BigInt(rows)))], 'score')
    g.node('ReduceMax', [perPhoto], 'score', [attr.ints('axes', [1]), attr.int('keepdims', 0)], 'scores')
    return {
      name: 'principal-vector-scores',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'vectors', elemType: 'int8', shape: ['R', dim] },
        { name: 'term', elemType: 'int8', shape: [dim, 1] },
        { name: 'rowScales', elemType: 'float32', shape: ['R', 1] },
        { name: 'termScale', elemType: 'float32', shape: [1] }
      ],
      outputs: [{ name: 'scores', elemType: 'float32', shape: ['P'] }]
    }
  })
}

/** int8 dot products of the `vectors` input with `terms`, back in float32: times each row's and the terms' scale. */
function scaledDots(g: OnnxGraphBuilder, terms: string): string {
  const dots = g.node('MatMulInteger', ['vectors', terms], 'score')
  const asFloat = g.node('Cast', [dots], 'score', [attr.int('to', 1)])
  return g.node('Mul', [g.node('Mul', [asFloat, 'rowScales'], 'score'), 'termScale'], 'score')
}

/** The scale that maps the largest |value| to 127 (1 for all zeros, so nothing divides by zero). */
function int8Scale(values: ArrayLike<number>): number {
  let max = 0
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]))
  return max / 127 || 1
}

function cachedSession(key: string, graph: () => OnnxGraph): Promise<ort.InferenceSession> {
  let session = sessions.get(key)
  if (!session) {
    const model = encodeOnnxModel({ irVersion: 8, opsetVersion: 17, producerName: 'sdl-tagger', metadata: {}, graph: graph() })
    session = ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: availableParallelism(), logSeverityLevel: 3 })
    sessions.set(key, session)
  }
  return session
}
