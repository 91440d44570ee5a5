import type { SearchHit, SearchResponse } from '../../../shared/search'
import { SdlError } from '../errors'
import type { Lexicon } from '../lexicon/lexicon'
import type { PackManifest } from '../models/packManifest'
import { type BaseVocabulary, STORED_TOP, VocabularyScorer } from '../tagging/vocabularyScores'
import { type TermScores, evaluateQuery } from './evaluateQuery'
import { type QueryNode, dateTerms, isRankable, parseQuery, queryTerms } from './queryParser'
import { dateFilterOf, dateRangeOf } from './dateTerms'
import type { Library } from '../library/library'
import type { DateFilter, PhotoCatalog } from '../library/photoCatalog'
import { principalVector, sdlScore } from '../tagging/scoreTags'
import type { ActivePack } from '../models/activePack'
import type { AutoTagger } from '../tagging/autoTagger'
import type { LearnedKeywordStore } from '../tagging/learnedKeywordStore'
import type { TagStore } from '../tagging/tagStore'
import { UnknownWordError } from './unknownWordError'
import { VectorMatrix } from './vectorMatrix'

/**
 * How many candidates beyond the limit are rescored exactly: twice the limit, at least 100. On
 * random photos the 4-bit best `limit` plus this many always held the exact best `limit`, while a
 * much narrower margin already lost some of them (bench:search measures recall; docs/benchmarks.md).
 */
function rescoredBeyond(limit: number): number {
  return Math.max(100, 2 * limit)
}

/** How many nearest words describe a hit's matching facet. */
const FACET_WORDS = 5

/**
 * While indexing runs, how often the index takes in the new photos. Only they are read and
 * quantised, which is cheap, so new photos are soon searchable.
 */
const REBUILD_INTERVAL_MS = 5_000

/** Each rebuild while indexing adds a small shard; a run of this many is merged into one. */
const MAX_SMALL_SHARDS = 4

export interface SearchOptions {
  /** At most this many results (default 50). */
  limit?: number
  /** Rank every photo by relevance, without the per-photo cut-off. */
  all?: boolean
  /**
   * A term applies to a photo when it ranks within the photo's top N of the vocabulary plus the term
   * (default 10); a learned keyword, when it reaches its own cut-off instead (see Term.cutoff).
   */
  topN?: number
  /** Candidates beyond the limit rescored exactly (default rescoredBeyond(limit); tests lower it to exercise the two stages). */
  rescoredBeyondLimit?: number
}

/**
 * A query term: its vector (a keyword's learned one, else the word's; null for a keyword of the
 * user's that is neither learned nor known to the lexicon), and the index positions of photos the
 * user tagged with it or rejected it for.
 */
interface Term {
  vector: Float32Array | null
  /**
   * A learned keyword's own cut-off (keywordThreshold.ts), which replaces the per-photo one: its
   * vector is trained to rank its photos above the others, not to beat the words a photo shows,
   * and so rarely reaches a photo's top N (on the COCO bench, for 1% of its class's photos).
   */
  cutoff: number | null
  tagged: Set<number>
  rejected: Set<number>
}

/** The active model's search index: its photos' principal vectors in memory, and its vocabulary. */
interface LoadedIndex {
  manifest: PackManifest
  modelId: number
  matrix: VectorMatrix
  photos: Array<{ id: number; path: string; offline: boolean }>
  /** The photos' ids in index order, which is ascending (see positionOf). */
  ids: Float64Array
  /** Searches running on this index; a replaced index frees its onnxruntime sessions once none is. */
  inFlight: number
  retired: boolean
  /** When it was last found to hold every embedded photo, or was built (ms since the epoch). */
  checkedAt: number
  vocabulary: BaseVocabulary
  /** Shared by an index and the ones extended from it (opening one stalls the thread, which sharing spares every rebuild): freed with the last. */
  facetWords: { scorer: VocabularyScorer; users: number }
  lexicon: Lexicon
  thresholds: Map<number, Float32Array>
  embedded: number
  /** The library's reshape count its photo list was read at (see photosAddedSince). */
  reshaped: number
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
  private readonly library: Library
  /** Settles once every index replaced so far has been freed (or is held by a search that frees it). */
  private released: Promise<void> = Promise.resolve()
  /** The pack's manifest, read again only when its files or the active pack change (see PackStore.changeStamp). */
  private manifest: { value: PackManifest; stamp: string } | null = null

  constructor(
    private readonly parts: {
      library: Library
      tags: TagStore
      learnedKeywords: Pick<LearnedKeywordStore, 'term'>
      tagger: AutoTagger
      pack: ActivePack
      catalog: Pick<PhotoCatalog, 'page' | 'count' | 'idsCaptured' | 'capturedDates'>
    }
  ) {
    this.library = parts.library
  }

  async search(query: string, opts: SearchOptions = {}): Promise<SearchResponse> {
    const node = parseQuery(query)
    const topN = opts.topN ?? 10
    if (!Number.isInteger(topN) || topN < 1 || topN > STORED_TOP) {
      throw new SdlError(`The cut-off top N must be a whole number from 1 to ${STORED_TOP}, not ${topN}`, 'Use --all to rank every photo without a cut-off.')
    }
    const dates = dateFilterOf(node)
    if (dates) return this.listByDate(query, node, dates, opts.limit ?? 50)
    const index = await this.loadIndex()
    index.inFlight++
    try {
      return await this.searchIndex(index, query, node, topN, opts)
    } finally {
      index.inFlight--
      if (index.retired && !index.inFlight) void release(index)
    }
  }

  /**
   * A query of date terms alone: the library's photos captured then, newest first, whether or not
   * the model has indexed them (nothing about them but their date is asked). `all` changes nothing:
   * there is no cut-off to lift.
   */
  private async listByDate(query: string, node: QueryNode, dates: DateFilter, limit: number): Promise<SearchResponse> {
    const { catalog, pack } = this.parts
    const model = this.manifest?.value.name ?? (await pack.manifest().catch(() => null))?.name ?? ''
    const term = dateTerms(node)[0].text
    const hits = catalog.page(0, limit, { dates }, 'date').map((photo) => ({ ...dateHit(photo.path, photo.offline, term), capturedAt: photo.capturedAt }))
    return { query, order: 'date', model, photos: catalog.count(), hits }
  }

  private async searchIndex(index: LoadedIndex, query: string, node: QueryNode, topN: number, opts: SearchOptions): Promise<SearchResponse> {
    const limit = opts.limit ?? 50
    const tags = this.parts.tags
    const terms = new Map<string, Term>()
    for (const key of queryTerms(node)) {
      // A term naming one of the user's keywords (a word or a quoted phrase, in any case) means
      // it: the photos that carry it match, whether or not the lexicon knows its words, and rank
      // first; its learned vector, when it has one, scores the others.
      const decided = tags.tagDecisions(key)
      const learned = decided ? this.parts.learnedKeywords.term(key, index.modelId) : undefined
      const found = learned ? null : index.lexicon.lookup(key)
      if (found && !found.ok && !decided) {
        throw new UnknownWordError(found.text, found.suggestions)
      }
      const positions = (ids: number[] = []) => new Set(ids.map((id) => positionOf(index, id)).filter((p) => p !== undefined))
      terms.set(key, {
        vector: learned?.vector ?? (found?.ok ? found.vector : null),
        cutoff: learned?.threshold ?? null,
        tagged: positions(decided?.tagged),
        rejected: positions(decided?.rejected)
      })
    }
    const threshold = await this.thresholds(index, topN)
    const { dates, order, capturedAt } = this.dateFacts(index, node)

    // 1. Candidates by the index's 4-bit scores. Each photo's cut-off moves by its error margin
    //    the way that keeps the photo in play: lower for a wanted term, higher for an excluded one.
    const positive = positiveTerms(node)
    const negated = negatedTerms(node)
    const margins = index.matrix.errorMargins
    const approximate = new Map<string, TermScores>()
    for (const [key, term] of terms) {
      const score = term.vector ? await index.matrix.scores(term.vector) : new Float32Array(index.photos.length).fill(-Infinity)
      const side = negated.has(key) ? (positive.includes(key) ? 0 : 1) : -1
      const applies = new Uint8Array(score.length)
      for (let p = 0; p < score.length; p++) applies[p] = appliesAt(score[p], cutoffOf(term, threshold[p]) + side * margins[p])
      approximate.set(key, { score, applies: withUserDecisions(term, applies), first: carriersAt(term, score.length) })
    }

    // 2. The candidates rescored exactly from their stored vectors, and the query evaluated on them
    //    alone. When too few of them truly match, while stage 1 had more, more are taken.
    let beyond = opts.rescoredBeyondLimit ?? rescoredBeyond(limit)
    for (;;) {
      const candidates = evaluateQuery(node, approximate, index.photos.length, { all: opts.all, limit: limit + beyond, dates, order }).matches
      const { result, kept, vectors, exact } = this.rescore(index, node, candidates, terms, threshold, { all: opts.all, limit, dates, order })
      if (result.matches.length < limit && candidates.length === limit + beyond) {
        beyond *= 4
        continue
      }
      const meta = { query, model: index.manifest.name, photos: index.photos.length }
      if (capturedAt) {
        const term = dateTerms(node)[0].text
        const hits = Array.from(result.matches, (i) => ({
          ...dateHit(index.photos[kept[i]].path, index.photos[kept[i]].offline, term),
          capturedAt: capturedAt.get(index.photos[kept[i]].id) ?? null
        }))
        return { ...meta, order: 'date', hits }
      }
      const described = Array.from(result.matches, (i, j) => this.describeHit(index, kept[i], vectors[i], i, result.relevance[j], positive, terms, exact))
      await this.nameFacets(index, described)
      return { ...meta, order: 'relevance', hits: described.map((d) => d.hit) }
    }
  }

  /**
   * Per date term of the query, which index positions were captured in its range; and for a
   * query without a word to rank by, the order instead (recency: the newest highest) and each
   * photo's capture date for its hit.
   */
  private dateFacts(index: LoadedIndex, node: QueryNode): { dates: Map<string, Uint8Array>; order?: Float32Array; capturedAt?: Map<number, string | null> } {
    const { catalog } = this.parts
    const flagsOf = (ids: Iterable<number>, flags: Uint8Array | Float32Array, value: (i: number) => number) => {
      let i = 0
      for (const id of ids) {
        const p = positionOf(index, id)
        if (p !== undefined) flags[p] = value(i)
        i++
      }
      return flags
    }
    const dates = new Map<string, Uint8Array>()
    for (const term of dateTerms(node)) dates.set(term.text, flagsOf(catalog.idsCaptured(dateRangeOf(term)), new Uint8Array(index.photos.length), () => 1) as Uint8Array)
    if (isRankable(node)) return { dates }
    const oldestFirst = catalog.capturedDates()
    const order = flagsOf(
      oldestFirst.map((photo) => photo.id),
      new Float32Array(index.photos.length).fill(-1),
      (i) => i
    ) as Float32Array
    return { dates, order, capturedAt: new Map(oldestFirst.map((photo) => [photo.id, photo.capturedAt])) }
  }

  private rescore(
    index: LoadedIndex,
    node: QueryNode,
    candidates: Uint32Array,
    terms: Map<string, Term>,
    threshold: Float32Array,
    opts: { all?: boolean; limit: number; dates: Map<string, Uint8Array>; order?: Float32Array }
  ) {
    const found = this.library.store.photosVectors(
      Array.from(candidates, (p) => index.photos[p].id),
      index.modelId
    )
    const kept = Array.from(candidates).filter((p) => found.has(index.photos[p].id))
    const vectors = kept.map((p) => found.get(index.photos[p].id)!)
    const exact = new Map<string, TermScores>()
    for (const [key, term] of terms) {
      const w = term.vector
      const score = Float32Array.from(vectors, (v) => (w ? sdlScore(v, index.manifest.rows, w).score : -Infinity))
      const applies = Uint8Array.from(score, (s, i) => appliesTo(term, kept[i], s, cutoffOf(term, threshold[kept[i]])))
      exact.set(key, { score, applies, first: term.tagged.size ? Uint8Array.from(kept, (p) => (term.tagged.has(p) ? 1 : 0)) : undefined })
    }
    const dates = new Map([...opts.dates].map(([text, flags]) => [text, Uint8Array.from(kept, (p) => flags[p])]))
    const order = opts.order && Float32Array.from(kept, (p) => opts.order![p])
    return { result: evaluateQuery(node, exact, kept.length, { ...opts, dates, order }), kept, vectors, exact }
  }

  /** Forget the loaded index, e.g. after the library changed or the active model did. */
  invalidate(): void {
    this.manifest = null
    void this.replaceIndex(null)
    this.rebuilding = null
  }

  /** Frees the index's onnxruntime sessions (a search still running keeps them until it is done). */
  async close(): Promise<void> {
    const rebuilding = this.rebuilding
    this.invalidate()
    const pending = await rebuilding?.catch(() => null)
    if (pending) {
      pending.retired = true
      if (!pending.inFlight) await release(pending)
    }
    await this.released
  }

  /** Makes `next` the index searches use, and lets the one it replaces go once its searches are done. */
  private replaceIndex(next: Promise<LoadedIndex> | null): void {
    const previous = this.index
    this.index = next
    const released = previous?.then(
      async (old) => {
        // The pending rebuild itself may be what `previous` was: that one stays.
        if (old === (await next?.catch(() => null))) return
        old.retired = true
        if (!old.inFlight) await release(old)
      },
      () => {}
    )
    if (released) this.released = Promise.all([this.released, released]).then(() => {})
  }

  /**
   * Each hit's matching facet as its nearest vocabulary words, all hits in one onnxruntime run:
   * scoring them against a whole vocabulary in JavaScript was a large part of a query's time.
   */
  private async nameFacets(index: LoadedIndex, described: Array<{ hit: SearchHit; facet: Float32Array | null }>): Promise<void> {
    const named = described.filter((d) => d.facet)
    if (!named.length) return
    const words = await index.facetWords.scorer.nearestWords(
      named.map((d) => d.facet!),
      FACET_WORDS
    )
    named.forEach((d, i) => (d.hit.match.nearestWords = words[i].map((w) => w.word)))
  }

  /** `p` is the photo's index position, `i` its row among the rescored candidates. */
  private describeHit(
    index: LoadedIndex,
    p: number,
    vectors: Float32Array,
    i: number,
    relevance: number,
    positive: string[],
    terms: Map<string, Term>,
    scores: Map<string, TermScores>
  ): { hit: SearchHit; facet: Float32Array | null } {
    // The term that speaks most for this photo (by the model; a tag-only term has no vector to
    // speak with), and the principal vector that carries it.
    const spoken = positive.filter((key) => terms.get(key)!.vector)
    const term = (spoken.length ? spoken : positive).reduce((best, key) => (scores.get(key)!.score[i] > scores.get(best)!.score[i] ? key : best))
    const { vector: w, tagged } = terms.get(term)!
    const row = w ? sdlScore(vectors, index.manifest.rows, w) : null
    return {
      hit: {
        path: index.photos[p].path,
        score: relevance,
        offline: index.photos[p].offline,
        // nearestWords are filled in by nameFacets.
        match: { term, principalVector: row ? row.k : -1, nearestWords: [], tagged: tagged.has(p) }
      },
      facet: row ? principalVector(vectors, index.manifest.rows, row.k) : null
    }
  }

  /** Each photo's n-th best stored vocabulary score, in index order (Infinity: none stored, nothing applies; -Infinity: fewer than n words, everything does). */
  private async thresholds(index: LoadedIndex, topN: number): Promise<Float32Array> {
    let thresholds = index.thresholds.get(topN)
    if (!thresholds) {
      const library = this.library
      thresholds = new Float32Array(index.photos.length).fill(Infinity)
      for (const stored of library.store.vocabularyScores(index.modelId, index.vocabulary.id)) {
        const p = positionOf(index, stored.photoId)
        if (p !== undefined) thresholds[p] = thresholdOf(stored.scores, topN)
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
    const library = this.library
    const { pack } = this.parts
    // Only the pack's description: search never runs the image model.
    if (!this.manifest || pack.changeStamp(this.manifest.value.name) !== this.manifest.stamp) {
      const value = await pack.manifest()
      this.manifest = { value, stamp: pack.changeStamp(value.name) }
    }
    const manifest = this.manifest.value
    const modelId = library.store.modelId(manifest)
    const current = this.index && (await this.index.catch(() => null))
    const sameModel = current && current.manifest.name === manifest.name && current.manifest.modelSha256 === manifest.modelSha256
    // While indexing runs, new photos join the index at most every REBUILD_INTERVAL_MS (and at
    // once when it ends); in between, not even the count is asked, as every batch changes it.
    if (sameModel && library.isIndexing && (this.rebuilding || Date.now() - current.checkedAt < REBUILD_INTERVAL_MS)) return current
    const embedded = library.store.embeddedCount(modelId)
    if (current) current.checkedAt = Date.now()
    if (sameModel && current.embedded === embedded) return current
    if (current && current.manifest.name === manifest.name && library.isIndexing) {
      this.rebuilding = this.build(manifest, modelId, current).then(
        (fresh) => {
          this.replaceIndex(Promise.resolve(fresh))
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
    const next = this.rebuilding ?? this.build(manifest, modelId, current && current.manifest.modelSha256 === manifest.modelSha256 ? current : null)
    this.replaceIndex(next)
    return next
  }

  /**
   * The index of the library's embedded photos. When the library has only gained photos since
   * `previous` (what an indexing run does: new photos get higher ids), only they are read and
   * quantised, into a shard of their own beside the previous index's; a run of MAX_SMALL_SHARDS
   * small ones is quantised again as one.
   */
  private async build(manifest: PackManifest, modelId: number, previous: LoadedIndex | null = null): Promise<LoadedIndex> {
    const { library, tagger } = this.parts
    // Photos indexed before their scores were stored (or under another vocabulary) get them now;
    // while indexing runs, the indexer scores each batch itself (and finding none missing is a
    // query over the whole library, a stall every rebuild).
    if (!library.isIndexing) await tagger.scoreNewPhotos()
    const vocabulary = await tagger.baseVocabulary()
    const { dim, rows } = manifest
    // Read a page at a time while the indexer may go on writing. A photo removed in the meantime
    // keeps zeros here and drops out when rescored.
    const vectorsOf = function* (photos: LoadedIndex['photos']) {
      for (let first = 0; first < photos.length; first += 1024) {
        const page = library.store.photosVectors(
          photos.slice(first, first + 1024).map((p) => p.id),
          modelId
        )
        for (const photo of photos.slice(first, first + 1024)) yield page.get(photo.id) ?? new Float32Array(dim * rows)
      }
    }
    // Read before the photo list: a reshape while it is read then rebuilds on the next check.
    const reshaped = library.store.reshapeCount()
    const added = previous && previous.vocabulary.id === vocabulary.id ? this.photosAddedSince(previous, modelId) : null
    let photos: LoadedIndex['photos']
    let matrix: VectorMatrix
    let thresholds = new Map<number, Float32Array>()
    let facetWords: LoadedIndex['facetWords'] | undefined
    if (previous && added) {
      photos = [...previous.photos, ...added]
      // Held like a search holds it, so that a model switch meanwhile cannot free the shards being shared.
      previous.inFlight++
      try {
        const head = previous.matrix.smallTailShards >= MAX_SMALL_SHARDS ? previous.matrix.withoutSmallTail() : previous.matrix
        const rest = photos.slice(head.photoCount)
        matrix = await head.extend(vectorsOf(rest), rest.length)
        if (head !== previous.matrix) await head.release()
        // Taken while the previous index is held, so that it cannot free it first.
        facetWords = previous.facetWords
        facetWords.users++
      } finally {
        previous.inFlight--
        if (previous.retired && !previous.inFlight) void release(previous)
      }
      thresholds = extendedThresholds(previous, photos.length, library.store.vocabularyScores(modelId, vocabulary.id, undefined, previous.photos.at(-1)!.id), added)
    } else {
      photos = library.store.embeddedPhotoList(modelId)
      matrix = await VectorMatrix.build(vectorsOf(photos), photos.length, dim, rows)
    }
    const ids = Float64Array.from(photos, (photo) => photo.id)
    // Scoring single vectors (one "row") against the vocabulary: the words nearest a facet.
    facetWords ??= { scorer: await VocabularyScorer.open(vocabulary, 1), users: 1 }
    const embedded = photos.length
    return {
      manifest,
      modelId,
      matrix,
      photos,
      ids,
      inFlight: 0,
      retired: false,
      checkedAt: Date.now(),
      vocabulary,
      facetWords,
      lexicon: await tagger.lexicon(),
      thresholds,
      embedded,
      reshaped
    }
  }

  /**
   * The photos embedded since `previous` was built, when that is all that changed: no photo went
   * missing, came back, moved or was purged since (the library's reshape count is the same), and
   * they plus its photos make the whole count. Else null (or the index is of another model): the
   * index is built anew.
   */
  private photosAddedSince(previous: LoadedIndex, modelId: number): LoadedIndex['photos'] | null {
    const store = this.library.store
    const last = previous.photos.at(-1)
    if (previous.modelId !== modelId || !last) return null
    // One read snapshot: the index worker may commit a batch between two statements.
    return store.snapshot(() => {
      if (store.reshapeCount() !== previous.reshaped) return null
      const added = store.embeddedPhotoList(modelId, last.id)
      return previous.photos.length + added.length === store.embeddedCount(modelId) ? added : null
    })
  }
}

/**
 * The previous index's per-photo cut-offs, for the top N it had them for, followed by the added
 * photos' (read from their stored scores): no need to read every photo's scores again.
 */
function extendedThresholds(
  previous: LoadedIndex,
  photoCount: number,
  scoresOfAdded: Iterable<{ photoId: number; scores: Float32Array }>,
  added: LoadedIndex['photos']
): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>()
  for (const [topN, old] of previous.thresholds) {
    const next = new Float32Array(photoCount).fill(Infinity)
    next.set(old)
    out.set(topN, next)
  }
  if (!out.size) return out
  const positionOf = new Map(added.map((photo, i) => [photo.id, previous.photos.length + i]))
  for (const stored of scoresOfAdded) {
    const p = positionOf.get(stored.photoId)
    if (p === undefined) continue
    for (const [topN, thresholds] of out) thresholds[p] = thresholdOf(stored.scores, topN)
  }
  return out
}

/** A photo's cut-off for top N: its N-th best vocabulary score; with fewer words than N, every term ranks within the top N. */
function thresholdOf(scores: Float32Array, topN: number): number {
  return scores.length >= topN ? scores[topN - 1] : -Infinity
}

/**
 * A photo's position in the index, by binary search: photos are listed by ascending id and an
 * extension appends higher ones, so no id-to-position map (slow to build for a large library, every rebuild) is needed.
 */
function positionOf(index: Pick<LoadedIndex, 'ids'>, id: number): number | undefined {
  let lo = 0
  let hi = index.ids.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (index.ids[mid] === id) return mid
    if (index.ids[mid] < id) lo = mid + 1
    else hi = mid - 1
  }
  return undefined
}

/** A hit of a query ranked by date: no score, and the date term (the first) stands for why it matched. */
function dateHit(path: string, offline: boolean, term: string): SearchHit {
  return { path, score: 0, offline, match: { term, principalVector: -1, nearestWords: [], tagged: false } }
}

/** Frees a replaced index's onnxruntime sessions. */
async function release(index: LoadedIndex): Promise<void> {
  await Promise.all([index.matrix.release(), --index.facetWords.users === 0 ? index.facetWords.scorer.release() : undefined])
}

/**
 * Whether a term with this score ranks within a photo's top N of the vocabulary plus the term:
 * whether it reaches the N-th best vocabulary score. A vocabulary word meets its own score there,
 * computed elsewhere in another order of additions, so the last float32 bits are forgiven.
 */
function appliesAt(score: number, threshold: number): 0 | 1 {
  return score >= threshold - 1e-5 * Math.max(1, Math.abs(threshold)) ? 1 : 0
}

/** The score from which the term applies to a photo whose per-photo cut-off is `threshold`. */
function cutoffOf(term: Term, threshold: number): number {
  return term.cutoff ?? threshold
}

/** The user has the last word: a photo they tagged with the term matches it, one they rejected it for does not. */
function appliesTo(term: Term, p: number, score: number, threshold: number): 0 | 1 {
  if (term.tagged.has(p)) return 1
  if (term.rejected.has(p)) return 0
  return appliesAt(score, threshold)
}

/** appliesTo over every photo at once: the model's verdicts, then the user's few decisions over them. */
function withUserDecisions(term: Term, applies: Uint8Array): Uint8Array {
  for (const p of term.rejected) applies[p] = 0
  for (const p of term.tagged) applies[p] = 1
  return applies
}

/** 1 at the index position of each photo the user tagged with the term; undefined when none is (nothing to put first). */
function carriersAt(term: Term, photoCount: number): Uint8Array | undefined {
  if (!term.tagged.size) return undefined
  const first = new Uint8Array(photoCount)
  for (const p of term.tagged) first[p] = 1
  return first
}

/** The terms that appear under a NOT. */
function negatedTerms(node: QueryNode, under = false): Set<string> {
  if (node.kind === 'date') return new Set()
  if (node.kind === 'term') return new Set(under ? queryTerms(node) : [])
  if (node.kind === 'not') return negatedTerms(node.child, true)
  return new Set(node.children.flatMap((c) => [...negatedTerms(c, under)]))
}

/** The terms that are not negated: only they can speak for a photo. */
function positiveTerms(node: QueryNode): string[] {
  if (node.kind === 'not' || node.kind === 'date') return []
  if (node.kind === 'term') return queryTerms(node)
  return [...new Set(node.children.flatMap(positiveTerms))]
}
