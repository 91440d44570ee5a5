import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { decodePrincipalVectors } from '../library/float16'
import { safeRealpath } from '../library/library'
import { Lexicon } from '../lexicon/lexicon'
import { normalizeText } from '../lexicon/words'
import type { PackManifest, PackVocabulary } from '../models/packManifest'
import { DEFAULT_VOCABULARY } from '../search/defaultVocabulary'
import { scoreAllTags } from './scoreTags'
import { type PhotoTagState, TagStore } from './tagStore'

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
  lexicon: Lexicon
  tags: string[]
  unseen: Set<string>
  vectors: Float32Array
}

/** Photos scored together in one onnxruntime run by `autotag`. */
const CHUNK = 1024

/**
 * Tags suggested from a photo's stored principal vectors (SDL's score, max_k <A_k, w>, over the
 * pack's tags or DEFAULT_VOCABULARY, plus the user's custom words), which the user accepts or
 * rejects; a rejected tag is never suggested for that photo again. Never runs the image model.
 */
export class AutoTagger {
  private base: Promise<Base> | null = null

  constructor(private readonly engine: Engine) {}

  async suggestions(photoPath: string, opts: SuggestOptions = {}): Promise<TagSuggestion[]> {
    const { photo, modelId } = await this.indexedPhoto(photoPath)
    const vocab = await this.vocabulary()
    const store = await this.tagStore()
    const row = store.db.prepare('SELECT vectors FROM principal_vectors WHERE photo_id = ? AND model_id = ?').get(photo.id, modelId) as { vectors: Buffer }
    const scores = scoreAllTags(decodePrincipalVectors(row.vectors), (await this.loadBase()).manifest.rows, vocab)
    const decided = new Set(store.photoTags(photo.id).map((t) => t.tag))
    return pickTop(scores, vocab, decided, opts)
  }

  async tags(photoPath: string, opts: SuggestOptions = {}): Promise<PhotoTags> {
    const { photo } = await this.indexedPhoto(photoPath)
    const byState = (state: PhotoTagState) => (store: TagStore) => store.photoTags(photo.id).filter((t) => t.state === state).map((t) => t.tag)
    const store = await this.tagStore()
    return {
      accepted: byState('accepted')(store),
      user: byState('user')(store),
      rejected: byState('rejected')(store),
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

  /** A tag of the user's own: any word or phrase the lexicon knows. */
  async addTag(photoPath: string, tag: string): Promise<string> {
    const { photo } = await this.indexedPhoto(photoPath)
    const word = normalizeText(tag)
    this.checkKnown((await this.loadBase()).lexicon, word)
    ;(await this.tagStore()).setPhotoTag(photo.id, word, 'user')
    return word
  }

  /** Suggestions for every indexed photo (of one library folder), scored in batches. */
  async autotag(folder?: string, opts: SuggestOptions = {}): Promise<AutotagResult[]> {
    const library = await this.engine.library()
    const base = await this.loadBase()
    const modelId = library.store.modelId(base.manifest)
    let folderId: number | undefined
    if (folder !== undefined) {
      const row = library.store.folder(resolve(folder)) ?? library.store.folder(safeRealpath(folder))
      if (!row) throw new SdlError(`${folder} is not a library folder`, 'Add it first with `sdl-tagger folders add`.')
      folderId = row.id
    }
    const vocab = await this.vocabulary()
    const store = await this.tagStore()
    const decided = store.decidedTags()
    const { dim, rows } = base.manifest
    const tagCount = vocab.tags.length
    // [D, T]: the vocabulary transposed for one MatMul per chunk.
    const vocabT = new Float32Array(dim * tagCount)
    for (let t = 0; t < tagCount; t++) for (let d = 0; d < dim; d++) vocabT[d * tagCount + t] = vocab.vectors[t * dim + d]
    const scorer = tagCount ? await batchScorer(dim, rows) : null
    const out: AutotagResult[] = []
    let chunk: Array<{ id: number; path: string; vectors: Buffer }> = []
    const flush = async () => {
      if (!chunk.length) return
      const values = new Float32Array(chunk.length * dim * rows)
      chunk.forEach((p, i) => values.set(decodePrincipalVectors(p.vectors), i * dim * rows))
      const scores = scorer ? await scorer(values, chunk.length, vocabT, tagCount) : new Float32Array(0)
      chunk.forEach((p, i) => {
        const own = scores.subarray(i * tagCount, (i + 1) * tagCount)
        out.push({ path: p.path, suggestions: pickTop(own, vocab, decided.get(p.id) ?? new Set(), opts) })
      })
      chunk = []
    }
    for (const photo of store.embeddedPhotos(modelId, folderId)) {
      chunk.push(photo)
      if (chunk.length >= CHUNK) await flush()
    }
    await flush()
    return out
  }

  /** Adds custom vocabulary words; if any is unknown to the lexicon, none is added. */
  async addWords(words: readonly string[]): Promise<string[]> {
    const { lexicon } = await this.loadBase()
    const normalized = words.map(normalizeText).filter((w) => w.length > 0)
    if (!normalized.length) throw new SdlError('No words to add')
    for (const w of normalized) this.checkKnown(lexicon, w)
    return (await this.tagStore()).addCustomWords([...new Set(normalized)])
  }

  async removeWord(word: string): Promise<void> {
    const store = await this.tagStore()
    if (!store.removeCustomWord(normalizeText(word))) {
      throw new SdlError(`'${word}' is not in the custom vocabulary`, `Custom words: ${store.customWords().join(', ') || 'none'}.`)
    }
  }

  async customWords(): Promise<string[]> {
    return (await this.tagStore()).customWords()
  }

  /** The pack's tags (or the default vocabulary) followed by the custom words it lacks. */
  async vocabulary(): Promise<ActiveVocabulary> {
    const base = await this.loadBase()
    const dim = base.manifest.dim
    const known = new Set(base.tags)
    const extra: Array<{ word: string; vector: Float32Array }> = []
    for (const word of (await this.tagStore()).customWords()) {
      if (known.has(word)) continue
      const found = base.lexicon.lookup(word)
      // A word the lexicon has since lost (its imported vectors removed) is passed over.
      if (!found.ok) continue
      known.add(word)
      extra.push({ word, vector: found.vector })
    }
    const vectors = new Float32Array((base.tags.length + extra.length) * dim)
    vectors.set(base.vectors)
    extra.forEach((e, i) => vectors.set(e.vector, (base.tags.length + i) * dim))
    const custom = new Set(extra.map((e) => e.word))
    return { tags: [...base.tags, ...custom], unseen: new Set([...base.unseen, ...custom]), dim, vectors, custom }
  }

  private async decide(photoPath: string, tag: string, state: PhotoTagState): Promise<void> {
    const { photo } = await this.indexedPhoto(photoPath)
    const word = normalizeText(tag)
    const store = await this.tagStore()
    const already = store.photoTags(photo.id).some((t) => t.tag === word)
    if (!already && !(await this.vocabulary()).tags.includes(word)) {
      throw new SdlError(
        `'${tag}' is not in the vocabulary`,
        state === 'accepted' ? `Add it as your own tag instead, or add it to the vocabulary with \`sdl-tagger vocab add ${word}\`.` : 'Only suggested tags can be rejected.'
      )
    }
    store.setPhotoTag(photo.id, word, state)
  }

  private checkKnown(lexicon: Lexicon, word: string): void {
    const found = lexicon.lookup(word)
    if (!found.ok) {
      throw new SdlError(
        `Unknown word '${found.text}'${found.text === word ? '' : ` in '${word}'`}`,
        found.suggestions.length ? `Did you mean: ${found.suggestions.join(', ')}?` : 'Try another word.'
      )
    }
  }

  private async indexedPhoto(photoPath: string) {
    const library = await this.engine.library()
    const base = await this.loadBase()
    const modelId = library.store.modelId(base.manifest)
    const photo = library.store.photoByPath(resolve(photoPath), modelId) ?? library.store.photoByPath(safeRealpath(photoPath), modelId)
    if (!photo) throw new SdlError(`${photoPath} is not a photo of the library`, 'Add its folder with `sdl-tagger folders add`, then index it.')
    if (photo.status !== 'ok' || !photo.hasVectors) {
      throw new SdlError(`${photoPath} is not indexed with model ${base.manifest.name}`, 'Run `sdl-tagger index` first.')
    }
    return { photo, modelId }
  }

  private async tagStore(): Promise<TagStore> {
    return new TagStore((await this.engine.library()).store.db)
  }

  private async loadBase(): Promise<Base> {
    const manifest = await this.engine.manifest()
    const current = this.base && (await this.base.catch(() => null))
    if (current && current.manifest.name === manifest.name && current.manifest.modelSha256 === manifest.modelSha256) return current
    this.base = (async () => {
      const pack = manifest.vocabulary ? await this.engine.packs.loadVocabulary(manifest) : null
      const lexicon = await Lexicon.open({ dataDir: this.engine.dataDir, manifest, vocabulary: pack })
      if (pack) return { manifest, lexicon, tags: pack.tags, unseen: pack.unseen, vectors: pack.vectors }
      const tags: string[] = []
      const vectors = new Float32Array(DEFAULT_VOCABULARY.length * manifest.dim)
      for (const word of DEFAULT_VOCABULARY) {
        const found = lexicon.lookup(word)
        if (!found.ok) continue
        vectors.set(found.vector, tags.length * manifest.dim)
        tags.push(word)
      }
      return { manifest, lexicon, tags, unseen: new Set<string>(), vectors: vectors.slice(0, tags.length * manifest.dim) }
    })()
    this.base.catch(() => (this.base = null))
    return this.base
  }
}

/** The best undecided tags, highest score first (ties by vocabulary order). */
function pickTop(scores: Float32Array, vocab: PackVocabulary, decided: ReadonlySet<string>, opts: SuggestOptions): TagSuggestion[] {
  const top = opts.top ?? 10
  const min = opts.minScore ?? -Infinity
  const order: number[] = []
  for (let t = 0; t < scores.length; t++) if (scores[t] >= min && !decided.has(vocab.tags[t])) order.push(t)
  order.sort((a, b) => scores[b] - scores[a] || a - b)
  return order.slice(0, top).map((t) => ({ tag: vocab.tags[t], score: scores[t], unseen: vocab.unseen.has(vocab.tags[t]) }))
}

type BatchScorer = (values: Float32Array, photos: number, vocabT: Float32Array, tags: number) => Promise<Float32Array>

const scorers = new Map<string, Promise<BatchScorer>>()

/**
 * Scores a chunk of photos against the whole vocabulary in one float32 onnxruntime run:
 * Transpose([P, D, K] -> [P, K, D]), MatMul with [D, T], ReduceMax over K -> [P, T].
 */
function batchScorer(dim: number, rows: number): Promise<BatchScorer> {
  const key = `${dim}x${rows}`
  let scorer = scorers.get(key)
  if (!scorer) {
    scorer = (async () => {
      const ort = await import('onnxruntime-node')
      const { OnnxGraphBuilder, attr, encodeOnnxModel } = await import('../onnx/onnxModel')
      const g = new OnnxGraphBuilder()
      const kd = g.node('Transpose', ['vectors'], 'score', [attr.ints('perm', [0, 2, 1])])
      const dots = g.node('MatMul', [kd, 'vocabulary'], 'score')
      g.node('ReduceMax', [dots], 'score', [attr.ints('axes', [1]), attr.int('keepdims', 0)], 'scores')
      const model = encodeOnnxModel({
        irVersion: 8,
        opsetVersion: 17,
        producerName: 'sdl-tagger',
        metadata: {},
        graph: {
          name: 'vocabulary-scores',
          nodes: g.nodes,
          initializers: g.initializers,
          inputs: [
            { name: 'vectors', elemType: 'float32', shape: ['P', dim, rows] },
            { name: 'vocabulary', elemType: 'float32', shape: [dim, 'T'] }
          ],
          outputs: [{ name: 'scores', elemType: 'float32', shape: ['P', 'T'] }]
        }
      })
      const session = await ort.InferenceSession.create(model, { intraOpNumThreads: availableParallelism(), logSeverityLevel: 3 })
      return async (values, photos, vocabT, tags) => {
        const result = await session.run({
          vectors: new ort.Tensor('float32', values, [photos, dim, rows]),
          vocabulary: new ort.Tensor('float32', vocabT, [dim, tags])
        })
        return result.scores.data as Float32Array
      }
    })()
    scorer.catch(() => scorers.delete(key))
    scorers.set(key, scorer)
  }
  return scorer
}
