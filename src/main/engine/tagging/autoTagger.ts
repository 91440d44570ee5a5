import { resolve } from 'node:path'
import type { TagAction, TagPhotosReport, TagUndoReport } from '../../../shared/api'
import { type ScoreScale, scoreScale } from '../../../shared/confidence'
import type { Progress } from '../download/progress'
import { SdlError } from '../errors'
import { requireFolder, safeRealpath } from '../library/folderPaths'
import type { LibraryStore } from '../library/libraryStore'
import type { ActivePack } from '../models/activePack'
import { Lexicon } from '../lexicon/lexicon'
import type { PackManifest, PackVocabulary } from '../models/packManifest'
import { checkKeyword, keywordKey, keywordText } from './keywordText'
import { principalVector, scoreAllTags } from './scoreTags'
import type { StepTaken, TagHistory } from './tagHistory'
import type { LearnedKeywordStore } from './learnedKeywordStore'
import type { PhotoTagState, TagStore } from './tagStore'
import { type BaseVocabulary, type TopScores, VocabularyScorer, baseVocabulary } from './vocabularyScores'

export interface SuggestOptions {
  /** At most this many suggestions (default 10). */
  top?: number
  /** Leave out tags scoring below this. */
  minScore?: number
}

export interface TagSuggestion {
  tag: string
  score: number
  /** Not among the tags the model was trained on: the pack's unseen tags and every custom word. */
  unseen: boolean
  /** A keyword of the user's, suggested by the vector learned from this many photos that carry it. */
  learnedFrom?: number
}

export interface PhotoTags {
  accepted: string[]
  user: string[]
  rejected: string[]
  suggestions: TagSuggestion[]
}

/** What `vocab add` did with each word: added, there already, or refused with the reason. */
export interface AddWordsResult {
  added: string[]
  already: string[]
  refused: Array<{ word: string; reason: string }>
}

export interface AutotagResult {
  path: string
  suggestions: TagSuggestion[]
}

/**
 * Custom words and learned keywords the base vocabulary lacks; by tag, of a learned one:
 * `learnedFrom` the photos it was learned from, `cutoffs` its own cut-off (none: it is suggested as a word is).
 */
interface ExtraVocabulary extends PackVocabulary {
  learnedFrom: Map<string, number>
  cutoffs: Map<string, number>
}

/**
 * A learned keyword that reaches its own cut-off is placed as if it scored the photo's N-th best
 * word plus its margin over that cut-off: it applies as a word within the photo's top N does in
 * search (whose default N this is), so a suggestion list of 10 shows it. Its raw score, on a scale
 * of its own, would mostly rank it below them.
 */
const LEARNED_PLACE = 10

/** The words suggestions are drawn from, with unit vectors row-major [tag][dim]. */
interface ActiveVocabulary extends PackVocabulary {
  custom: Set<string>
}

interface Base {
  manifest: PackManifest
  /** Opened on first need: loading GloVe takes seconds, and a pack with its own tags can be scored without it. */
  lexicon: () => Promise<Lexicon>
  vocabulary: BaseVocabulary
  /** Scores whole photos (rows = manifest.rows) against the vocabulary; opened when photos need scoring. */
  scorer: Lazy<VocabularyScorer>
  /** Scores single principal vectors against the vocabulary (rows = 1): a facet's nearest words. */
  facetScorer: Lazy<VocabularyScorer>
  /** The model's score scale, once read from a whole sample (see scoreScale). */
  scale?: ScoreScale | null
}

/** Photos whose best stored score places a model's confidence levels: plenty for a 90th percentile. */
const SCALE_SAMPLE = 2000

/** A photo's principal vector A_k, described by its length and its nearest vocabulary words. */
export interface FacetDescription {
  principalVector: number
  norm: number
  nearestWords: Array<{ word: string; score: number }>
}

/**
 * Tags suggested from a photo's stored principal vectors (SDL's score, max_k <A_k, w>, over the
 * pack's tags or DEFAULT_VOCABULARY, plus the user's custom words), which the user accepts or
 * rejects; a rejected tag is never suggested for that photo again. Never runs the image model.
 * Each photo's best tags of the base vocabulary are scored once, as it is indexed, and stored
 * (vocabulary_scores); custom words, few and changing, are scored when suggestions are asked for.
 */
export class AutoTagger {
  private base: Promise<Base> | null = null
  private retired: Base[] = []

  private readonly store: LibraryStore
  private readonly tagStore: TagStore

  constructor(private readonly parts: { photos: LibraryStore; tags: TagStore; history: TagHistory; learnedKeywords: Pick<LearnedKeywordStore, 'learned'>; pack: ActivePack }) {
    this.store = parts.photos
    this.tagStore = parts.tags
  }

  async suggestions(photoPath: string, opts: SuggestOptions = {}): Promise<TagSuggestion[]> {
    const { photo, modelId } = await this.indexedPhoto(photoPath)
    const [stored] = this.store.vocabularyScores(modelId, (await this.loadBase()).vocabulary.id, photo.id)
    const decided = new Set(this.tagStore.photoTags(photo.id).map((t) => keywordKey(t.tag)))
    return this.suggest(await this.loadBase(), photo.id, modelId, stored, await this.customVocabulary(), decided, opts)
  }

  /**
   * Scores and stores the best base-vocabulary tags of every embedded photo that has none yet:
   * called by the indexer after each batch, so new photos are auto-tagged as they are indexed.
   */
  async scoreNewPhotos(onProgress?: (p: Progress) => void): Promise<number> {
    const base = await this.loadBase()
    return VocabularyScorer.scoreMissing(this.store, this.store.modelId(base.manifest), base.vocabulary, () => base.scorer.get(), onProgress)
  }

  /** Each of a photo's principal vectors with its length and the `count` vocabulary words nearest it. */
  async describeFacets(principal: Float32Array, count: number): Promise<FacetDescription[]> {
    const base = await this.loadBase()
    const { rows } = base.manifest
    const facets = Array.from({ length: rows }, (_, k) => principalVector(principal, rows, k))
    const words = await (await base.facetScorer.get()).nearestWords(facets, count)
    return facets.map((facet, k) => ({ principalVector: k, norm: Math.hypot(...facet), nearestWords: words[k] }))
  }

  /** Frees the onnxruntime sessions of the vocabulary scorers. */
  async close(): Promise<void> {
    const base = this.base
    this.base = null
    const all = [...this.retired, await base?.catch(() => null)]
    this.retired = []
    await Promise.all(all.map(release))
  }

  /**
   * Where the active model's scores become "likely" and "very likely" (shared/confidence.ts), from
   * the best stored score of up to SCALE_SAMPLE photos. Once that many are scored, the sample (the
   * first photos by id) stays the same and is kept; until then it is read again on each call, as
   * the index worker scores new photos in its own thread. Null while no photo is scored.
   */
  async scoreScale(): Promise<ScoreScale | null> {
    const base = await this.loadBase()
    if (base.scale !== undefined) return base.scale
    const best: number[] = []
    for (const stored of this.store.vocabularyScores(this.store.modelId(base.manifest), base.vocabulary.id)) {
      if (stored.scores.length) best.push(stored.scores.reduce((a, b) => Math.max(a, b)))
      if (best.length >= SCALE_SAMPLE) break
    }
    const scale = scoreScale(best)
    if (best.length >= SCALE_SAMPLE) base.scale = scale
    return scale
  }

  /** The lexicon of the active model: any word to a vector of its space. */
  async lexicon(): Promise<Lexicon> {
    return (await this.loadBase()).lexicon()
  }

  /** The stored scores' vocabulary, for search's per-photo cut-off. */
  async baseVocabulary(): Promise<BaseVocabulary> {
    return (await this.loadBase()).vocabulary
  }

  async tags(photoPath: string, opts: SuggestOptions = {}): Promise<PhotoTags> {
    const { photo } = await this.indexedPhoto(photoPath)
    const decided = this.tagStore.photoTags(photo.id)
    const byState = (state: PhotoTagState) => decided.filter((t) => t.state === state).map((t) => t.tag)
    return {
      accepted: byState('accepted'),
      user: byState('user'),
      rejected: byState('rejected'),
      suggestions: await this.suggestions(photoPath, opts)
    }
  }

  /** Accepts a tag of the active vocabulary (a rejected one flips to accepted). */
  async accept(photoPath: string, tag: string): Promise<void> {
    await this.decide(photoPath, tag, 'accept')
  }

  /** Rejects a tag: it is never suggested for this photo again. */
  async reject(photoPath: string, tag: string): Promise<void> {
    await this.decide(photoPath, tag, 'reject')
  }

  /**
   * A keyword of the user's own, as written (see checkKeyword): the lexicon need not know it.
   * Returns the keyword's spelling, the first one given if it existed already.
   */
  async addTag(photoPath: string, tag: string): Promise<string> {
    return this.decide(photoPath, tag, 'add-tag')
  }

  /**
   * The library's photo at this path (as given or through links), if it is there: its id and its
   * path as the library names it. The JPEG of a RAW+JPEG pair names the pair.
   */
  photoAt(photoPath: string): { id: number; path: string } {
    const photo = this.store.photoByFile(resolve(photoPath)) ?? this.store.photoByFile(safeRealpath(photoPath))
    if (!photo) throw new SdlError(`${photoPath} is not a photo of the library`, 'Add its folder with `sdl-tagger folders add`, then index it.')
    return { id: photo.id, path: photo.path }
  }

  /**
   * One action on one tag for many photos, in one transaction and one step of the tagging
   * history (see TagHistory). Accept and reject take a tag of the vocabulary (or one the photo has
   * a decision on already) for photos the model has embedded; `remove-tag` forgets the decision,
   * it does not reject. A photo that cannot take it is named with the reason; the others go on.
   */
  async changeTag(photoIds: readonly number[], tag: string, action: TagAction): Promise<TagPhotosReport> {
    const word = keywordText(tag)
    const deciding = action === 'accept' || action === 'reject'
    const manifest = deciding ? (await this.loadBase()).manifest : null
    const known = deciding && (await this.vocabulary()).tags.some((t) => keywordKey(t) === keywordKey(word))
    const history = this.parts.history
    const photos = history.photos(photoIds, manifest ? this.store.modelId(manifest) : -1)
    const failed: TagPhotosReport['failed'] = []
    const taking: number[] = []
    for (const id of new Set(photoIds)) {
      const photo = photos.get(id)
      const refusal = !photo
        ? { reason: `No photo ${id} in the library`, hint: 'It may have been deleted or its folder removed; reload the library.' }
        : photo.missing
          ? { reason: `${photo.path} is missing (its file is gone)`, hint: 'Put the file back in a library folder and index, then decide on its tags.' }
          : manifest && !photo.indexed
            ? { reason: `${photo.path} is not indexed with model ${manifest.name}`, hint: 'Run `sdl-tagger index` first.' }
            : deciding && !known && !this.tagStore.photoTag(id, word)
              ? notInVocabulary(tag, word, action)
              : null
      if (refusal) failed.push({ photo: id, path: photo?.path ?? null, ...refusal })
      else taking.push(id)
    }
    const { step, unchanged } = taking.length ? history.apply(action, word, taking, ACTION_STATE[action]) : { step: null, unchanged: [] }
    return { tag: this.tagStore.findKeyword(word)?.text ?? word, step, unchanged, failed, history: history.state() }
  }

  /** Takes back the last tagging action, of this process or another: the history is the library's. */
  async undo(): Promise<TagUndoReport> {
    return this.historyReport(this.parts.history.undo())
  }

  /** Applies again the action undone last, unless another action came since. */
  async redo(): Promise<TagUndoReport> {
    return this.historyReport(this.parts.history.redo())
  }

  /**
   * The photos `tag` is suggested for (among each one's `top` best, as `autotag` lists them),
   * undecided, best first: what a review of one tag goes through.
   */
  async review(tag: string, opts: SuggestOptions & { onProgress?: (p: Progress) => void } = {}): Promise<Array<{ path: string; score: number }>> {
    const word = keywordText(tag)
    const key = keywordKey(word)
    const found: Array<{ path: string; score: number }> = []
    for (const { path, suggestions } of await this.autotag(undefined, opts)) {
      const suggested = suggestions.find((s) => keywordKey(s.tag) === key)
      if (suggested) found.push({ path, score: suggested.score })
    }
    if (!found.length && !(await this.vocabulary()).tags.some((t) => keywordKey(t) === key)) {
      throw new SdlError(`'${tag}' is not in the vocabulary`, `Only its words are suggested; add it with \`sdl-tagger vocab add ${JSON.stringify(word)}\`.`)
    }
    return found.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  /** Suggestions for every indexed photo (of one library folder), from the stored scores. */
  async autotag(folder?: string, opts: SuggestOptions & { onProgress?: (p: Progress) => void } = {}): Promise<AutotagResult[]> {
    return (await this.suggestionsByPhoto(folder, opts)).map(({ path, suggestions }) => ({ path, suggestions }))
  }

  /** As autotag, with each photo's id: what a review by tag ranks. */
  async suggestionsByPhoto(folder?: string, opts: SuggestOptions & { onProgress?: (p: Progress) => void } = {}): Promise<Array<AutotagResult & { photoId: number }>> {
    const base = await this.loadBase()
    const modelId = this.store.modelId(base.manifest)
    const folderId = folder === undefined ? undefined : requireFolder(this.store, folder).id
    await VocabularyScorer.scoreMissing(this.store, modelId, base.vocabulary, () => base.scorer.get(), opts.onProgress)
    const store = this.tagStore
    const decided = store.decidedTags()
    const paths = this.store.photoPaths(folderId)
    const custom = await this.customVocabulary()
    const out: Array<AutotagResult & { photoId: number }> = []
    const undecided = new Set<string>()
    for (const stored of this.store.vocabularyScores(modelId, base.vocabulary.id)) {
      const path = paths.get(stored.photoId)
      if (path === undefined) continue
      out.push({ photoId: stored.photoId, path, suggestions: this.suggest(base, stored.photoId, modelId, stored, custom, decided.get(stored.photoId) ?? undecided, opts) })
    }
    return out
  }

  /**
   * Adds each valid word to the custom vocabulary, as written; a refused one does not stop the
   * others. A word the lexicon does not know is kept too: it is suggested once it has a vector.
   */
  async addWords(words: readonly string[]): Promise<AddWordsResult> {
    const result: AddWordsResult = { added: [], already: [], refused: [] }
    const valid = new Map<string, string>()
    for (const word of words) {
      const checked = checkKeyword(word)
      if (!checked.ok) result.refused.push({ word, reason: checked.reason })
      else if (!valid.has(keywordKey(checked.text))) valid.set(keywordKey(checked.text), checked.text)
    }
    const added = this.tagStore.addCustomWords([...valid.values()])
    const addedKeys = new Set(added.map(keywordKey))
    result.added = added
    result.already = [...valid.values()].filter((w) => !addedKeys.has(keywordKey(w)))
    return result
  }

  async removeWord(word: string): Promise<void> {
    const store = this.tagStore
    if (!store.removeCustomWord(word)) {
      throw new SdlError(`'${word}' is not in the custom vocabulary`, `Custom words: ${store.customWords().join(', ') || 'none'}.`)
    }
  }

  async customWords(): Promise<string[]> {
    return this.tagStore.customWords()
  }

  /** The pack's tags (or the default vocabulary) followed by the custom words it lacks. */
  async vocabulary(): Promise<ActiveVocabulary> {
    const { vocabulary } = await this.loadBase()
    const custom = await this.customVocabulary()
    const vectors = new Float32Array(vocabulary.vectors.length + custom.vectors.length)
    vectors.set(vocabulary.vectors)
    vectors.set(custom.vectors, vocabulary.vectors.length)
    return { tags: [...vocabulary.tags, ...custom.tags], unseen: new Set([...vocabulary.unseen, ...custom.tags]), dim: vocabulary.dim, vectors, custom: new Set(custom.tags) }
  }

  /**
   * The custom words and the user's learned keywords that the base vocabulary lacks, with their
   * vectors: a keyword's learned vector rather than its word's, when it has one.
   */
  private async customVocabulary(): Promise<ExtraVocabulary> {
    const { vocabulary, lexicon, manifest } = await this.loadBase()
    const known = new Set(vocabulary.tags.map(keywordKey))
    const tags: string[] = []
    const vectors: Float32Array[] = []
    const learnedFrom = new Map<string, number>()
    const cutoffs = new Map<string, number>()
    for (const learned of this.parts.learnedKeywords.learned(this.store.modelId(manifest))) {
      if (known.has(learned.key)) continue
      known.add(learned.key)
      tags.push(learned.text)
      vectors.push(learned.vector)
      learnedFrom.set(learned.text, learned.examples)
      if (learned.threshold !== null) cutoffs.set(learned.text, learned.threshold)
    }
    for (const word of this.tagStore.customWords()) {
      if (known.has(keywordKey(word))) continue
      const found = (await lexicon()).lookup(word)
      // A word without a vector (the user's own name, or one whose imported vectors were removed) is not suggested.
      if (!found.ok) continue
      known.add(keywordKey(word))
      tags.push(word)
      vectors.push(found.vector)
    }
    const flat = new Float32Array(tags.length * vocabulary.dim)
    vectors.forEach((v, i) => flat.set(v, i * vocabulary.dim))
    return { tags, unseen: new Set(tags), dim: vocabulary.dim, vectors: flat, learnedFrom, cutoffs }
  }

  /**
   * One photo's suggestions: its stored best tags merged with the custom words' scores. When the
   * stored list runs short (many tags decided, or more asked for than are stored), the photo is
   * scored against the whole vocabulary from its vectors instead.
   */
  private suggest(
    base: Base,
    photoId: number,
    modelId: number,
    stored: TopScores | undefined,
    custom: ExtraVocabulary,
    decided: ReadonlySet<string>,
    opts: SuggestOptions
  ): TagSuggestion[] {
    const { vocabulary, manifest } = base
    const store = this.store
    let vectors: Float32Array | undefined
    const vectorsOf = () => (vectors ??= store.photoVectors(photoId, modelId)!)
    const min = opts.minScore ?? -Infinity
    const wanted = opts.top ?? 10
    const usable = (s: TopScores) => s.tags.filter((t, i) => s.scores[i] >= min && (!decided.size || !decided.has(keywordKey(vocabulary.tags[t])))).length
    const truncated = (s: TopScores) => s.tags.length < vocabulary.tags.length && s.scores[s.scores.length - 1] >= min
    if (!stored || (truncated(stored) && usable(stored) < wanted)) {
      const all = scoreAllTags(vectorsOf(), manifest.rows, vocabulary)
      // Best first, as the stored ones are.
      const order = Uint16Array.from(all.keys()).sort((a, b) => all[b] - all[a] || a - b)
      stored = { tags: order, scores: Float32Array.from(order, (t) => all[t]) }
    }
    const customScores = custom.tags.length ? scoreAllTags(vectorsOf(), manifest.rows, custom) : null
    return merged(vocabulary, stored, custom, customScores, decided, opts)
  }

  /** One photo's tagging action, as a step of its own; what stops it is thrown. */
  /** One photo's tagging action, as a step of its own; what stops it is thrown. Returns the keyword's spelling. */
  private async decide(photoPath: string, tag: string, action: TagAction): Promise<string> {
    // A refused keyword is told before anything about the photo.
    keywordText(tag)
    const { photo } = await this.indexedPhoto(photoPath)
    const report = await this.changeTag([photo.id], tag, action)
    const [refused] = report.failed
    if (refused) throw new SdlError(refused.reason, refused.hint)
    return report.tag
  }

  private historyReport(taken: StepTaken | null): TagUndoReport {
    return { step: taken?.step ?? null, kept: taken?.kept ?? [], history: this.parts.history.state() }
  }

  private async indexedPhoto(photoPath: string) {
    const base = await this.loadBase()
    const modelId = this.store.modelId(base.manifest)
    const photo = this.store.photoByFile(resolve(photoPath), modelId) ?? this.store.photoByFile(safeRealpath(photoPath), modelId)
    if (!photo) throw new SdlError(`${photoPath} is not a photo of the library`, 'Add its folder with `sdl-tagger folders add`, then index it.')
    if (photo.status !== 'ok' || !photo.hasVectors) {
      throw new SdlError(`${photoPath} is not indexed with model ${base.manifest.name}`, 'Run `sdl-tagger index` first.')
    }
    return { photo, modelId }
  }

  private async loadBase(): Promise<Base> {
    const manifest = await this.parts.pack.manifest()
    const current = this.base && (await this.base.catch(() => null))
    if (current && current.manifest.name === manifest.name && current.manifest.modelSha256 === manifest.modelSha256) return current
    // Another model: the old base's sessions are kept until close, as a scoring run may still hold them.
    if (current) this.retired.push(current)
    this.base = (async () => {
      const pack = manifest.vocabulary ? await this.parts.pack.vocabulary(manifest) : null
      const lexicon = new Lazy(() => Lexicon.open({ dataDir: this.parts.pack.dataDir, manifest, vocabulary: pack }))
      const vocabulary = baseVocabulary(manifest, pack, pack ? null : await lexicon.get())
      return {
        manifest,
        lexicon: () => lexicon.get(),
        vocabulary,
        scorer: new Lazy(() => VocabularyScorer.open(vocabulary, manifest.rows)),
        facetScorer: new Lazy(() => VocabularyScorer.open(vocabulary, 1))
      }
    })()
    this.base.catch(() => (this.base = null))
    return this.base
  }
}

/** The state each action leaves a photo's tag in; null: no decision. */
const ACTION_STATE: Record<TagAction, PhotoTagState | null> = { accept: 'accepted', reject: 'rejected', 'add-tag': 'user', 'remove-tag': null }

function notInVocabulary(tag: string, word: string, action: TagAction): { reason: string; hint: string } {
  return {
    reason: `'${tag}' is not in the vocabulary`,
    hint:
      action === 'accept'
        ? `Add it as your own tag instead, or add it to the vocabulary with \`sdl-tagger vocab add ${JSON.stringify(word)}\`.`
        : 'Only suggested tags can be rejected.'
  }
}

/** Frees a base's onnxruntime sessions: those of its scorers that were opened. */
async function release(base: Base | null | undefined): Promise<void> {
  if (!base) return
  const scorers = await Promise.all([base.scorer.opened?.catch(() => null), base.facetScorer.opened?.catch(() => null)])
  await Promise.all(scorers.map((scorer) => scorer?.release()))
}

/** A value opened on first use and then shared; a failed open is tried again on the next use. */
class Lazy<T> {
  private value: Promise<T> | null = null

  constructor(private readonly open: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.value) {
      const value = this.open()
      this.value = value
      value.catch(() => {
        if (this.value === value) this.value = null
      })
    }
    return this.value
  }

  /** The value if it was asked for, else null. */
  get opened(): Promise<T> | null {
    return this.value
  }
}

/**
 * The best undecided tags, highest score first (ties: base vocabulary first, then its order):
 * the stored best of the base vocabulary merged with the custom words' scores. A learned keyword
 * with a cut-off of its own is one only where it reaches it, and is placed as LEARNED_PLACE says.
 */
function merged(
  base: PackVocabulary,
  stored: TopScores,
  custom: ExtraVocabulary,
  customScores: Float32Array | null,
  decided: ReadonlySet<string>,
  opts: SuggestOptions
): TagSuggestion[] {
  const top = opts.top ?? 10
  const min = opts.minScore ?? -Infinity
  const undecided = (tag: string) => !decided.size || !decided.has(keywordKey(tag))
  const candidates: Array<TagSuggestion & { order: number; rank: number }> = []
  // Stored tags come best first: past the `top`-th one kept (and its ties) none can make the cut.
  // Reviewing a tag reads every photo's suggestions, so this loop runs for each of them.
  for (let i = 0; i < stored.tags.length; i++) {
    const score = stored.scores[i]
    if (score < min || (candidates.length >= top && score < candidates[candidates.length - 1].score)) break
    const t = stored.tags[i]
    if (undecided(base.tags[t])) candidates.push({ tag: base.tags[t], score, unseen: base.unseen.has(base.tags[t]), order: t, rank: score })
  }
  const place = stored.scores.length ? stored.scores[Math.min(LEARNED_PLACE, stored.scores.length) - 1] : 0
  customScores?.forEach((score, i) => {
    const tag = custom.tags[i]
    if (score < min || !undecided(tag)) return
    const learnedFrom = custom.learnedFrom.get(tag)
    const cutoff = custom.cutoffs.get(tag)
    // Ties with the N-th word go to the keyword (order -1): reaching its cut-off, it applies.
    if (cutoff !== undefined && score >= cutoff) candidates.push({ tag, score, unseen: true, order: -1, rank: place + score - cutoff, learnedFrom })
    else if (cutoff === undefined) candidates.push({ tag, score, unseen: true, order: base.tags.length + i, rank: score, learnedFrom })
  })
  return candidates
    .sort((a, b) => b.rank - a.rank || a.order - b.order)
    .slice(0, top)
    .map(({ tag, score, unseen, learnedFrom }) => (learnedFrom === undefined ? { tag, score, unseen } : { tag, score, unseen, learnedFrom }))
}
