import type { SearchHit, SearchResponse } from '../../../shared/search'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { Lexicon } from '../lexicon/lexicon'
import type { PackManifest } from '../models/packManifest'
import { DEFAULT_VOCABULARY } from './defaultVocabulary'
import { type TermScores, evaluateQuery } from './evaluateQuery'
import { type QueryNode, parseQuery, queryTerms } from './queryParser'
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
  matrix: VectorMatrix
  photos: Array<{ path: string; offline: boolean }>
  vocabulary: { words: readonly string[]; vectors: Float32Array }
  lexicon: Lexicon
  thresholds: Map<number, Float32Array>
  embedded: number
}

/**
 * Free-text search over the library with the query language of queryParser.ts. A term's relevance
 * to a photo is SDL's own score, max_k <A_k, w>; whether it applies is calibrated per photo against
 * the vocabulary. The index is loaded on the first search and reloaded when the library changes.
 */
export class SearchService {
  private index: Promise<LoadedIndex> | null = null

  constructor(private readonly engine: Engine) {}

  async search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
    const node = parseQuery(query)
    const index = await this.loadIndex()
    const topN = opts.topN ?? 10
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
    const { k, vector } = index.matrix.bestRow(p, terms.get(term)!.vector)
    return {
      path: index.photos[p].path,
      score: relevance,
      offline: index.photos[p].offline,
      match: { term, principalVector: k, nearestWords: nearestWords(vector, index.vocabulary, 5) }
    }
  }

  private async thresholds(index: LoadedIndex, topN: number): Promise<Float32Array> {
    let thresholds = index.thresholds.get(topN)
    if (!thresholds) {
      thresholds = await index.matrix.vocabularyThresholds(index.vocabulary.vectors, topN)
      index.thresholds.set(topN, thresholds)
    }
    return thresholds
  }

  private async loadIndex(): Promise<LoadedIndex> {
    const library = await this.engine.library()
    // Only the pack's description: search never runs the image model.
    const manifest = await this.engine.manifest()
    const modelId = library.store.modelId(manifest)
    const embedded = library.store.embeddedCount(modelId)
    const current = this.index && (await this.index.catch(() => null))
    if (current && current.manifest.name === manifest.name && current.embedded === embedded) return current
    this.index = (async () => {
      const photos: LoadedIndex['photos'] = []
      const vectors = function* () {
        for (const photo of library.store.embeddedPhotos(modelId)) {
          photos.push({ path: photo.path, offline: photo.offline })
          yield photo.vectors
        }
      }
      const matrix = await VectorMatrix.build(vectors(), embedded, manifest.dim, manifest.rows)
      const packVocabulary = manifest.vocabulary ? await this.engine.packs.loadVocabulary(manifest) : null
      const lexicon = await Lexicon.open({ dataDir: this.engine.dataDir, manifest, vocabulary: packVocabulary })
      const vocabulary = packVocabulary ? { words: packVocabulary.tags, vectors: packVocabulary.vectors } : defaultVocabulary(lexicon, manifest.dim)
      return { manifest, matrix, photos, vocabulary, lexicon, thresholds: new Map(), embedded }
    })()
    return this.index
  }
}

function defaultVocabulary(lexicon: Lexicon, dim: number): LoadedIndex['vocabulary'] {
  const words: string[] = []
  const vectors = new Float32Array(DEFAULT_VOCABULARY.length * dim)
  for (const word of DEFAULT_VOCABULARY) {
    const found = lexicon.lookup(word)
    if (!found.ok) continue
    vectors.set(found.vector, words.length * dim)
    words.push(word)
  }
  return { words, vectors: vectors.subarray(0, words.length * dim) }
}

/** The terms that are not negated: only they can speak for a photo. */
function positiveTerms(node: QueryNode): string[] {
  if (node.kind === 'not') return []
  if (node.kind === 'term') return queryTerms(node)
  return [...new Set(node.children.flatMap(positiveTerms))]
}

/** The vocabulary words closest (by cosine) to one principal vector: what that facet of the photo is about. */
export function nearestWords(vector: Float32Array, vocabulary: LoadedIndex['vocabulary'], count: number): string[] {
  const dim = vector.length
  const scored = vocabulary.words.map((word, t) => {
    let dot = 0
    for (let d = 0; d < dim; d++) dot += vector[d] * vocabulary.vectors[t * dim + d]
    return { word, dot }
  })
  return scored
    .sort((a, b) => b.dot - a.dot)
    .slice(0, count)
    .map((s) => s.word)
}
