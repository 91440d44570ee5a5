import type { EngineStatus } from '../../shared/api'
import type { TagScore } from '../../shared/models'
import { SettingsStore } from './api/settingsStore'
import { defaultDataDir } from './dataDir'
import type { EmbedResult } from './inference/embedPhotos'
import { type ExecutionProviderChoice, defaultPrecheck, providerOrder } from './inference/executionProviders'
import type { ModelSession, ProviderAttempt } from './inference/modelSession'
import { ModelSessions } from './inference/modelSessions'
import type { IndexRunner } from './library/indexer'
import type { Library } from './library/library'
import type { LibraryRepositories } from './library/repositories'
import { ActivePack } from './models/activePack'
import type { PackManifest } from './models/packManifest'
import { PackStore } from './models/packStore'
import type { SearchService } from './search/searchService'
import type { AutoTagger } from './tagging/autoTagger'
import type { KeywordLearner } from './tagging/keywordLearner'
import { scoreAllTags, topTags } from './tagging/scoreTags'
import { ENGINE_VERSION } from './version'
import type { XmpService } from './xmp/xmpService'

export interface EngineOptions {
  dataDir?: string
  /** Pack to use instead of the active one. */
  model?: string
  executionProvider?: ExecutionProviderChoice
  /** Told when a faster execution provider could not be used and the next one is tried. */
  onProviderFallback?: (attempt: ProviderAttempt) => void
  /**
   * Where photos are decoded and embedded: in the index worker (the default), so that search
   * and the window keep their thread while a run goes on, or in this thread. 'for-main-thread'
   * is the index worker's own engine: it indexes in its thread under the writer lock its main
   * thread holds.
   */
  indexing?: 'worker' | 'this-thread' | 'for-main-thread'
}

export type TagResult = { path: string; tags: TagScore[] } | { path: string; error: string }

/**
 * The product without a window, and its composition root: the CLI, the Electron shell, web mode
 * and the tests all drive this one object, and it alone builds the services, in the order of their
 * dependencies (pack and model sessions, the library's repositories, tagging, the library and its
 * indexer, search, XMP), each given only the narrow parts it needs, never the engine. Every
 * service is built on first use (onnxruntime and sharp, native and slow to load, are imported
 * only then, so commands that need neither start fast) and released by close().
 */
export class Engine {
  readonly packs: PackStore
  readonly pack: ActivePack
  /** The window's settings (app-settings.json); the library reads its grace period for missing photos there. */
  readonly settings: SettingsStore
  private readonly sessions: ModelSessions
  private opened: {
    repositories?: Promise<LibraryRepositories>
    tagger?: Promise<AutoTagger>
    learner?: Promise<{ learner: KeywordLearner; unsubscribe: () => void }>
    library?: Promise<Library>
    search?: Promise<SearchService>
    xmp?: Promise<XmpService>
  } = {}

  constructor(private readonly opts: EngineOptions = {}) {
    this.packs = new PackStore(opts.dataDir ?? defaultDataDir())
    this.pack = new ActivePack(this.packs, opts.model)
    this.settings = new SettingsStore(this.dataDir)
    this.sessions = new ModelSessions(this.pack, { executionProvider: opts.executionProvider, onFallback: opts.onProviderFallback })
  }

  get dataDir(): string {
    return this.packs.dataDir
  }

  async status(): Promise<EngineStatus> {
    const models = await this.packs.list()
    const executionProviders = providerOrder('auto').map((name) => {
      const reason = defaultPrecheck(name)
      return reason ? { name, usable: false, reason } : { name, usable: true }
    })
    return { version: ENGINE_VERSION, dataDir: this.dataDir, activeModel: models.find((m) => m.active) ?? null, models, executionProviders }
  }

  /** The manifest of the engine's model (the active pack unless one was named). */
  manifest(): Promise<PackManifest> {
    return this.pack.manifest()
  }

  /** The image model's session for the engine's pack, opened once and then shared. */
  session(): Promise<{ session: ModelSession; manifest: PackManifest }> {
    return this.sessions.session()
  }

  async *embed(paths: readonly string[], opts: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<EmbedResult> {
    const { session } = await this.session()
    const { embedPhotos } = await import('./inference/embedPhotos')
    yield* embedPhotos(paths, session, opts)
  }

  async *tag(paths: readonly string[], opts: { top?: number; batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<TagResult> {
    const { session, manifest } = await this.session()
    const vocab = await this.pack.vocabulary(manifest)
    const { embedPhotos } = await import('./inference/embedPhotos')
    for await (const result of embedPhotos(paths, session, opts)) {
      if ('error' in result) yield result
      else yield { path: result.path, tags: topTags(scoreAllTags(result.output, manifest.rows, vocab), vocab, opts.top ?? 10) }
    }
  }

  /** The library database's repositories, opened (and migrated) on first use. */
  repositories(): Promise<LibraryRepositories> {
    this.opened.repositories ??= import('./library/repositories').then(({ openRepositories }) => openRepositories(this.dataDir))
    return this.opened.repositories
  }

  /** Tag suggestions, and the tags the user accepted, rejected or added. */
  tagger(): Promise<AutoTagger> {
    this.opened.tagger ??= (async () => {
      const [{ AutoTagger }, { photos, tags, history, learnedKeywords }] = await Promise.all([import('./tagging/autoTagger'), this.repositories()])
      // Learning starts with tagging, so that the decisions made from here on are learned.
      if (this.learnsKeywords) await this.keywordLearner()
      return new AutoTagger({ photos, tags, history, learnedKeywords, pack: this.pack })
    })()
    return this.opened.tagger
  }

  /**
   * Keeps the user's keywords learned in the background: told of every change to their photos by
   * the tag store, and of every index run. Commands that answer with learned vectors call its
   * learnStale() first.
   */
  async keywordLearner(): Promise<KeywordLearner> {
    this.opened.learner ??= (async () => {
      const [{ KeywordLearner }, { photos, tags, learnedKeywords }] = await Promise.all([import('./tagging/keywordLearner'), this.repositories()])
      const learner = new KeywordLearner({ photos, learned: learnedKeywords, manifest: () => this.pack.manifest(), lexicon: async () => (await this.tagger()).lexicon() })
      const unsubscribe = tags.onKeywordsChanged((keys) => learner.schedule(keys))
      // Photos may have been tagged by another process (a CLI run) since this one last looked.
      learner.schedule('all')
      return { learner, unsubscribe }
    })()
    return (await this.opened.learner).learner
  }

  /** The index worker's own engine leaves learning to its main thread's. */
  private get learnsKeywords(): boolean {
    return this.opts.indexing !== 'for-main-thread'
  }

  /** The photo library in this data folder: its folders, indexing and watching. */
  library(): Promise<Library> {
    this.opened.library ??= (async () => {
      const [{ Library }, { photos }] = await Promise.all([import('./library/library'), this.repositories()])
      const indexing = this.opts.indexing ?? 'worker'
      const runner = await this.indexer(indexing === 'worker')
      return new Library({
        store: photos,
        dataDir: this.dataDir,
        pack: this.pack,
        indexer: this.learnsKeywords ? this.learningAfter(runner) : runner,
        indexesElsewhere: indexing === 'worker',
        // The index worker's main thread holds the lock for it.
        writerLock: indexing === 'for-main-thread' ? null : await this.writerLock(),
        missingGraceDays: async () => (await this.settings.get()).missingGraceDays
      })
    })()
    return this.opened.library
  }

  /** Free-text search over the library; its index is loaded on the first query. */
  search(): Promise<SearchService> {
    this.opened.search ??= (async () => {
      const [{ SearchService }, library, tagger, { tags, learnedKeywords, catalog }] = await Promise.all([
        import('./search/searchService'),
        this.library(),
        this.tagger(),
        this.repositories()
      ])
      return new SearchService({ library, tags, learnedKeywords, tagger, pack: this.pack, catalog })
    })()
    return this.opened.search
  }

  /** XMP sidecars (export and import through ExifTool, which starts on first use). */
  xmp(): Promise<XmpService> {
    this.opened.xmp ??= (async () => {
      const [{ XmpService }, { photos, tags, sidecars }] = await Promise.all([import('./xmp/xmpService'), this.repositories()])
      // Imported keywords are learned too.
      if (this.learnsKeywords) await this.keywordLearner()
      return new XmpService({ photos, tags, sidecars, tagger: () => this.tagger() })
    })()
    return this.opened.xmp
  }

  /** Releases everything built, users before what they use: XMP's ExifTool, search's and tagging's sessions, the index worker, the ExifTool reading RAW previews, the database, the model. */
  async close(): Promise<void> {
    const opened = this.opened
    this.opened = {}
    const settled = async <T>(service: Promise<T> | undefined) => service?.catch(() => null)
    // ExifTool's perl processes would otherwise keep a CLI run or a test worker alive.
    await (await settled(opened.xmp))?.close()
    await (await settled(opened.search))?.close()
    await (await settled(opened.library))?.close()
    // Camera RAW previews are read by an ExifTool of the image module's own (thumbnails, the photo view, indexing in this thread).
    await (await import('./image/rawPreviewReader')).closeRawPreviewReader()
    const learning = await settled(opened.learner)
    learning?.unsubscribe()
    await learning?.learner.close()
    await (await settled(opened.tagger))?.close()
    ;(await settled(opened.repositories))?.close()
    await this.sessions.close()
  }

  /** An index run changes which photos are there and embedded, so every keyword is checked again after it. */
  private learningAfter(indexer: IndexRunner): IndexRunner {
    return {
      run: async (job, opts) => {
        const summary = await indexer.run(job, opts)
        ;(await this.keywordLearner()).schedule('all')
        return summary
      },
      close: () => indexer.close()
    }
  }

  /** The indexer in this thread, or the client of the index worker (which builds an engine of its own). */
  private async indexer(inWorker: boolean) {
    if (inWorker) {
      const { IndexWorkerClient } = await import('./library/indexWorkerClient')
      return new IndexWorkerClient({ dataDir: this.dataDir, model: this.opts.model, executionProvider: this.opts.executionProvider }, this.opts.onProviderFallback)
    }
    const [{ Indexer }, { photos }] = await Promise.all([import('./library/indexer'), this.repositories()])
    return new Indexer(photos, this.sessions, async () => (await this.tagger()).scoreNewPhotos())
  }

  private async writerLock() {
    const { WriterLock } = await import('./store/lock')
    return new WriterLock(this.dataDir)
  }
}
