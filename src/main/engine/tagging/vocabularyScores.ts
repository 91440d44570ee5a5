import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type * as Ort from 'onnxruntime-node'
import type { Progress } from '../download/progress'
import { progressReporter } from '../download/progress'
import type { LibraryStore } from '../library/libraryStore'
import type { Lexicon } from '../lexicon/lexicon'
import type { PackManifest, PackVocabulary } from '../models/packManifest'
import { DEFAULT_VOCABULARY } from '../search/defaultVocabulary'

/**
 * How many of each photo's best vocabulary tags are stored: enough for any sensible number of
 * suggestions after the user's decisions, and the cut-off of search for any top N up to this.
 */
export const STORED_TOP = 50

/** Photos scored together in one onnxruntime run. */
const CHUNK = 1024

/**
 * The words every photo is scored against when it is indexed: the pack's tags, or, for a pack
 * without a tag list, DEFAULT_VOCABULARY. `id` changes whenever the words or their vectors do,
 * so stored scores of another vocabulary are recognised as stale.
 */
export interface BaseVocabulary extends PackVocabulary {
  id: string
}

/** `lexicon` is only consulted (and only needed) for a pack without its own tags. */
export function baseVocabulary(manifest: PackManifest, pack: PackVocabulary | null, lexicon: Lexicon | null): BaseVocabulary {
  let vocab: PackVocabulary
  if (pack) vocab = pack
  else {
    if (!lexicon) throw new Error('a pack without tags needs the lexicon for its default vocabulary')
    const tags: string[] = []
    const vectors = new Float32Array(DEFAULT_VOCABULARY.length * manifest.dim)
    for (const word of DEFAULT_VOCABULARY) {
      const found = lexicon.lookup(word)
      if (!found.ok) continue
      vectors.set(found.vector, tags.length * manifest.dim)
      tags.push(word)
    }
    vocab = { tags, unseen: new Set(), dim: manifest.dim, vectors: vectors.slice(0, tags.length * manifest.dim) }
  }
  const hash = createHash('sha256')
    .update(vocab.tags.join('\n'))
    .update(new Uint8Array(vocab.vectors.buffer, vocab.vectors.byteOffset, vocab.vectors.byteLength))
  return { ...vocab, id: hash.digest('hex').slice(0, 16) }
}

/** A photo's best tags of a vocabulary, best first: indices into its tags, and their scores. */
export interface TopScores {
  tags: Uint16Array
  scores: Float32Array
}

/**
 * Scores photos against a whole vocabulary in float32 (exactly SDL's max_k <A_k, w>) and keeps
 * each photo's `STORED_TOP` best: Transpose([P, D, K] -> [P, K, D]), MatMul with [D, T],
 * ReduceMax over K, TopK, all in one onnxruntime run per chunk.
 */
export class VocabularyScorer {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    private readonly vocabT: Float32Array,
    readonly vocabulary: BaseVocabulary,
    private readonly rows: number,
    readonly top: number
  ) {}

  static async open(vocabulary: BaseVocabulary, rows: number): Promise<VocabularyScorer> {
    const ort = await import('onnxruntime-node')
    const { OnnxGraphBuilder, attr, encodeOnnxModel } = await import('../onnx/onnxModel')
    const { dim } = vocabulary
    const tagCount = vocabulary.tags.length
    const top = Math.min(STORED_TOP, tagCount)
    const vocabT = new Float32Array(dim * tagCount)
    for (let t = 0; t < tagCount; t++) for (let d = 0; d < dim; d++) vocabT[d * tagCount + t] = vocabulary.vectors[t * dim + d]
    const g = new OnnxGraphBuilder()
    const kd = g.node('Transpose', ['vectors'], 'score', [attr.ints('perm', [0, 2, 1])])
    const dots = g.node('MatMul', [kd, 'vocabulary'], 'score')
    const scores = g.node('ReduceMax', [dots], 'score', [attr.ints('axes', [1]), attr.int('keepdims', 0)])
    const k = g.initializer('k', [1], BigInt64Array.of(BigInt(top)))
    // TopK has two outputs (values, indices), which the one-output builder helper cannot name.
    g.nodes.push({ name: 'best', opType: 'TopK', inputs: [scores, k], outputs: ['best', 'bestTags'], attributes: [attr.int('axis', 1)] })
    const model = encodeOnnxModel({
      irVersion: 8,
      opsetVersion: 17,
      producerName: 'sdl-tagger',
      metadata: {},
      graph: {
        name: 'vocabulary-top-scores',
        nodes: g.nodes,
        initializers: g.initializers,
        inputs: [
          { name: 'vectors', elemType: 'float32', shape: ['P', dim, rows] },
          { name: 'vocabulary', elemType: 'float32', shape: [dim, tagCount] }
        ],
        outputs: [
          { name: 'best', elemType: 'float32', shape: ['P', top] },
          { name: 'bestTags', elemType: 'int64', shape: ['P', top] }
        ]
      }
    })
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: availableParallelism(), logSeverityLevel: 3 })
    return new VocabularyScorer(ort, session, vocabT, vocabulary, rows, top)
  }

  async release(): Promise<void> {
    await this.session.release()
  }

  /** `values` holds `photos` photos' principal vectors (dk layout) back to back. */
  async topScores(values: Float32Array, photos: number): Promise<TopScores[]> {
    if (!photos) return []
    const { dim } = this.vocabulary
    if (!this.top) return Array.from({ length: photos }, () => ({ tags: new Uint16Array(0), scores: new Float32Array(0) }))
    const result = await this.session.run({
      vectors: new this.ort.Tensor('float32', values, [photos, dim, this.rows]),
      vocabulary: new this.ort.Tensor('float32', this.vocabT, [dim, this.vocabulary.tags.length])
    })
    const best = result.best.data as Float32Array
    const bestTags = result.bestTags.data as BigInt64Array
    return Array.from({ length: photos }, (_, p) => ({
      scores: best.slice(p * this.top, (p + 1) * this.top),
      tags: Uint16Array.from(bestTags.subarray(p * this.top, (p + 1) * this.top), Number)
    }))
  }

  /**
   * The vocabulary words nearest each vector (a photo's principal vector, a "facet"), best first
   * with their scores, all in one run: how the photo view and search hits describe a facet. Needs
   * a scorer opened with rows = 1.
   */
  async nearestWords(vectors: readonly Float32Array[], count: number): Promise<Array<Array<{ word: string; score: number }>>> {
    const { dim, tags } = this.vocabulary
    const values = new Float32Array(vectors.length * dim)
    vectors.forEach((v, i) => values.set(v, i * dim))
    const tops = await this.topScores(values, vectors.length)
    return tops.map((top) => Array.from(top.tags.subarray(0, count), (t, i) => ({ word: tags[t], score: top.scores[i] })))
  }

  /**
   * Scores every photo `modelId` has embedded that has no scores of `vocabulary` yet (new
   * photos, or all of them after the vocabulary changed) and stores them. Returns how many. The
   * scorer is opened only when there are some: opening an onnxruntime session is a good part of
   * what the first search after a start would otherwise wait for.
   */
  static async scoreMissing(
    store: LibraryStore,
    modelId: number,
    vocabulary: BaseVocabulary,
    scorer: () => Promise<VocabularyScorer>,
    onProgress?: (p: Progress) => void
  ): Promise<number> {
    const missing = store.photoIdsMissingVocabularyScores(modelId, vocabulary.id)
    if (!missing.length) return 0
    return (await scorer()).score(store, modelId, missing, onProgress)
  }

  private async score(store: LibraryStore, modelId: number, missing: number[], onProgress?: (p: Progress) => void): Promise<number> {
    const report = progressReporter(onProgress, { phase: 'suggestions', unit: 'items' })
    const { dim } = this.vocabulary
    report(0, missing.length)
    for (let first = 0; first < missing.length; first += CHUNK) {
      const found = store.photosVectors(missing.slice(first, first + CHUNK), modelId)
      // A photo removed since the list was made is passed over.
      const chunk = [...found]
      const values = new Float32Array(chunk.length * dim * this.rows)
      chunk.forEach(([, vectors], i) => values.set(vectors, i * dim * this.rows))
      const tops = await this.topScores(values, chunk.length)
      store.putVocabularyScores(
        modelId,
        this.vocabulary.id,
        chunk.map(([photoId], i) => ({ photoId, ...tops[i] }))
      )
      const done = Math.min(first + CHUNK, missing.length)
      report(done, missing.length, done === missing.length)
    }
    return missing.length
  }
}
