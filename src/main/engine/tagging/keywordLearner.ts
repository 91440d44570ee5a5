import { createHash } from 'node:crypto'
import type { Lexicon } from '../lexicon/lexicon'
import type { LibraryStore } from '../library/libraryStore'
import type { PackManifest } from '../models/packManifest'
import { KEYWORD_LEARNING, KEYWORD_QUALITY, keywordQuality, learnKeywordVector } from './keywordLearning'
import type { KeywordExampleSet, LearnedKeywordStore } from './learnedKeywordStore'

/** Keywords carried by fewer photos are not learned: two examples cannot say what they share. */
export const MIN_LEARNING_EXAMPLES = 3

/** Other photos read as negatives per keyword: what learnKeywordVector reads at most. */
const OTHER_PHOTOS = KEYWORD_LEARNING.poolSize

/** Background learning waits this long after the last change, so that a run of decisions is learned once. */
const QUIET_MS = 500

export interface KeywordLearnerParts {
  photos: Pick<LibraryStore, 'modelId' | 'photosVectors'>
  learned: LearnedKeywordStore
  manifest: () => Promise<PackManifest>
  /** The active model's lexicon: a keyword that is also a known word starts from, and stays near, its vector. */
  lexicon: () => Promise<Pick<Lexicon, 'lookup'>>
}

/** What learning did since it was last asked. */
export interface LearningReport {
  /** Keywords learned, as spelled. */
  learned: string[]
  /** Keywords that could not be learned, with the reason; the others were learned all the same. */
  failed: Array<{ keyword: string; error: string }>
}

/**
 * Keeps a word vector learned (keywordLearning.ts) for every keyword that at least
 * MIN_LEARNING_EXAMPLES photos carry, for the active model: its photos are the positives, the
 * photos it was rejected for and a spread of the others the negatives. Only keywords whose photos
 * changed since they were learned are learned again, one at a time in the background, yielding
 * to the event loop between keywords, so that tagging and search never wait for it.
 */
export class KeywordLearner {
  /** Keys of keywords whose examples may have changed; 'all': check every keyword. */
  private pending: Set<string> | 'all' | null = null
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  /** Since idle() last answered, by keyword (so that it stays as small as the keywords are few): learned, or why not. */
  private learned = new Set<string>()
  private failed = new Map<string, string>()
  /** Why the last run could not learn anything (no model, say), for the next caller of idle(). */
  private runError: unknown = null
  private closed = false

  constructor(private readonly parts: KeywordLearnerParts) {}

  /** Queues keywords (by key) to be checked and, where their photos changed, learned after a quiet moment. */
  schedule(keys: readonly string[] | 'all'): void {
    if (this.closed) return
    if (keys === 'all' || this.pending === 'all') this.pending = 'all'
    else this.pending = new Set([...(this.pending ?? []), ...keys])
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => this.start(), QUIET_MS)
    this.timer.unref()
  }

  /**
   * Learns what is queued now, without the quiet moment, and settles once nothing is left to
   * learn: with what was learned and what failed since the last call. Throws why a run could not
   * learn at all (no model installed, say).
   */
  async idle(): Promise<LearningReport> {
    this.start()
    while (this.running) await this.running
    const report = { learned: [...this.learned], failed: Array.from(this.failed, ([keyword, error]) => ({ keyword, error })) }
    const runError = this.runError
    this.learned.clear()
    this.failed.clear()
    this.runError = null
    if (runError) throw runError
    return report
  }

  /** Every keyword whose photos changed since it was learned, learned now: for a command that answers with learned vectors. */
  learnStale(): Promise<LearningReport> {
    this.schedule('all')
    return this.idle()
  }

  /** Stops after the keyword being learned. */
  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.running || !this.pending || this.closed) return
    this.running = this.drain().finally(() => (this.running = null))
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.closed) {
      const keys = this.pending
      this.pending = null
      try {
        await this.learn(keys)
      } catch (err) {
        this.runError = err
      }
    }
  }

  private async learn(keys: Set<string> | 'all'): Promise<void> {
    const { learned, photos } = this.parts
    const manifest = await this.parts.manifest()
    const modelId = photos.modelId(manifest)
    const only = keys === 'all' ? undefined : [...keys]
    const sets = learned.exampleSets(modelId, MIN_LEARNING_EXAMPLES, only)
    const signatures = learned.signatures(modelId)
    const qualifying = new Set(sets.map((s) => s.key))
    const dropped = (only ?? [...signatures.keys()]).filter((key) => signatures.has(key) && !qualifying.has(key))
    if (dropped.length) learned.remove(modelId, dropped)
    const stale = sets.map((set) => ({ set, signature: signatureOf(set) })).filter(({ set, signature }) => signatures.get(set.key) !== signature)
    let others: number[] | null = null
    for (const { set, signature } of stale) {
      if (this.closed) return
      try {
        others ??= learned.embeddedPhotoIds(modelId)
        await this.learnOne(set, signature, modelId, manifest, others)
        this.learned.add(set.text)
        this.failed.delete(set.text)
      } catch (err) {
        this.failed.set(set.text, err instanceof Error ? err.message : String(err))
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  private async learnOne(set: KeywordExampleSet, signature: string, modelId: number, manifest: PackManifest, others: readonly number[]): Promise<void> {
    const { photos, learned } = this.parts
    const examplesOf = (ids: readonly number[]) => [...photos.photosVectors(ids, modelId).values()]
    const decided = new Set([...set.positives, ...set.rejected])
    const found = (await this.parts.lexicon()).lookup(set.text)
    const examples = {
      positives: examplesOf(set.positives),
      negatives: examplesOf([...set.rejected, ...spread(others, decided, OTHER_PHOTOS)]),
      rows: manifest.rows,
      dim: manifest.dim,
      prior: found.ok ? found.vector : undefined,
      keyword: set.text
    }
    const { vector } = learnKeywordVector(examples)
    const quality = keywordQuality(examples)
    learned.save(modelId, {
      key: set.key,
      vector,
      examples: set.positives.length,
      quality: quality.label,
      qualitySummary: quality.summary,
      averagePrecision: quality.averagePrecision,
      threshold: quality.threshold?.threshold ?? null,
      signature
    })
  }
}

/**
 * How keywords are learned and their cut-offs set: part of every signature, so that a release that
 * learns differently (other settings, or LEARNING_VERSION raised for a change of method, as 2 added
 * the cut-off) learns every keyword again.
 */
const LEARNING_VERSION = `2:${JSON.stringify(KEYWORD_QUALITY)}`

/** Names the photos a keyword is learned from and how: the same photos, the same signature. */
function signatureOf(set: KeywordExampleSet): string {
  return createHash('sha256')
    .update(`${LEARNING_VERSION}|${set.positives.join(',')}|${set.rejected.join(',')}`)
    .digest('hex')
}

/**
 * Up to `count` of `ids` at an even stride, leaving out `exclude`: a library's photos are
 * numbered folder by folder, so a stride reaches every part of it, and the same photos give the
 * same sample.
 */
function spread(ids: readonly number[], exclude: ReadonlySet<number>, count: number): number[] {
  const out: number[] = []
  const step = Math.max(1, ids.length / count)
  for (let x = 0; x < ids.length && out.length < count; x += step) {
    const id = ids[Math.floor(x)]
    if (!exclude.has(id)) out.push(id)
  }
  return out
}
