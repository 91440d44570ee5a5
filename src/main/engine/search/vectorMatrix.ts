import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { OnnxGraphBuilder, attr, encodeOnnxModel } from '../onnx/onnxModel'

/** Photos per shard: each shard is one onnxruntime session whose weights stay well under protobuf's 2 GB. */
const SHARD_PHOTOS = 65_536

/** One onnxruntime session over a run of photos; indexes extended from one another share it. */
interface Shard {
  photos: number
  session: ort.InferenceSession
  /** Matrices holding it: the session is released with the last of them. */
  users: number
}

/**
 * Every indexed photo's principal vectors for one model, held for search inside onnxruntime as
 * 4-bit (or 8-bit) weights of com.microsoft's MatMulNBits: one row per principal vector, a float32
 * scale per block of up to 64 values (the row padded to whole blocks): 180 bytes a row, 1,260 a
 * photo for SDL's 300x7 at 4 bits. Because the rows are constant initializers, onnxruntime packs
 * them once for its int8 GEMV kernels; passed as an input each query, the product ran far
 * slower. Scoring a term is one pass over the shards; nothing per row happens in
 * JavaScript. 4-bit scores only pick candidates: search rescores the best of them exactly.
 */
export class VectorMatrix {
  private constructor(
    readonly dim: number,
    readonly rows: number,
    readonly photoCount: number,
    private readonly layout: BlockLayout,
    private readonly shardPhotos: number,
    private readonly shards: readonly Shard[],
    /**
     * Per photo, how far its score may be from the exact one: five standard deviations of the
     * rounding error for a term spread over all dimensions (each value is off by at most half
     * its block's scale, uniformly). Search widens its cut-off by this before rescoring exactly.
     */
    readonly errorMargins: Float32Array
  ) {
    for (const shard of shards) shard.users++
  }

  /**
   * `photos` yields each photo's principal vectors in the model's dk layout (element d*rows + k),
   * in the order photo indices will refer to. Quantised as they come, so building never holds
   * more than one shard's weights beside what onnxruntime keeps.
   */
  static async build(photos: Iterable<Float32Array>, photoCount: number, dim: number, rows: number, opts: { bits?: 4 | 8; shardPhotos?: number } = {}): Promise<VectorMatrix> {
    const layout = blockLayout(dim, opts.bits ?? 4)
    const shardPhotos = opts.shardPhotos ?? SHARD_PHOTOS
    const { shards, errorMargins } = await quantizeShards(photos, photoCount, dim, rows, layout, shardPhotos)
    return new VectorMatrix(dim, rows, photoCount, layout, shardPhotos, shards, errorMargins)
  }

  /**
   * This matrix with `photos` appended (indices photoCount onwards): only they are quantised, in
   * shards of their own, and this matrix's shards are shared, so adding the photos an indexing
   * run brought costs in proportion to them, not to the library.
   */
  async extend(photos: Iterable<Float32Array>, photoCount: number): Promise<VectorMatrix> {
    const added = await quantizeShards(photos, photoCount, this.dim, this.rows, this.layout, this.shardPhotos)
    const errorMargins = new Float32Array(this.photoCount + photoCount)
    errorMargins.set(this.errorMargins)
    errorMargins.set(added.errorMargins, this.photoCount)
    return new VectorMatrix(this.dim, this.rows, this.photoCount + photoCount, this.layout, this.shardPhotos, [...this.shards, ...added.shards], errorMargins)
  }

  /**
   * The small shards at the end (under 1/16 of a full one): each extension while indexing runs
   * adds one, and each costs a session run per query, so search merges a run of them.
   */
  get smallTailShards(): number {
    return this.shards.length - this.smallTailStart()
  }

  /**
   * This matrix without its small tail shards (the rest shared), so that their photos can be
   * extended in again as one shard. The caller releases it once extended.
   */
  withoutSmallTail(): VectorMatrix {
    const kept = this.shards.slice(0, this.smallTailStart())
    const photoCount = kept.reduce((sum, shard) => sum + shard.photos, 0)
    return new VectorMatrix(this.dim, this.rows, photoCount, this.layout, this.shardPhotos, kept, this.errorMargins.slice(0, photoCount))
  }

  private smallTailStart(): number {
    let start = this.shards.length
    while (start > 0 && this.shards[start - 1].photos < this.shardPhotos / 16) start--
    return start
  }

  /** Bytes held per photo: the quantised rows and their block scales. */
  get bytesPerPhoto(): number {
    return this.rows * (this.layout.bytesPerRow + 4 * this.layout.blocks)
  }

  /** Frees the onnxruntime sessions, and with them the weights (the garbage collector would not know how much they hold). */
  async release(): Promise<void> {
    await Promise.all(this.shards.map((shard) => (--shard.users === 0 ? shard.session.release() : undefined)))
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

/** Quantises `photoCount` photos into shards of at most `shardPhotos`, with each photo's error margin. */
async function quantizeShards(
  photos: Iterable<Float32Array>,
  photoCount: number,
  dim: number,
  rows: number,
  layout: BlockLayout,
  shardPhotos: number
): Promise<{ shards: Shard[]; errorMargins: Float32Array }> {
  const shards: Shard[] = []
  const errorMargins = new Float32Array(photoCount)
  let shard: ShardWeights | null = null
  let seen = 0
  for (const vectors of photos) {
    if (seen >= photoCount) throw new Error(`expected ${photoCount} photos, got more`)
    shard ??= newShardWeights(Math.min(shardPhotos, photoCount - seen), rows, layout)
    errorMargins[seen] = quantizePhoto(vectors, shard.filled++, shard, dim, rows, layout)
    seen++
    // Quantising a large library takes seconds: let queries on the previous index (and everything else) through.
    if (seen % 2048 === 0) await new Promise((resolve) => setImmediate(resolve))
    if (shard.filled === shard.photos) {
      shards.push({ photos: shard.photos, session: await shardSession(shard, rows, layout), users: 0 })
      shard = null
    }
  }
  if (seen !== photoCount) throw new Error(`expected ${photoCount} photos, got ${seen}`)
  return { shards, errorMargins }
}

interface BlockLayout {
  bits: 4 | 8
  blockSize: number
  blocks: number
  paddedDim: number
  bytesPerRow: number
}

/** Blocks of 64 (MatMulNBits wants a power of two, at least 16); short test vectors get one smaller block. */
function blockLayout(dim: number, bits: 4 | 8): BlockLayout {
  const blockSize = Math.min(64, Math.max(16, 2 ** Math.ceil(Math.log2(dim))))
  const blocks = Math.ceil(dim / blockSize)
  const paddedDim = blocks * blockSize
  return { bits, blockSize, blocks, paddedDim, bytesPerRow: (paddedDim * bits) / 8 }
}

interface ShardWeights {
  photos: number
  filled: number
  weights: Uint8Array
  scales: Float32Array
}

function newShardWeights(photos: number, rows: number, layout: BlockLayout): ShardWeights {
  // Every value starts at the zero point, so the padding adds nothing to a dot product.
  const zero = layout.bits === 8 ? 0x80 : 0x88
  return { photos, filled: 0, weights: new Uint8Array(photos * rows * layout.bytesPerRow).fill(zero), scales: new Float32Array(photos * rows * layout.blocks) }
}

/**
 * MatMulNBits' layout: per row, per block, q + 2^(bits-1) (its default zero point) with
 * q = round(v / scale) in [-(2^(bits-1) - 1), 2^(bits-1) - 1], and one float32 scale a block.
 * 4-bit values are packed two a byte, the even element in the low nibble. Returns the photo's
 * error margin (see VectorMatrix.errorMargins).
 */
function quantizePhoto(vectors: Float32Array, p: number, shard: ShardWeights, dim: number, rows: number, layout: BlockLayout): number {
  const { bits, blockSize, blocks, bytesPerRow } = layout
  const limit = 2 ** (bits - 1) - 1
  const zero = limit + 1
  let worstVariance = 0
  for (let k = 0; k < rows; k++) {
    const row = p * rows + k
    const base = row * bytesPerRow
    let variance = 0
    for (let b = 0; b < blocks; b++) {
      const first = b * blockSize
      const last = Math.min(dim, first + blockSize)
      let max = 0
      for (let d = first; d < last; d++) max = Math.max(max, Math.abs(vectors[d * rows + k]))
      const scale = max / limit || 1
      shard.scales[row * blocks + b] = scale
      variance += ((last - first) * scale * scale) / 12
      for (let d = first; d < last; d++) {
        const q = zero + Math.round(vectors[d * rows + k] / scale)
        if (bits === 8) shard.weights[base + d] = q
        else {
          const i = base + (d >> 1)
          shard.weights[i] = d & 1 ? (shard.weights[i] & 0x0f) | (q << 4) : (shard.weights[i] & 0xf0) | q
        }
      }
    }
    worstVariance = Math.max(worstVariance, variance / dim)
  }
  return 5 * Math.sqrt(worstVariance)
}

/**
 * One shard's scoring graph: MatMulNBits(term [1, D'], rows [R, D'] 8-bit) -> [1, R] dots,
 * reshaped to [photos, K] and reduced by max over K -> [photos].
 */
function shardSession(quantized: ShardWeights, rows: number, layout: BlockLayout): Promise<ort.InferenceSession> {
  const { bits, blockSize, blocks, paddedDim } = layout
  const rowCount = quantized.photos * rows
  const g = new OnnxGraphBuilder()
  const weights = g.initializer('rows', [rowCount, blocks, (blockSize * bits) / 8], quantized.weights)
  const scales = g.initializer('scales', [rowCount * blocks], quantized.scales)
  const dots = 'dots'
  g.nodes.push({
    name: dots,
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inputs: ['term', weights, scales],
    outputs: [dots],
    // accuracy_level 4: int8 arithmetic (the term is quantised per block on the fly), the fast path.
    attributes: [attr.int('K', paddedDim), attr.int('N', rowCount), attr.int('bits', bits), attr.int('block_size', blockSize), attr.int('accuracy_level', 4)]
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
