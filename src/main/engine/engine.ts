import type { EngineStatus } from '../../shared/api'
import type { TagScore } from '../../shared/models'
import { defaultDataDir } from './dataDir'
import type { EmbedResult } from './inference/embedPhotos'
import { type ExecutionProviderChoice, defaultPrecheck, providerOrder } from './inference/executionProviders'
import type { ModelSession, ProviderAttempt } from './inference/modelSession'
import type { Library } from './library/library'
import type { IndexWorkerSettings } from './library/indexWorkerProtocol'
import type { SearchService } from './search/searchService'
import type { AutoTagger } from './tagging/autoTagger'
import type { XmpService } from './xmp/xmpService'
import type { PackManifest } from './models/packManifest'
import { PackStore } from './models/packStore'
import { scoreAllTags, topTags } from './tagging/scoreTags'
import { ENGINE_VERSION } from './version'

export interface EngineOptions {
  dataDir?: string
  /** Pack to use instead of the active one. */
  model?: string
  executionProvider?: ExecutionProviderChoice
  /** Told when a faster execution provider could not be used and the next one is tried. */
  onProviderFallback?: (attempt: ProviderAttempt) => void
  /**
   * Where photos are decoded and embedded: in the index worker (the default), so that search
   * and the window keep their thread while a run goes on, or in this thread (the worker's own engine).
   */
  indexing?: 'worker' | 'this-thread'
}

export type TagResult = { path: string; tags: TagScore[] } | { path: string; error: string }

/**
 * The product without a window: the CLI, the Electron shell, web mode and the tests all drive
 * this one object. onnxruntime and sharp (native, ~150 ms to load) are imported and sessions
 * opened only on first use, so commands that need neither start fast.
 */
export class Engine {
  readonly packs: PackStore
  private sessions = new Map<string, Promise<{ session: ModelSession; manifest: PackManifest }>>()
  private openedLibrary: Promise<Library> | null = null
  private searchService: Promise<SearchService> | null = null
  private autoTagger: Promise<AutoTagger> | null = null
  private xmpService: Promise<XmpService> | null = null

  constructor(private readonly opts: EngineOptions = {}) {
    this.packs = new PackStore(opts.dataDir ?? defaultDataDir())
  }

  get dataDir(): string {
    return this.packs.dataDir
  }

  get indexesInWorker(): boolean {
    return (this.opts.indexing ?? 'worker') === 'worker'
  }

  /** What the index worker needs to open this engine's library with this engine's model. */
  get workerSettings(): IndexWorkerSettings {
    return { dataDir: this.dataDir, model: this.opts.model, executionProvider: this.opts.executionProvider }
  }

  /** Days a missing photo is kept before an indexing run forgets it (the missingGraceDays setting; 0: never). */
  async missingGraceDays(): Promise<number> {
    const { SettingsStore } = await import('./api/settingsStore')
    return (await new SettingsStore(this.dataDir).get()).missingGraceDays
  }

  /** The index worker's model fell back to another execution provider: told as if it were this engine's. */
  reportProviderFallback(attempt: ProviderAttempt): void {
    this.opts.onProviderFallback?.(attempt)
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
    return this.packs.resolve(this.opts.model)
  }

  /** The session for a pack (the engine's model by default), opened once and then shared. */
  async session(model = this.opts.model): Promise<{ session: ModelSession; manifest: PackManifest }> {
    const manifest = await this.packs.resolve(model)
    let entry = this.sessions.get(manifest.name)
    if (!entry) {
      entry = import('./inference/modelSession')
        .then(({ ModelSession }) =>
          ModelSession.open(this.packs.modelPath(manifest), manifest.dim * manifest.rows, {
            executionProvider: this.opts.executionProvider,
            onFallback: this.opts.onProviderFallback
          })
        )
        .then((session) => ({ session, manifest }))
      // A failed open must not be cached: the user may fix the cause and retry in the same process.
      entry.catch(() => this.sessions.delete(manifest.name))
      this.sessions.set(manifest.name, entry)
    }
    return entry
  }

  async *embed(paths: readonly string[], opts: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<EmbedResult> {
    const { session } = await this.session()
    const { embedPhotos } = await import('./inference/embedPhotos')
    yield* embedPhotos(paths, session, opts)
  }

  async *tag(paths: readonly string[], opts: { top?: number; batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<TagResult> {
    const { session, manifest } = await this.session()
    const vocab = await this.packs.loadVocabulary(manifest)
    const { embedPhotos } = await import('./inference/embedPhotos')
    for await (const result of embedPhotos(paths, session, opts)) {
      if ('error' in result) yield result
      else yield { path: result.path, tags: topTags(scoreAllTags(result.output, manifest.rows, vocab), vocab, opts.top ?? 10) }
    }
  }

  /** The photo library in this data folder, opened (and its schema migrated) on first use. */
  library(): Promise<Library> {
    this.openedLibrary ??= import('./library/library').then(({ Library }) => new Library(this))
    return this.openedLibrary
  }

  /** Free-text search over the library; its index is loaded on the first query. */
  search(): Promise<SearchService> {
    this.searchService ??= import('./search/searchService').then(({ SearchService }) => new SearchService(this))
    return this.searchService
  }

  /** XMP sidecars (export and import through ExifTool, which starts on first use). */
  xmp(): Promise<XmpService> {
    this.xmpService ??= import('./xmp/xmpService').then(({ XmpService }) => new XmpService(this))
    return this.xmpService
  }

  /** Tag suggestions, and the tags the user accepted, rejected or added. */
  tagger(): Promise<AutoTagger> {
    this.autoTagger ??= import('./tagging/autoTagger').then(({ AutoTagger }) => new AutoTagger(this))
    return this.autoTagger
  }

  async close(): Promise<void> {
    const xmp = this.xmpService
    this.xmpService = null
    // ExifTool's perl processes would otherwise keep a CLI run or a test worker alive.
    await (await xmp?.catch(() => null))?.close()
    const library = this.openedLibrary
    this.openedLibrary = null
    await (await library?.catch(() => null))?.close()
    const open = [...this.sessions.values()]
    this.sessions.clear()
    for (const entry of open) await (await entry.catch(() => null))?.session.close()
  }
}
