import type {
  BrowseFolderRequest,
  FolderListing,
  FolderState,
  IndexingProgress,
  IndexingRequest,
  MissingPhotos,
  PhotoPage,
  PhotoPageRequest,
  PurgeMissingRequest,
  Result,
  SdlTaggerApi,
  WatchState
} from '../../../shared/api'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { listFolder } from '../library/folderBrowser'
import { requireFolder } from '../library/folderPaths'
import { expandUserPath } from '../library/userPaths'
import type { EventHub } from './eventHub'
import { toApiError } from './errors'
import { IndexingRuns } from './indexingRuns'
import type { ModelsApi } from './modelsApi'
import { parseDateFilter } from '../search/dateTerms'
import { toResult } from './result'

export const LIBRARY_METHODS = [
  'listFolders',
  'addFolder',
  'removeFolder',
  'browseFolder',
  'rescanFolder',
  'startIndexing',
  'cancelIndexing',
  'getIndexing',
  'setWatching',
  'getMissing',
  'purgeMissing',
  'listPhotos'
] as const

/** What a model can be added or imported from: an ONNX pack, or an official checkpoint. */
const MODEL_FILE_EXTENSIONS = ['.onnx', '.pth']

/** Once a day at most while the app runs, the library is backed up; this is how often it is asked whether one is due. */
const BACKUP_CHECK_MS = 60 * 60 * 1000

/**
 * The library's folders, indexing runs (one at a time, in the background, as events), following
 * the folders for changes, missing photos, and the grid's pages of photos.
 */
export class LibraryApi implements Pick<SdlTaggerApi, (typeof LIBRARY_METHODS)[number]> {
  private readonly indexing: IndexingRuns
  private watching: { state: WatchState; controller: AbortController; done: Promise<void> } | null = null
  /** Serialises starting and stopping the watcher: a second call waits for the first instead of racing it. */
  private watchChange: Promise<void> = Promise.resolve()
  private backups: NodeJS.Timeout | null = null

  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub,
    private readonly models: ModelsApi
  ) {
    this.indexing = new IndexingRuns(engine, events, () => events.emit({ type: 'library-changed', change: 'photos' }))
  }

  /** What the app starts with: the daily backup, and following the folders when the settings say so. Failures become events. */
  async start(): Promise<void> {
    this.backups ??= setInterval(() => void this.backUpIfDue(), BACKUP_CHECK_MS).unref()
    await this.backUpIfDue()
    const settings = await this.engine.settings.get()
    if (!settings.watchFolders) return
    await this.followFolders(true).catch((err: unknown) => this.events.emit({ type: 'watch', state: 'error', folders: [], error: toApiError(err, this.engine.dataDir) }))
  }

  /** Stops background work (a running index after its batch, the watcher) and waits for it. */
  async stop(): Promise<void> {
    if (this.backups) clearInterval(this.backups)
    this.backups = null
    this.indexing.cancel()
    await this.followFolders(false)
    await this.indexing.settled()
  }

  listFolders(): Promise<Result<FolderState[]>> {
    return toResult(() => this.folderStates(), this.engine.dataDir)
  }

  addFolder(path: string): Promise<Result<FolderState>> {
    return toResult(async () => {
      const added = (await this.engine.library()).addFolder(expandUserPath(path))
      this.events.emit({ type: 'library-changed', change: 'folders' })
      await this.restartWatching()
      return (await this.folderStates()).find((f) => f.path === added.path)!
    }, this.engine.dataDir)
  }

  removeFolder(path: string): Promise<Result<{ removed: string }>> {
    return toResult(async () => {
      if (this.indexing.running) throw new SdlError('Indexing is running', 'Cancel it or wait for it to finish, then remove the folder.')
      ;(await this.engine.library()).removeFolder(path)
      this.events.emit({ type: 'library-changed', change: 'folders' })
      await this.restartWatching()
      return { removed: path }
    }, this.engine.dataDir)
  }

  browseFolder(request: BrowseFolderRequest = {}): Promise<Result<FolderListing>> {
    return toResult(() => listFolder(request.path, { fileExtensions: request.files === 'models' ? MODEL_FILE_EXTENSIONS : [] }), this.engine.dataDir)
  }

  rescanFolder(path: string): Promise<Result<IndexingProgress>> {
    return toResult(() => this.startRun(path), this.engine.dataDir)
  }

  startIndexing(request: IndexingRequest = {}): Promise<Result<IndexingProgress>> {
    return toResult(() => this.startRun(request.folder), this.engine.dataDir)
  }

  cancelIndexing(): Promise<Result<{ cancelled: boolean }>> {
    return toResult(() => ({ cancelled: this.indexing.cancel() }), this.engine.dataDir)
  }

  getIndexing(): Promise<Result<IndexingProgress | null>> {
    return toResult(() => this.indexing.state(), this.engine.dataDir)
  }

  setWatching(enabled: boolean): Promise<Result<{ state: WatchState }>> {
    return toResult(async () => {
      await this.engine.settings.update({ watchFolders: enabled })
      await this.followFolders(enabled)
      return { state: this.watchState() }
    }, this.engine.dataDir)
  }

  getMissing(): Promise<Result<MissingPhotos>> {
    return toResult(async () => {
      const missing = (await this.engine.library()).missingPhotos()
      return {
        count: missing.length,
        decisions: missing.reduce((n, p) => n + p.decisions, 0),
        oldestSince: missing.reduce<string | null>((oldest, p) => (oldest === null || p.missingSince < oldest ? p.missingSince : oldest), null)
      }
    }, this.engine.dataDir)
  }

  purgeMissing(request: PurgeMissingRequest = {}): Promise<Result<{ purged: number; decisions: number }>> {
    return toResult(async () => {
      const purged = await (await this.engine.library()).purgeMissing(request.olderThanDays)
      if (purged.length) this.events.emit({ type: 'library-changed', change: 'photos' })
      return { purged: purged.length, decisions: purged.reduce((n, p) => n + p.decisions, 0) }
    }, this.engine.dataDir)
  }

  listPhotos(request: PhotoPageRequest): Promise<Result<PhotoPage>> {
    return toResult(async () => {
      const { catalog } = await this.engine.repositories()
      const folderId = request.folder === undefined ? undefined : requireFolder((await this.engine.library()).store, request.folder).id
      const listing = { folderId, dates: request.dates === undefined ? undefined : parseDateFilter(request.dates) }
      const sort = request.sort ?? 'date'
      const page: PhotoPage = { total: catalog.count(listing), offset: request.offset, photos: catalog.page(request.offset, request.limit, listing, sort) }
      if (request.sections && sort === 'date') page.sections = catalog.sections(listing)
      return page
    }, this.engine.dataDir)
  }

  /** Starts following the folders, or stops; settles once the change is made (after any change asked before it). */
  followFolders(on: boolean): Promise<void> {
    const change = this.watchChange.then(() => (on ? this.startWatching() : this.stopWatching()))
    this.watchChange = change.catch(() => {})
    return change
  }

  private async startRun(folder?: string): Promise<IndexingProgress> {
    const progress = await this.indexing.start(folder)
    this.models.noteExecutionProvider()
    return progress
  }

  private async backUpIfDue(): Promise<void> {
    try {
      await (await this.engine.repositories()).backupIfDue()
    } catch (err) {
      this.events.emit({ type: 'notice', message: `The daily backup of the library failed: ${toApiError(err, this.engine.dataDir).message}` })
    }
  }

  private async folderStates(): Promise<FolderState[]> {
    const library = await this.engine.library()
    const { catalog } = await this.engine.repositories()
    const manifest = await this.engine.manifest().catch(() => null)
    const details = catalog.folderDetails(manifest ? library.store.modelId(manifest) : null)
    const ids = new Map(library.store.folders().map((f) => [f.path, f.id]))
    const watch = this.watchState()
    return library.folders().map((f) => {
      const d = details.get(ids.get(f.path)!) ?? { indexed: 0, errors: [] }
      return { ...f, offline: f.offlineSince !== null, watch: f.offlineSince !== null && watch === 'watching' ? 'error' : watch, indexed: d.indexed, errors: d.errors }
    })
  }

  private watchState(): WatchState {
    return this.watching?.state ?? 'off'
  }

  private emitWatch(error?: unknown): void {
    const emit = (folders: string[]) =>
      this.events.emit({ type: 'watch', state: this.watchState(), folders, ...(error === undefined ? {} : { error: toApiError(error, this.engine.dataDir) }) })
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
    await this.followFolders(false)
    await this.followFolders(true)
  }
}
