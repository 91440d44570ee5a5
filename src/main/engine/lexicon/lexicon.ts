import type { Progress } from '../download/progress'
import { SdlError } from '../errors'
import type { PackManifest, PackVocabulary } from '../models/packManifest'
import { sharedAnchors } from './anchors'
import { GLOVE_WORD_SPACE, loadGloveVectors } from './gloveVectors'
import { loadOnce } from './loadedVectors'
import { fitKernelRidge, KERNEL_RIDGE_SETTINGS, normalized, type Projection } from './projection'
import { DamagedVectorFileError, readVectorFile, vectorFilePath } from './vectorFile'
import { editDistance, normalizeText, singularForms, splitWords } from './words'
import type { WordVectors } from './wordVectors'

export type LexiconSource = 'pack' | 'glove' | 'projected' | 'imported'

export type LexiconLookup =
  | {
      ok: true
      /** What was looked up after folding: 'dog' for 'Dogs' when only 'dog' is known. */
      text: string
      /** Unit length, in the pack's word space. */
      vector: Float32Array
      /** Where the vector came from; for a phrase, the least exact source among its words. */
      source: LexiconSource
      /** False for projected vectors, which only approximate the pack's word space. */
      exact: boolean
    }
  | { ok: false; text: string; reason: 'unknown word'; suggestions: string[] }

type Found = Extract<LexiconLookup, { ok: true }>

/** A place to find word vectors in the pack's space; the lexicon asks them in order. */
interface Tier {
  source: LexiconSource
  has(word: string): boolean
  vector(word: string): Float32Array | undefined
}

/** Suggestions and completions come from this many of the most frequent GloVe words (and the pack's tags). */
const FREQUENT_WORDS = 50_000
const MAX_SPELLING_DISTANCE = 2
/** Completions of dictionary words come from the most frequent of them only: further down are mostly names and rare words. */
const COMPLETION_WORDS = 20_000
/** Below this many anchors a learnt projection is little more than the mean of the tag vectors. */
const MIN_ANCHORS = 50

/**
 * Any English word or phrase as a vector in a pack's word space, for free-text search. In order:
 * the pack's own tag vectors; vectors imported for the word space (importVectors.ts); GloVe itself
 * when that is the pack's space; otherwise GloVe projected into the pack's space, learnt from the
 * tags both know (projection.ts). Nothing is loaded until `open`, so commands that do not search
 * pay nothing; the word-vector tables are then shared by every Lexicon in the process.
 */
export class Lexicon {
  private frequent: Array<{ word: string; rank: number }> | null = null

  private constructor(
    private readonly tiers: Tier[],
    private readonly glove: WordVectors,
    /** The pack's tags, normalized, with their row in the vocabulary. */
    private readonly tagRows: Map<string, number>,
    private readonly packTier: Tier | null
  ) {}

  static async open(opts: { dataDir: string; manifest: PackManifest; vocabulary: PackVocabulary | null; onProgress?: (p: Progress) => void }): Promise<Lexicon> {
    const { manifest, vocabulary } = opts
    if (vocabulary && vocabulary.dim !== manifest.dim) {
      throw new SdlError(`Model pack '${manifest.name}' is damaged: ${manifest.dim}-d but its tag vectors are ${vocabulary.dim}-d`, 'Remove it and import or install it again.')
    }
    const glove = await loadGloveVectors(opts.dataDir, { onProgress: opts.onProgress })
    const tagRows = new Map<string, number>()
    vocabulary?.tags.forEach((tag, row) => {
      const key = normalizeText(tag)
      if (!tagRows.has(key)) tagRows.set(key, row)
    })
    const packTier = vocabulary ? tagTier(tagRows, vocabulary.vectors, vocabulary.dim) : null
    const tiers: Tier[] = packTier ? [packTier] : []

    if (manifest.wordSpace === GLOVE_WORD_SPACE) {
      if (manifest.dim !== glove.dim) {
        throw new SdlError(
          `Model pack '${manifest.name}' declares word space ${GLOVE_WORD_SPACE} but is ${manifest.dim}-d, not ${glove.dim}-d`,
          'Check the pack: its word space or dimension is wrong.'
        )
      }
      tiers.push(wordVectorsTier('glove', glove))
    } else {
      const imported = await loadImported(opts.dataDir, manifest)
      if (imported) tiers.push(wordVectorsTier('imported', imported))
      const anchors = vocabulary ? sharedAnchors(vocabulary, glove) : null
      if (anchors && anchors.count >= MIN_ANCHORS) tiers.push(projectedTier(glove, () => fitKernelRidge(anchors, KERNEL_RIDGE_SETTINGS)))
    }
    if (tiers.length === 0) {
      throw new SdlError(
        `There are no word vectors for model pack '${manifest.name}' (word space ${manifest.wordSpace})`,
        `Import word vectors for ${manifest.wordSpace} (a fastText .vec or word2vec text file of ${manifest.dim}-d vectors).`
      )
    }
    return new Lexicon(tiers, glove, tagRows, packTier)
  }

  /** A word, a phrase (the mean of its words' unit vectors, renormalised) or a tag of the pack. */
  lookup(text: string): LexiconLookup {
    const query = normalizeText(text)
    // Whole first, for tags of several words.
    const tag = this.packTier && this.findIn(this.packTier, query)
    if (tag) return tag
    const words = splitWords(query)
    const found: Found[] = []
    for (const word of words) {
      const hit = this.findWord(word)
      // GloVe has no single letters ('a', 'x'), so inside a phrase an unknown one is passed over.
      if (!hit && word.length === 1 && words.length > 1) continue
      if (!hit) return unknown(word, () => this.suggest(word))
      found.push(hit)
    }
    if (found.length === 0) return { ok: false, text: query, reason: 'unknown word', suggestions: [] }
    return combine(found)
  }

  /** Known words within a small edit distance of `text`: the closest first, then the most frequent. */
  suggest(text: string, limit = 5): string[] {
    const query = normalizeText(text)
    if (!query) return []
    const scored: Array<{ word: string; distance: number; rank: number }> = []
    for (const { word, rank } of this.frequentWords()) {
      if (word === query) continue
      const distance = editDistance(query, word, MAX_SPELLING_DISTANCE)
      if (distance <= MAX_SPELLING_DISTANCE) scored.push({ word, distance, rank })
    }
    return scored
      .sort((a, b) => a.distance - b.distance || a.rank - b.rank)
      .slice(0, limit)
      .map((s) => s.word)
  }

  /**
   * Completions of the last word of `prefix`, for autocompletion: the words of `vocabulary` (the
   * model's tags, or the default vocabulary of a pack without any) and the pack's tags first (a
   * tag of several words also matches the whole prefix), then the COMPLETION_WORDS most frequent
   * words, each most frequent first: 'dog' completes to 'dogs' and 'dogged', not 'dogg' or 'dogma'.
   */
  complete(prefix: string, limit = 10, vocabulary: readonly string[] = []): string[] {
    const query = normalizeText(prefix)
    if (!query) return []
    const space = query.lastIndexOf(' ')
    const head = space < 0 ? '' : query.slice(0, space + 1)
    const last = query.slice(space + 1)
    const preferred = vocabulary
      .map((word) => ({ word: normalizeText(word), rank: this.glove.index(normalizeText(word)) ?? Number.MAX_SAFE_INTEGER }))
      .sort((a, b) => a.rank - b.rank)
    const out = new Set<string>()
    for (const list of [preferred, this.frequentWords()]) {
      for (const { word, rank } of list) {
        if (out.size >= limit) break
        if (list !== preferred && rank >= COMPLETION_WORDS && !this.tagRows.has(word)) continue
        if (word.startsWith(query)) out.add(word)
        else if (head && word.startsWith(last) && !word.includes(' ')) out.add(head + word)
      }
    }
    return [...out]
  }

  private findWord(word: string): Found | undefined {
    for (const form of [word, ...singularForms(word)]) {
      for (const tier of this.tiers) {
        const hit = this.findIn(tier, form)
        if (hit) return hit
      }
    }
    // Vocabularies hold many hyphenated words whole, but not all: 'sun-lit' is 'sun' + 'lit'.
    const parts = word.split('-').filter((p) => p.length > 0)
    if (parts.length < 2) return undefined
    const hits = parts.map((p) => this.findWord(p))
    return hits.every((h) => h !== undefined) ? combine(hits as Found[]) : undefined
  }

  private findIn(tier: Tier, word: string): Found | undefined {
    const vector = tier.vector(word)
    // A copy: tiers hand out views into tables shared by the whole process.
    return vector && { ok: true, text: word, vector: Float32Array.from(vector), source: tier.source, exact: tier.source !== 'projected' }
  }

  /**
   * Candidates for suggestions and completions, most frequent first: the pack's tags, then the
   * frequent GloVe words that some tier can give a vector for (punctuation and numbers left out).
   * Built on first use.
   */
  private frequentWords(): Array<{ word: string; rank: number }> {
    if (!this.frequent) {
      const tags = [...this.tagRows.keys()].map((word) => ({ word, rank: this.glove.index(word) ?? Number.MAX_SAFE_INTEGER })).sort((a, b) => a.rank - b.rank)
      const seen = new Set(this.tagRows.keys())
      const words: Array<{ word: string; rank: number }> = []
      for (let rank = 0; rank < Math.min(FREQUENT_WORDS, this.glove.size); rank++) {
        const word = this.glove.word(rank)
        if (!seen.has(word) && /\p{L}/u.test(word) && this.tiers.some((t) => t.has(word))) words.push({ word, rank })
      }
      this.frequent = [...tags, ...words]
    }
    return this.frequent
  }
}

/**
 * An unknown word, whose suggestions are looked for only when read: they compare the word with
 * tens of thousands of others, which callers that only ask whether a word is known (the default
 * vocabulary, as a search opens) should not pay for.
 */
function unknown(text: string, suggest: () => string[]): LexiconLookup {
  let suggestions: string[] | undefined
  return {
    ok: false,
    text,
    reason: 'unknown word',
    get suggestions() {
      return (suggestions ??= suggest())
    }
  }
}

/** Mean of unit vectors, renormalised; a phrase is only as exact as its least exact word. */
function combine(hits: Found[]): Found {
  if (hits.length === 1) return hits[0]
  const vector = new Float32Array(hits[0].vector.length)
  for (const hit of hits) for (let d = 0; d < vector.length; d++) vector[d] += hit.vector[d]
  const order: LexiconSource[] = ['pack', 'imported', 'glove', 'projected']
  const source = hits.map((h) => h.source).reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a))
  return { ok: true, text: hits.map((h) => h.text).join(' '), vector: normalized(vector), source, exact: hits.every((h) => h.exact) }
}

function tagTier(rows: Map<string, number>, vectors: Float32Array, dim: number): Tier {
  return {
    source: 'pack',
    has: (word) => rows.has(word),
    vector(word) {
      const row = rows.get(word)
      return row === undefined ? undefined : vectors.subarray(row * dim, (row + 1) * dim)
    }
  }
}

function wordVectorsTier(source: LexiconSource, table: WordVectors): Tier {
  return {
    source,
    has: (word) => table.index(word) !== undefined,
    vector(word) {
      const i = table.index(word)
      return i === undefined ? undefined : table.vector(i)
    }
  }
}

/** Fitted on the first word projected: a search for the pack's own tags needs no projection. */
function projectedTier(glove: WordVectors, fit: () => Projection): Tier {
  let projection: Projection | undefined
  return {
    source: 'projected',
    has: (word) => glove.index(word) !== undefined,
    vector(word) {
      const i = glove.index(word)
      return i === undefined ? undefined : (projection ??= fit()).project(glove.vector(i), word)
    }
  }
}

/** Vectors imported for the pack's word space, or null if there are none. */
async function loadImported(dataDir: string, manifest: PackManifest): Promise<WordVectors | null> {
  let path: string
  try {
    path = vectorFilePath(dataDir, manifest.wordSpace)
  } catch {
    return null // a word-space name that cannot be a file name cannot have been imported
  }
  const vectors = await loadOnce(path, async () => {
    try {
      return (await readVectorFile(path, { damaged: (message) => new SdlError(message, `Import the word vectors for ${manifest.wordSpace} again.`) })).vectors
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      if (err instanceof DamagedVectorFileError) throw new SdlError(err.message, `Import the word vectors for ${manifest.wordSpace} again.`)
      throw err
    }
  })
  if (vectors && vectors.dim !== manifest.dim) {
    throw new SdlError(
      `The word vectors imported for ${manifest.wordSpace} (${path}) are ${vectors.dim}-dimensional, but model pack '${manifest.name}' uses ${manifest.dim} dimensions`,
      `Import ${manifest.dim}-dimensional vectors for ${manifest.wordSpace}.`
    )
  }
  return vectors
}
