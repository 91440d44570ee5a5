import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { OnnxGraphBuilder, attr, encodeOnnxModel } from '../onnx/onnxModel'

/** Photos per shard: each shard is one onnxruntime session whose weights stay well under protobuf's 2 GB. */
const SHARD_PHOTOS = 65_536

/**
 * Every indexed photo's principal vectors for one model, held for search inside onnxruntime as
 * 8-bit weights of com.microsoft's MatMulNBits: one row per principal vector, a float32 scale per
 * block of up to 64 values (the row padded to whole blocks): 340 bytes a row, 2,380 a photo for
 * SDL's 300x7. Because the rows are constant initializers, onnxruntime packs them once for its
 * int8 GEMV kernels; passed as an input each query, the same product ran three times slower.
 * Scoring a term is one pass over the shards; nothing per row happens in JavaScript.
 */
export class VectorMatrix {
  private constructor(
    readonly dim: number,
    readonly rows: number,
    readonly photoCount: number,
    private readonly layout: BlockLayout,
    private readonly shards: ReadonlyArray<{ photos: number; session: ort.InferenceSession }>
  ) {}

  /**
   * `photos` yields each photo's principal vectors in the model's dk layout (element d*rows + k),
   * in the order photo indices will refer to. Quantised as they come, so building never holds
   * more than one shard's weights beside what onnxruntime keeps.
   */
  static async build(photos: Iterable<Float32Array>, photoCount: number, dim: number, rows: number, shardPhotos = SHARD_PHOTOS): Promise<VectorMatrix> {
    const layout = blockLayout(dim)
    const shards: Array<{ photos: number; session: ort.InferenceSession }> = []
    let shard: ShardWeights | null = null
    let seen = 0
    for (const vectors of photos) {
      if (seen >= photoCount) throw new Error(`expected ${photoCount} photos, got more`)
      shard ??= newShardWeights(Math.min(shardPhotos, photoCount - seen), rows, layout)
      quantizePhoto(vectors, shard.filled++, shard, dim, rows, layout)
      seen++
      if (shard.filled === shard.photos) {
        shards.push({ photos: shard.photos, session: await shardSession(shard, rows, layout) })
        shard = null
      }
    }
    if (seen !== photoCount) throw new Error(`expected ${photoCount} photos, got ${seen}`)
    return new VectorMatrix(dim, rows, photoCount, layout, shards)
  }

  /** Bytes held per photo: the 8-bit rows and their block scales. */
  get bytesPerPhoto(): number {
    return this.rows * (this.layout.paddedDim + 4 * this.layout.blocks)
  }

  /** max_k <A_k, w> for every photo; `w` is a word vector of length D. */
  async scores(w: Float32Array): Promise<Float32Array> {
    const out = new Float32Array(this.photoCount)
    const term = new Float32Array(this.layout.paddedDim)
    term.set(w)
    const feed = { term: new ort.Tensor('float32', term, [1, this.layout.paddedDim]) }
    let offset = 0
    for (const shard of this.shards) {
      const result = await shard.session.run(feed)
      out.set(result.scores.data as Float32Array, offset)
      offset += shard.photos
    }
    return out
  }
}

interface BlockLayout {
  blockSize: number
  blocks: number
  paddedDim: number
}

/** Blocks of 64 (MatMulNBits wants a power of two, at least 16); short test vectors get one smaller block. */
function blockLayout(dim: number): BlockLayout {
  const blockSize = Math.min(64, Math.max(16, 2 ** Math.ceil(Math.log2(dim))))
  const blocks = Math.ceil(dim / blockSize)
  return { blockSize, blocks, paddedDim: blocks * blockSize }
}

interface ShardWeights {
  photos: number
  filled: number
  weights: Uint8Array
  scales: Float32Array
}

function newShardWeights(photos: number, rows: number, layout: BlockLayout): ShardWeights {
  return { photos, filled: 0, weights: new Uint8Array(photos * rows * layout.paddedDim).fill(128), scales: new Float32Array(photos * rows * layout.blocks) }
}

/**
 * MatMulNBits' 8-bit layout: per row, per block, bytes q + 128 (its default zero point) with
 * q = round(v / scale) in [-127, 127], and one float32 scale a block (max |v| / 127).
 */
function quantizePhoto(vectors: Float32Array, p: number, shard: ShardWeights, dim: number, rows: number, layout: BlockLayout): void {
  const { blockSize, blocks, paddedDim } = layout
  for (let k = 0; k < rows; k++) {
    const row = p * rows + k
    for (let b = 0; b < blocks; b++) {
      const first = b * blockSize
      const last = Math.min(dim, first + blockSize)
      let max = 0
      for (let d = first; d < last; d++) max = Math.max(max, Math.abs(vectors[d * rows + k]))
      const scale = max / 127 || 1
      shard.scales[row * blocks + b] = scale
      for (let d = first; d < last; d++) shard.weights[row * paddedDim + d] = 128 + Math.round(vectors[d * rows + k] / scale)
    }
  }
}

/**
 * One shard's scoring graph: MatMulNBits(term [1, D'], rows [R, D'] 8-bit) -> [1, R] dots,
 * reshaped to [photos, K] and reduced by max over K -> [photos].
 */
function shardSession(quantized: ShardWeights, rows: number, layout: BlockLayout): Promise<ort.InferenceSession> {
  const { blockSize, blocks, paddedDim } = layout
  const rowCount = quantized.photos * rows
  const g = new OnnxGraphBuilder()
  const weights = g.initializer('rows', [rowCount, blocks, blockSize], quantized.weights)
  const scales = g.initializer('scales', [rowCount * blocks], quantized.scales)
  const dots = 'dots'
  g.nodes.push({
    name: dots,
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inputs: ['term', weights, scales],
    outputs: [dots],
    // accuracy_level 4: int8 arithmetic (the term is quantised per block on the fly), the fast path.
    attributes: [attr.int('K', paddedDim), attr.int('N', rowCount), attr.int('bits', 8), attr.int('block_size', blockSize), attr.int('accuracy_level', 4)]
  })
  const perPhoto = g.node('Reshape', [dots, g.initializer('photoRows', [2], BigInt64Array.of(-1n, BigInt(rows)))], 'score')
  g.node('ReduceMax', [perPhoto], 'score', [attr.ints('axes', [1]), attr.int('keepdims', 0)], 'scores')
  const model = encodeOnnxModel({
    irVersion: 8,
    opsetVersion: 17,
    extraOpsets: { 'com.microsoft': 1 },
    producerName: 'sdl-tagger',
    metadata: {},
    graph: {
      name: 'principal-vector-scores',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'term', elemType: 'float32', shape: [1, paddedDim] }],
      outputs: [{ name: 'scores', elemType: 'float32', shape: ['P'] }]
    }
  })
  return ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: availableParallelism(),
    logSeverityLevel: 3,
    // The arena would round the packed weights up to a power of two and keep its peak for good.
    enableCpuMemArena: false,
    // Shards run one after another: a pool spinning after its run would steal the cores from the next.
    extra: { session: { intra_op: { allow_spinning: '0' } } }
  })
}
