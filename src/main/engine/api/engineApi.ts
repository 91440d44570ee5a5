import type {
  ApiSearchResponse,
  AppSettings,
  Completion,
  DecidedTag,
  EngineStatus,
  FolderState,
  ImportModelRequest,
  IndexingProgress,
  IndexingRequest,
  InstallModelOptions,
  MissingPhotos,
  ModelCatalog,
  ModelInstallProgress,
  PhotoDetails,
  PhotoDetailsOptions,
  PhotoId,
  PhotoPage,
  PhotoPageRequest,
  PhotoTagsState,
  PurgeMissingRequest,
  Result,
  SdlTaggerApi,
  SearchRequestOptions,
  WatchState,
  XmpExportEntry,
  XmpExportReport,
  XmpExportRequest
} from '../../../shared/api'
import type { XmpExportSummary } from '../../../shared/xmp'
import type { ModelInfo } from '../../../shared/models'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { decodePrincipalVectors } from '../library/float16'
import type { Library } from '../library/library'
import { Lexicon } from '../lexicon/lexicon'
import { catalogEntry, catalogNames } from '../models/catalog'
import { installCatalogPack } from '../models/installPack'
import type { PackManifest } from '../models/packManifest'
import { importSdlCheckpoint } from '../models/packBuilders'
import { scoreAllTags, sdlScore } from '../tagging/scoreTags'
import { TagStore } from '../tagging/tagStore'
import { toApiError } from './errors'
import { EventHub } from './eventHub'
import { IndexingRuns } from './indexingRuns'
import { PhotoCatalog } from './photoCatalog'
import { toResult } from './result'
import { SettingsStore } from './settingsStore'

/** Nearest words shown per facet (principal vector). */
const FACET_WORDS = 5
/** The grid asks for a screenful or two at a time; a bigger page is a mistake, not a need. */
const MAX_PAGE = 2000

/**
 * The whole SdlTaggerApi over one Engine: the object behind both windows (Electron IPC and web
 * mode's HTTP), so the two can never disagree. Every method answers a Result envelope; long jobs
 * run in the background and report through `events`.
 */
export class EngineApi implements SdlTaggerApi {
  readonly events = new EventHub()
  readonly settings: SettingsStore
  private readonly indexing: IndexingRuns
  private install: { name: string; controller: AbortController } | null = null
  private lexicon: { key: string; lexicon: Promise<Lexicon> } | null = null
  private searchGeneration = 0
  private executionProvider: string | null = null
  private watching: { state: WatchState; controller: AbortController; done: Promise<void> } | null = null

  constructor(private readonly engine: Engine) {
    this.settings = new SettingsStore(engine.dataDir)
    this.indexing = new IndexingRuns(engine, this.events, () => this.events.emit({ type: 'library-changed', change: 'photos' }))
  }

  /** Starts what the settings ask for at launch (following the folders). Failures become events, never exceptions. */
  async start(): Promise<void> {
    const settings = await this.settings.get()
    if (!settings.watchFolders) return
    await this.startWatching().catch((err: unknown) =>
      this.events.emit({ type: 'watch', state: 'error', folders: [], error: toApiError(err) })
    )
  }

  /** Stops background work (a running index after its batch, the watcher) and waits for it. */
  async stop(): Promise<void> {
    this.indexing.cancel()
    this.install?.controller.abort()
    await this.stopWatching()
    await this.indexing.settled()
  }

  // --- status and models ---------------------------------------------------------------------

  getStatus(): Promise<Result<EngineStatus>> {
    return toResult(() => this.engine.status())
  }

  listCatalog(): Promise<Result<ModelCatalog>> {
    return toResult(async () => {
      const installed = await this.engine.packs.list()
      const names = new Set(installed.map((m) => m.name))
      const available = catalogNames().map((name) => {
        const entry = catalogEntry(name)
        return { name, description: entry.description, approxBytes: entry.checkpoint.approxBytes, installed: names.has(name) }
      })
      return { installed, available, executionProvider: this.executionProvider }
    })
  }

  installModel(name: string, options: InstallModelOptions = {}): Promise<Result<ModelInfo>> {
    return toResult(() =>
      this.modelJob(name, (controller, report) =>
        installCatalogPack(this.engine.packs, name, {
          mirror: options?.mirror,
          replace: options?.replace,
          signal: controller.signal,
          onProgress: (p) => report({ phase: 'download', done: p.done, total: p.total, unit: p.unit, ratePerSecond: p.ratePerSecond, etaSeconds: p.etaSeconds }),
          // A new step is a new file or stage: its progress starts afresh.
          onStep: (step) => report({ step, phase: /^Download/.test(step) ? 'download' : 'import', done: 0, total: null, ratePerSecond: 0, etaSeconds: null })
        })
      )
    )
  }

  cancelModelInstall(): Promise<Result<{ cancelled: boolean }>> {
    return toResult(() => {
      if (!this.install) return { cancelled: false }
      this.install.controller.abort()
      return { cancelled: true }
    })
  }

  importModel(request: ImportModelRequest): Promise<Result<ModelInfo>> {
    return toResult(() => {
      if (!request || typeof request.checkpointPath !== 'string' || typeof request.vocabDir !== 'string') {
        throw new SdlError('Importing a model needs the checkpoint file and the vocabulary folder', 'Give checkpointPath and vocabDir.')
      }
      const name = request.name ?? 'sdl-nus-wide'
      return this.modelJob(name, (_controller, report) =>
        importSdlCheckpoint(this.engine.packs, {
          checkpointPath: request.checkpointPath,
          vocabDir: request.vocabDir,
          name,
          replace: request.replace,
          onStep: (step) => report({ phase: 'import', step })
        })
      )
    })
  }

  activateModel(name: string): Promise<Result<ModelInfo>> {
    return toResult(async () => {
      await this.engine.packs.use(name)
      // Search reads the active pack's manifest at most every few seconds; it must not wait for that.
      ;(await this.engine.search()).invalidate()
      this.events.emit({ type: 'library-changed', change: 'model' })
      return (await this.engine.packs.list()).find((m) => m.name === name)!
    })
  }

  removeModel(name: string): Promise<Result<{ removed: string }>> {
    return toResult(async () => {
      await this.engine.packs.remove(name)
      this.events.emit({ type: 'library-changed', change: 'model' })
      return { removed: name }
    })
  }

  // --- folders and indexing ------------------------------------------------------------------

  listFolders(): Promise<Result<FolderState[]>> {
    return toResult(() => this.folderStates())
  }

  addFolder(path: string): Promise<Result<FolderState>> {
    return toResult(async () => {
      const added = (await this.engine.library()).addFolder(requireString(path, 'folder path'))
      this.events.emit({ type: 'library-changed', change: 'folders' })
      await this.restartWatching()
      return (await this.folderStates()).find((f) => f.path === added.path)!
    })
  }

  removeFolder(path: string): Promise<Result<{ removed: string }>> {
    return toResult(async () => {
      if (this.indexing.running) throw new SdlError('Indexing is running', 'Cancel it or wait for it to finish, then remove the folder.')
      ;(await this.engine.library()).removeFolder(requireString(path, 'folder path'))
      this.events.emit({ type: 'library-changed', change: 'folders' })
      await this.restartWatching()
      return { removed: path }
    })
  }

  rescanFolder(path: string): Promise<Result<IndexingProgress>> {
    return toResult(() => this.startRun(requireString(path, 'folder path')))
  }

  startIndexing(request: IndexingRequest = {}): Promise<Result<IndexingProgress>> {
    return toResult(() => this.startRun(request?.folder))
  }

  cancelIndexing(): Promise<Result<{ cancelled: boolean }>> {
    return toResult(() => ({ cancelled: this.indexing.cancel() }))
  }

  getIndexing(): Promise<Result<IndexingProgress | null>> {
    return toResult(() => this.indexing.state())
  }

  getMissing(): Promise<Result<MissingPhotos>> {
    return toResult(async () => {
      const missing = (await this.engine.library()).missingPhotos()
      return {
        count: missing.length,
        decisions: missing.reduce((n, p) => n + p.decisions, 0),
        oldestSince: missing.reduce<string | null>((oldest, p) => (oldest === null || p.missingSince < oldest ? p.missingSince : oldest), null)
      }
    })
  }

  purgeMissing(request: PurgeMissingRequest = {}): Promise<Result<{ purged: number; decisions: number }>> {
    return toResult(async () => {
      const purged = await (await this.engine.library()).purgeMissing(request?.olderThanDays)
      if (purged.length) this.events.emit({ type: 'library-changed', change: 'photos' })
      return { purged: purged.length, decisions: purged.reduce((n, p) => n + p.decisions, 0) }
    })
  }

  setWatching(enabled: boolean): Promise<Result<{ state: WatchState }>> {
    return toResult(async () => {
      await this.settings.update({ watchFolders: Boolean(enabled) })
      if (enabled) await this.startWatching()
      else await this.stopWatching()
      return { state: this.watchState() }
    })
  }

  // --- photos, search, autocomplete ----------------------------------------------------------

  listPhotos(request: PhotoPageRequest): Promise<Result<PhotoPage>> {
    return toResult(async () => {
      const offset = request?.offset ?? 0
      const limit = request?.limit ?? 200
      if (!Number.isInteger(offset) || offset < 0) throw new SdlError(`offset must be a whole number of at least 0, got ${JSON.stringify(offset)}`)
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new SdlError(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}`)
      const library = await this.engine.library()
      const catalog = new PhotoCatalog(library.store.db)
      const folderId = request?.folder == null ? undefined : folderIdOf(library, request.folder)
      return { total: catalog.count(folderId), offset, photos: catalog.page(offset, limit, folderId) }
    })
  }

  search(query: string, options: SearchRequestOptions = {}): Promise<Result<ApiSearchResponse>> {
    return toResult(async () => {
      const generation = ++this.searchGeneration
      const started = performance.now()
      const topN = options?.topN ?? (await this.settings.get()).topN
      const response = await (await this.engine.search()).search(requireString(query, 'query'), { limit: options?.limit, all: options?.all, topN })
      const elapsedMs = performance.now() - started
      // A newer query arrived while this one ran: its results would only flash past.
      if (generation !== this.searchGeneration) return { ...response, hits: [], superseded: true, elapsedMs }
      const library = await this.engine.library()
      const ids = new PhotoCatalog(library.store.db).idsByPath(response.hits.map((h) => h.path))
      const hits = response.hits
        .filter((h) => ids.has(h.path))
        .map((h) => ({ ...h, photoId: ids.get(h.path)!, name: h.path.slice(Math.max(h.path.lastIndexOf('/'), h.path.lastIndexOf('\\')) + 1) }))
      return { ...response, hits, superseded: false, elapsedMs }
    })
  }

  complete(prefix: string, limit = 10): Promise<Result<Completion[]>> {
    return toResult(async () => {
      const { head, fragment } = splitLastTerm(requireString(prefix, 'prefix'))
      if (!fragment.trim()) return []
      const lexicon = await this.openLexicon()
      return lexicon.complete(fragment, Math.min(Math.max(1, limit), 50)).map((word) => ({ word, query: head + word }))
    })
  }

  // --- one photo -----------------------------------------------------------------------------

  getPhoto(id: PhotoId, options: PhotoDetailsOptions = {}): Promise<Result<PhotoDetails>> {
    return toResult(async () => {
      const library = await this.engine.library()
      const row = this.photoRow(library, id)
      const manifest = await this.engine.manifest().catch(() => null)
      const vectors = manifest && row.status === 'ok' ? new PhotoCatalog(library.store.db).vectors(row.id, library.store.modelId(manifest)) : undefined
      const { folderId: _folderId, ...summary } = row
      if (!manifest || !vectors) {
        const decided = new TagStore(library.store.db).photoTags(row.id).map((t) => ({ ...t, score: null, unseen: false }))
        return { ...summary, indexed: false, tags: { decided, suggestions: [] }, facets: [] }
      }
      const principal = decodePrincipalVectors(vectors)
      return {
        ...summary,
        indexed: true,
        tags: await this.tagsState(row.id, row.path, principal, manifest, options ?? {}),
        facets: await (await this.engine.tagger()).describeFacets(principal, FACET_WORDS)
      }
    })
  }

  acceptTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => (await this.engine.tagger()).accept(path, requireString(tag, 'tag')))
  }

  rejectTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => (await this.engine.tagger()).reject(path, requireString(tag, 'tag')))
  }

  addTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => void (await (await this.engine.tagger()).addTag(path, requireString(tag, 'tag'))))
  }

  // --- XMP and settings ----------------------------------------------------------------------

  exportXmp(request: XmpExportRequest): Promise<Result<XmpExportReport>> {
    return toResult(async () => {
      const settings = await this.settings.get()
      const minScore = request?.minScore
      if (minScore !== undefined && (typeof minScore !== 'number' || !Number.isFinite(minScore))) throw new SdlError(`minScore must be a number, got ${JSON.stringify(minScore)}`)
      const summary = await (await this.engine.xmp()).exportSidecars({
        dryRun: Boolean(request?.dryRun),
        minScore,
        naming: (request?.naming ?? settings.xmpNaming) === 'photo.xmp' ? 'adobe' : 'ext',
        root: settings.xmpRoot ?? undefined
      })
      return toXmpReport(summary)
    })
  }

  getSettings(): Promise<Result<AppSettings>> {
    return toResult(() => this.settings.get())
  }

  updateSettings(patch: Partial<AppSettings>): Promise<Result<AppSettings>> {
    return toResult(async () => {
      const before = await this.settings.get()
      const after = await this.settings.update(patch)
      this.events.emit({ type: 'library-changed', change: 'settings' })
      if (after.watchFolders !== before.watchFolders) {
        if (after.watchFolders) await this.startWatching()
        else await this.stopWatching()
      }
      return after
    })
  }

  // --- internals -----------------------------------------------------------------------------

  private async startRun(folder?: string): Promise<IndexingProgress> {
    const progress = await this.indexing.start(folder)
    // The indexer opens the model session; once it has, the model panel can say on what.
    void this.engine.session().then(
      ({ session }) => (this.executionProvider = session.provider),
      () => {}
    )
    return progress
  }

  private async folderStates(): Promise<FolderState[]> {
    const library = await this.engine.library()
    const manifest = await this.engine.manifest().catch(() => null)
    const details = new PhotoCatalog(library.store.db).folderDetails(manifest ? library.store.modelId(manifest) : null)
    const ids = new Map(library.store.folders().map((f) => [f.path, f.id]))
    const watch = this.watchState()
    return library.folders().map((f) => {
      const d = details.get(ids.get(f.path)!) ?? { indexed: 0, errors: [] }
      return { ...f, offline: f.offlineSince !== null, watch: f.offlineSince !== null && watch === 'watching' ? 'error' : watch, indexed: d.indexed, errors: d.errors }
    })
  }

  private photoRow(library: Library, id: PhotoId) {
    if (!Number.isInteger(id) || id < 1) throw new SdlError(`${JSON.stringify(id)} is not a photo id`)
    const row = new PhotoCatalog(library.store.db).byId(id)
    if (!row) throw new SdlError(`No photo ${id} in the library`, 'It may have been deleted or its folder removed; reload the library.')
    return row
  }

  private decide(id: PhotoId, change: (path: string) => Promise<void>): Promise<Result<PhotoTagsState>> {
    return toResult(async () => {
      const library = await this.engine.library()
      const row = this.photoRow(library, id)
      await change(row.path)
      this.events.emit({ type: 'library-changed', change: 'tags' })
      const manifest = await this.engine.manifest()
      const vectors = new PhotoCatalog(library.store.db).vectors(row.id, library.store.modelId(manifest))!
      return this.tagsState(row.id, row.path, decodePrincipalVectors(vectors), manifest, {})
    })
  }

  /** Decided tags with their scores, and the best undecided suggestions. */
  private async tagsState(photoId: number, path: string, principal: Float32Array, manifest: PackManifest, options: PhotoDetailsOptions): Promise<PhotoTagsState> {
    const settings = await this.settings.get()
    const suggestions = await (await this.engine.tagger()).suggestions(path, {
      top: options.top ?? settings.suggestionCount,
      minScore: options.minScore ?? settings.minScore ?? undefined
    })
    const vocab = await (await this.engine.tagger()).vocabulary()
    const scores = scoreAllTags(principal, manifest.rows, vocab)
    const index = new Map(vocab.tags.map((t, i) => [t, i]))
    const lexicon = await this.openLexicon()
    const library = await this.engine.library()
    const decided: DecidedTag[] = new TagStore(library.store.db).photoTags(photoId).map(({ tag, state }) => {
      const i = index.get(tag)
      if (i !== undefined) return { tag, state, score: scores[i], unseen: vocab.unseen.has(tag) }
      // An own tag outside the vocabulary: scored the same way, from the lexicon's vector.
      const found = lexicon.lookup(tag)
      return { tag, state, score: found.ok ? sdlScore(principal, manifest.rows, found.vector).score : null, unseen: true }
    })
    return { decided, suggestions }
  }

  private async openLexicon(): Promise<Lexicon> {
    const manifest = await this.engine.manifest()
    const key = `${manifest.name}:${manifest.modelSha256}`
    if (this.lexicon?.key !== key) {
      const lexicon = (async () => {
        const vocabulary = manifest.vocabulary ? await this.engine.packs.loadVocabulary(manifest) : null
        return Lexicon.open({ dataDir: this.engine.dataDir, manifest, vocabulary })
      })()
      lexicon.catch(() => (this.lexicon = null))
      this.lexicon = { key, lexicon }
    }
    return this.lexicon.lexicon
  }

  /** Runs one model install or import at a time, reporting `model-install` events to its end. */
  private async modelJob(name: string, work: (controller: AbortController, report: (patch: Partial<ModelInstallProgress>) => void) => Promise<ModelInfo>): Promise<ModelInfo> {
    if (this.install) throw new SdlError(`${this.install.name} is being installed`, 'Wait for it to finish, or cancel it.')
    const controller = new AbortController()
    this.install = { name, controller }
    const progress: ModelInstallProgress = { name, phase: 'download', step: null, done: 0, total: null, unit: 'bytes', ratePerSecond: 0, etaSeconds: null }
    const report = (patch: Partial<ModelInstallProgress>) => {
      Object.assign(progress, patch)
      this.events.emit({ type: 'model-install', progress: { ...progress } })
    }
    try {
      const info = await work(controller, report)
      report({ phase: 'done', step: null, etaSeconds: 0 })
      this.events.emit({ type: 'library-changed', change: 'model' })
      return info
    } catch (err) {
      report(controller.signal.aborted ? { phase: 'cancelled', etaSeconds: null } : { phase: 'failed', etaSeconds: null, error: toApiError(err) })
      throw err
    } finally {
      this.install = null
    }
  }

  private watchState(): WatchState {
    return this.watching?.state ?? 'off'
  }

  private emitWatch(error?: unknown): void {
    const emit = (folders: string[]) =>
      this.events.emit({ type: 'watch', state: this.watchState(), folders, ...(error === undefined ? {} : { error: toApiError(error) }) })
    this.engine.library().then(
      (library) => emit(library.store.folders().map((f) => f.path)),
      () => emit([])
    )
  }

  /**
   * Follows the library folders: a visible indexing run first (so the window shows its progress),
   * then the watcher, whose own reconciliation finds nothing left to do.
   */
  private async startWatching(): Promise<void> {
    if (this.watching) return
    const library = await this.engine.library()
    const controller = new AbortController()
    const watching = { state: 'starting' as WatchState, controller, done: Promise.resolve() }
    this.watching = watching
    this.emitWatch()
    watching.done = (async () => {
      try {
        if (!library.store.folders().length) throw new SdlError('The library has no folders to follow', 'Add a photo folder first.')
        await this.startRun().catch(() => {})
        await this.indexing.settled()
        if (controller.signal.aborted) return
        await library.watch({
          signal: controller.signal,
          onNotice: (message) => this.events.emit({ type: 'notice', message }),
          onApplied: () => this.events.emit({ type: 'library-changed', change: 'photos' }),
          onReady: () => {
            watching.state = 'watching'
            this.emitWatch()
          }
        })
      } catch (err) {
        watching.state = 'error'
        this.emitWatch(err)
      }
    })()
  }

  private async stopWatching(): Promise<void> {
    const watching = this.watching
    if (!watching) return
    watching.controller.abort()
    await watching.done
    this.watching = null
    this.emitWatch()
  }

  /** A changed set of folders: the watcher follows the new set. */
  private async restartWatching(): Promise<void> {
    if (!this.watching) return
    await this.stopWatching()
    await this.startWatching()
  }
}

/** The XMP service's summary as the export screen lists it: one entry per sidecar, and per photo skipped. */
function toXmpReport(summary: XmpExportSummary): XmpExportReport {
  const entries: XmpExportEntry[] = summary.changes.map((c) => ({
    photoPath: c.photos.join(' + '),
    sidecarPath: c.sidecar,
    action: c.create ? 'create' : 'update',
    tags: c.add,
    removed: c.remove
  }))
  for (const s of summary.skipped) entries.push({ photoPath: s.path, sidecarPath: '', action: 'error', tags: [], reason: s.reason })
  return { dryRun: summary.dryRun, written: summary.written, unchanged: summary.unchanged, failed: summary.skipped.length, entries, warnings: summary.warnings }
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new SdlError(`The ${what} must be text, got ${JSON.stringify(value)}`)
  return value
}

function folderIdOf(library: Library, folder: string): number {
  const row = library.store.folders().find((f) => f.path === folder)
  if (!row) throw new SdlError(`${folder} is not a library folder`)
  return row.id
}

/**
 * Splits a query into what stays and the word being typed, following the query language:
 * `sunset -bea` -> ['sunset -', 'bea']; inside an open quote the fragment is the quoted text so
 * far (tags of several words complete as a whole).
 */
export function splitLastTerm(query: string): { head: string; fragment: string } {
  const quotes = (query.match(/"/g) ?? []).length
  if (quotes % 2 === 1) {
    const at = query.lastIndexOf('"') + 1
    return { head: query.slice(0, at), fragment: query.slice(at) }
  }
  const match = /[^\s|()"-][^\s|()"]*$/.exec(query)
  if (!match) return { head: query, fragment: '' }
  return { head: query.slice(0, match.index), fragment: match[0] }
}
