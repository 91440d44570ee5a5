import type { SearchHit, SearchResponse } from '../../../shared/search'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import type { Lexicon } from '../lexicon/lexicon'
import type { PackManifest } from '../models/packManifest'
import { type BaseVocabulary, STORED_TOP } from '../tagging/vocabularyScores'
import { type TermScores, evaluateQuery } from './evaluateQuery'
import { type QueryNode, parseQuery, queryTerms } from './queryParser'
import type { Library } from '../library/library'
import { VectorMatrix } from './vectorMatrix'

export interface SearchOptions {
  /** At most this many results (default 50). */
  limit?: number
  /** Rank every photo by relevance, without the per-photo cut-off. */
  all?: boolean
  /** A term applies to a photo when it ranks within the photo's top N of the vocabulary plus the term (default 10). */
  topN?: number
}

/** The active model's search index: its photos' principal vectors in memory, and its vocabulary. */
interface LoadedIndex {
  manifest: PackManifest
  modelId: number
  matrix: VectorMatrix
  photos: Array<{ id: number; path: string; offline: boolean }>
  vocabulary: BaseVocabulary
  lexicon: Lexicon
  thresholds: Map<number, Float32Array>
  embedded: number
}

/**
 * Free-text search over the library with the query language of queryParser.ts. A term's relevance
 * to a photo is SDL's own score, max_k <A_k, w>; whether it applies is calibrated per photo against
 * the vocabulary (the n-th best of its stored vocabulary scores). The index is loaded on the first
 * search and rebuilt when the library changes; while indexing runs, queries keep answering from
 * the index they have and a rebuild runs beside them, so typing never waits for a rebuild.
 */
export class SearchService {
  private index: Promise<LoadedIndex> | null = null
  private rebuilding: Promise<LoadedIndex> | null = null
  private library: Library | null = null

  constructor(private readonly engine: Engine) {}

  async search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
    const node = parseQuery(query)
    const topN = opts.topN ?? 10
    if (!Number.isInteger(topN) || topN < 1 || topN > STORED_TOP) {
      throw new SdlError(`The cut-off top N must be a whole number from 1 to ${STORED_TOP}, not ${topN}`, 'Use --all to rank every photo without a cut-off.')
    }
    const index = await this.loadIndex()
    const terms = new Map<string, TermScores & { vector: Float32Array }>()
    for (const key of queryTerms(node)) {
      const found = index.lexicon.lookup(key)
      if (!found.ok) {
        throw new SdlError(
          `Unknown word '${found.text}' in the query`,
          found.suggestions.length ? `Did you mean: ${found.suggestions.join(', ')}?` : 'Try another word.'
        )
      }
      const score = await index.matrix.scores(found.vector)
      const threshold = await this.thresholds(index, topN)
      const applies = new Uint8Array(score.length)
      for (let p = 0; p < score.length; p++) applies[p] = score[p] > threshold[p] ? 1 : 0
      terms.set(key, { score, applies, vector: found.vector })
    }
    const result = evaluateQuery(node, terms, index.photos.length, { all: opts.all, limit: opts.limit ?? 50 })
    const positive = positiveTerms(node)
    const hits: SearchHit[] = Array.from(result.matches, (p, i) => this.describeHit(index, p, result.relevance[i], positive, terms))
    return { query, model: index.manifest.name, photos: index.photos.length, hits }
  }

  /** Forget the loaded index, e.g. after the library changed or the active model did. */
  invalidate(): void {
    this.index = null
    this.rebuilding = null
  }

  private describeHit(
    index: LoadedIndex,
    p: number,
    relevance: number,
    positive: string[],
    terms: Map<string, TermScores & { vector: Float32Array }>
  ): SearchHit {
    // The term that speaks most for this photo, and the principal vector that carries it.
    const term = positive.reduce((best, key) => (terms.get(key)!.score[p] > terms.get(best)!.score[p] ? key : best), positive[0])
    const { k, vector } = bestRow(this.vectorsOf(index, p), index.manifest, terms.get(term)!.vector)
    return {
      path: index.photos[p].path,
      score: relevance,
      offline: index.photos[p].offline,
      match: { term, principalVector: k, nearestWords: nearestWords(vector, index.vocabulary, 5) }
    }
  }

  /** Read from the store rather than held: only the hits shown need them. */
  private vectorsOf(index: LoadedIndex, p: number): Float32Array {
    const vectors = this.library?.store.photoVectors(index.photos[p].id, index.modelId)
    // A photo re-indexed or removed since the index was built: its old vectors are gone.
    return vectors ?? new Float32Array(index.manifest.dim * index.manifest.rows)
  }

  /** Each photo's n-th best stored vocabulary score, in index order (-Infinity: none stored, nothing applies). */
  private async thresholds(index: LoadedIndex, topN: number): Promise<Float32Array> {
    let thresholds = index.thresholds.get(topN)
    if (!thresholds) {
      const library = await this.engine.library()
      const position = new Map(index.photos.map((photo, p) => [photo.id, p]))
      thresholds = new Float32Array(index.photos.length).fill(Infinity)
      for (const stored of library.store.vocabularyScores(index.modelId, index.vocabulary.id)) {
        const p = position.get(stored.photoId)
        // With fewer tags than N, every term ranks within the top N.
        if (p !== undefined) thresholds[p] = stored.scores.length >= topN ? stored.scores[topN - 1] : -Infinity
      }
      index.thresholds.set(topN, thresholds)
    }
    return thresholds
  }

  /**
   * The index of the library as it is, rebuilt when photos were embedded or removed since. While
   * indexing runs and an index exists, that one answers and the rebuild runs in the background.
   */
  private async loadIndex(): Promise<LoadedIndex> {
    const library = (this.library = await this.engine.library())
    // Only the pack's description: search never runs the image model.
    const manifest = await this.engine.manifest()
    const modelId = library.store.modelId(manifest)
    const embedded = library.store.embeddedCount(modelId)
    const current = this.index && (await this.index.catch(() => null))
    if (current && current.manifest.name === manifest.name && current.manifest.modelSha256 === manifest.modelSha256 && current.embedded === embedded) return current
    if (current && current.manifest.name === manifest.name && library.isIndexing) {
      this.rebuilding ??= this.build(manifest, modelId).then(
        (fresh) => {
          this.index = Promise.resolve(fresh)
          this.rebuilding = null
          return fresh
        },
        (err: unknown) => {
          this.rebuilding = null
          throw err
        }
      )
      this.rebuilding.catch(() => {})
      return current
    }
    this.index = this.rebuilding ?? this.build(manifest, modelId)
    return this.index
  }

  private async build(manifest: PackManifest, modelId: number): Promise<LoadedIndex> {
    const library = await this.engine.library()
    const tagger = await this.engine.tagger()
    // Photos indexed before their scores were stored (or under another vocabulary) get them now.
    await tagger.scoreNewPhotos()
    const embedded = library.store.embeddedCount(modelId)
    const photos: LoadedIndex['photos'] = []
    const vectors = function* () {
      for (const photo of library.store.embeddedPhotos(modelId)) {
        photos.push({ id: photo.id, path: photo.path, offline: photo.offline })
        yield photo.vectors
      }
    }
    const matrix = await VectorMatrix.build(vectors(), embedded, manifest.dim, manifest.rows)
    return { manifest, modelId, matrix, photos, vocabulary: await tagger.baseVocabulary(), lexicon: await tagger.lexicon(), thresholds: new Map(), embedded }
  }
}

/** Which principal vector gives a photo its score for `w`, and that vector. */
function bestRow(vectors: Float32Array, manifest: PackManifest, w: Float32Array): { k: number; vector: Float32Array } {
  const { dim, rows } = manifest
  let bestK = 0
  let best = -Infinity
  for (let k = 0; k < rows; k++) {
    let dot = 0
    for (let d = 0; d < dim; d++) dot += vectors[d * rows + k] * w[d]
    if (dot > best) [best, bestK] = [dot, k]
  }
  return { k: bestK, vector: Float32Array.from({ length: dim }, (_, d) => vectors[d * rows + bestK]) }
}

/** The terms that are not negated: only they can speak for a photo. */
function positiveTerms(node: QueryNode): string[] {
  if (node.kind === 'not') return []
  if (node.kind === 'term') return queryTerms(node)
  return [...new Set(node.children.flatMap(positiveTerms))]
}

/** The vocabulary words closest (by cosine) to one principal vector: what that facet of the photo is about. */
export function nearestWords(vector: Float32Array, vocabulary: { tags: readonly string[]; vectors: Float32Array }, count: number): string[] {
  const dim = vector.length
  const scored = vocabulary.tags.map((word, t) => {
    let dot = 0
    for (let d = 0; d < dim; d++) dot += vector[d] * vocabulary.vectors[t * dim + d]
    return { word, dot }
  })
  return scored
    .sort((a, b) => b.dot - a.dot)
    .slice(0, count)
    .map((s) => s.word)
}
