import { resolve } from 'node:path'
import type { Progress } from '../download/progress'
import { SdlError } from '../errors'
import { requireFolder, safeRealpath } from '../library/folderPaths'
import type { LibraryStore } from '../library/libraryStore'
import type { ActivePack } from '../models/activePack'
import { Lexicon } from '../lexicon/lexicon'
import type { PackManifest, PackVocabulary } from '../models/packManifest'
import { checkKeyword, keywordKey, keywordText } from './keywordText'
import { principalVector, scoreAllTags } from './scoreTags'
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
}

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

  constructor(private readonly parts: { photos: LibraryStore; tags: TagStore; pack: ActivePack }) {
    this.store = parts.photos
    this.tagStore = parts.tags
  }

  async suggestions(photoPath: string, opts: SuggestOptions = {}): Promise<TagSuggestion[]> {
    const { photo, modelId } = await this.indexedPhoto(photoPath)
    const [stored] = this.store.vocabularyScores(modelId, (await this.loadBase()).vocabulary.id, photo.id)
    const decided = new Set(this.tagStore.photoTags(photo.id).map((t) => keywordKey(t.tag)))
    return this.suggest(photo.id, modelId, stored, await this.customVocabulary(), decided, opts)
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
    await this.decide(photoPath, tag, 'accepted')
  }

  /** Rejects a tag: it is never suggested for this photo again. */
  async reject(photoPath: string, tag: string): Promise<void> {
    await this.decide(photoPath, tag, 'rejected')
  }

  /**
   * A keyword of the user's own, as written (see checkKeyword): the lexicon need not know it.
   * Returns the keyword's spelling, the first one given if it existed already.
   */
  async addTag(photoPath: string, tag: string): Promise<string> {
    const text = keywordText(tag)
    const { photo } = await this.indexedPhoto(photoPath)
    return this.tagStore.setPhotoTag(photo.id, text, 'user')
  }

  /** Suggestions for every indexed photo (of one library folder), from the stored scores. */
  async autotag(folder?: string, opts: SuggestOptions & { onProgress?: (p: Progress) => void } = {}): Promise<AutotagResult[]> {
    const base = await this.loadBase()
    const modelId = this.store.modelId(base.manifest)
    const folderId = folder === undefined ? undefined : requireFolder(this.store, folder).id
    await VocabularyScorer.scoreMissing(this.store, modelId, base.vocabulary, () => base.scorer.get(), opts.onProgress)
    const store = this.tagStore
    const decided = store.decidedTags()
    const paths = this.store.photoPaths(folderId)
    const custom = await this.customVocabulary()
    const out: AutotagResult[] = []
    for (const stored of this.store.vocabularyScores(modelId, base.vocabulary.id)) {
      const path = paths.get(stored.photoId)
      if (path === undefined) continue
      out.push({ path, suggestions: await this.suggest(stored.photoId, modelId, stored, custom, decided.get(stored.photoId) ?? new Set(), opts) })
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

  /** The custom words the base vocabulary lacks, with their vectors. */
  private async customVocabulary(): Promise<PackVocabulary> {
    const { vocabulary, lexicon } = await this.loadBase()
    const known = new Set(vocabulary.tags.map(keywordKey))
    const tags: string[] = []
    const vectors: Float32Array[] = []
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
    return { tags, unseen: new Set(tags), dim: vocabulary.dim, vectors: flat }
  }

  /**
   * One photo's suggestions: its stored best tags merged with the custom words' scores. When the
   * stored list runs short (many tags decided, or more asked for than are stored), the photo is
   * scored against the whole vocabulary from its vectors instead.
   */
  private async suggest(
    photoId: number,
    modelId: number,
    stored: TopScores | undefined,
    custom: PackVocabulary,
    decided: ReadonlySet<string>,
    opts: SuggestOptions
  ): Promise<TagSuggestion[]> {
    const { vocabulary, manifest } = await this.loadBase()
    const store = this.store
    let vectors: Float32Array | undefined
    const vectorsOf = () => (vectors ??= store.photoVectors(photoId, modelId)!)
    const min = opts.minScore ?? -Infinity
    const wanted = opts.top ?? 10
    const usable = (s: TopScores) => s.tags.filter((t, i) => s.scores[i] >= min && !decided.has(keywordKey(vocabulary.tags[t]))).length
    const truncated = (s: TopScores) => s.tags.length < vocabulary.tags.length && s.scores[s.scores.length - 1] >= min
    if (!stored || (truncated(stored) && usable(stored) < wanted)) {
      const all = scoreAllTags(vectorsOf(), manifest.rows, vocabulary)
      stored = { tags: Uint16Array.from(all.keys()), scores: all }
    }
    const customScores = custom.tags.length ? scoreAllTags(vectorsOf(), manifest.rows, custom) : null
    return merged(vocabulary, stored, custom, customScores, decided, opts)
  }

  private async decide(photoPath: string, tag: string, state: PhotoTagState): Promise<void> {
    const word = keywordText(tag)
    const { photo } = await this.indexedPhoto(photoPath)
    const key = keywordKey(word)
    const store = this.tagStore
    const already = store.photoTags(photo.id).some((t) => keywordKey(t.tag) === key)
    if (!already && !(await this.vocabulary()).tags.some((t) => keywordKey(t) === key)) {
      throw new SdlError(
        `'${tag}' is not in the vocabulary`,
        state === 'accepted'
          ? `Add it as your own tag instead, or add it to the vocabulary with \`sdl-tagger vocab add ${JSON.stringify(word)}\`.`
          : 'Only suggested tags can be rejected.'
      )
    }
    store.setPhotoTag(photo.id, word, state)
  }

  private async indexedPhoto(photoPath: string) {
    const base = await this.loadBase()
    const modelId = this.store.modelId(base.manifest)
    const photo = this.store.photoByPath(resolve(photoPath), modelId) ?? this.store.photoByPath(safeRealpath(photoPath), modelId)
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
 * the stored best of the base vocabulary merged with the custom words' scores.
 */
function merged(
  base: PackVocabulary,
  stored: TopScores,
  custom: PackVocabulary,
  customScores: Float32Array | null,
  decided: ReadonlySet<string>,
  opts: SuggestOptions
): TagSuggestion[] {
  const top = opts.top ?? 10
  const min = opts.minScore ?? -Infinity
  const candidates: Array<TagSuggestion & { order: number }> = []
  stored.tags.forEach((t, i) => candidates.push({ tag: base.tags[t], score: stored.scores[i], unseen: base.unseen.has(base.tags[t]), order: t }))
  customScores?.forEach((score, i) => candidates.push({ tag: custom.tags[i], score, unseen: true, order: base.tags.length + i }))
  return candidates
    .filter((c) => c.score >= min && !decided.has(keywordKey(c.tag)))
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, top)
    .map(({ tag, score, unseen }) => ({ tag, score, unseen }))
}
