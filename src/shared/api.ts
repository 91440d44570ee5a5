import type { FolderInfo } from './library'
import type { ModelInfo, TagScore } from './models'
import type { SearchHit } from './search'

/**
 * The one contract between the engine and every window onto it: the Electron renderer (IPC through
 * the preload) and the browser in web mode (HTTP + server-sent events, see src/shared/httpApi.ts).
 * Requests answer a `Result` envelope; long jobs (indexing, model installs) answer when they are
 * started or finished and report progress as `ApiEvent`s in between.
 */

/** What every front end shows about the engine: where it keeps its data, which models, which hardware. */
export interface EngineStatus {
  version: string
  dataDir: string
  activeModel: ModelInfo | null
  models: ModelInfo[]
  executionProviders: Array<{ name: string; usable: boolean; reason?: string }>
}

export interface ApiError {
  message: string
  /** What the user can do about it. */
  hint?: string
}

/**
 * Every call across a process boundary answers with an envelope, so the renderer never sees a
 * raw exception: `ok` with the value, or a message and a hint the user can act on.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError }

/** The library's id of a photo (stable while the photo stays in the library, also across moves). */
export type PhotoId = number

// ---------------------------------------------------------------------------------------------
// Models

export interface CatalogModel {
  name: string
  description: string
  /** Approximate download size of the checkpoint. */
  approxBytes: number
  installed: boolean
}

export interface ModelCatalog {
  /** Installed packs (one is `active`). */
  installed: ModelInfo[]
  /** Models `installModel` can download. */
  available: CatalogModel[]
  /** The execution provider the active model runs on, once it has been opened (null before). */
  executionProvider: string | null
}

export interface InstallModelOptions {
  /** A mirror that serves the same file names as the official hosts. */
  mirror?: string
  /** Download and import again over an installed pack. */
  replace?: boolean
}

export interface ImportModelRequest {
  /** An official SDL PyTorch checkpoint (.pth). */
  checkpointPath: string
  /** The folder with classes.pickle, unseen_classes.pickle and wordvec_array.pickle. */
  vocabDir: string
  /** Pack name (default `sdl-nus-wide`). */
  name?: string
  replace?: boolean
}

// ---------------------------------------------------------------------------------------------
// Library

export interface PhotoError {
  path: string
  reason: string
}

export type WatchState = 'off' | 'starting' | 'watching' | 'error'

/** A library folder as the folders panel shows it. */
export interface FolderState extends FolderInfo {
  /** Whether the folder is being followed for changes right now. */
  watch: WatchState
  offline: boolean
  /** Photos of this folder that have principal vectors from the active model. */
  indexed: number
  /** Photos of this folder that could not be read, with the reason. */
  errors: PhotoError[]
}

export interface IndexingRequest {
  /** One library folder; all of them when absent. */
  folder?: string
}

export type IndexingPhase = 'starting' | 'indexing' | 'done' | 'cancelled' | 'failed'

/** One progress report of an indexing run (also the final one, with `summary`). */
export interface IndexingProgress {
  /** Increases with every run, so a late event of an earlier run can be told apart. */
  runId: number
  /** The folder being indexed; null for all of them. */
  folder: string | null
  phase: IndexingPhase
  /** Photos read so far, of `total` new or changed ones (unchanged photos are not counted). */
  done: number
  /** null until the folders have been scanned. */
  total: number | null
  photosPerSecond: number
  /** null while unknown. */
  etaSeconds: number | null
  currentPath: string | null
  /** Photos that could not be read, listed once the run has ended (the first 1000; listFolders has them all). */
  errors: PhotoError[]
  /** Set when the run has ended ('done' or 'cancelled'). */
  summary?: IndexingSummary
  /** Set when phase is 'failed'. */
  error?: ApiError
}

/** What an index run (or a watcher batch) did. */
export interface IndexingSummary {
  /** Photo files found on disk (or named by the change batch). */
  seen: number
  unchanged: number
  indexed: number
  moved: number
  failed: number
  /** Photos found gone from an online folder: kept, missing, with their tags, until purged. */
  missing: number
  /** Photos forgotten for good: missing for longer than the grace period (missingGraceDays). */
  removed: number
  offlineFolders: string[]
  cancelled: boolean
  /** Why the new photos could not be auto-tagged while indexing (they are when next asked for). */
  suggestionsError?: string
}

/** Photos whose files are gone: kept, with their tags, until purged by hand or after the grace period. */
export interface MissingPhotos {
  count: number
  /** Tag decisions (accepted, rejected, own) on them, which purging forgets. */
  decisions: number
  /** When the longest-missing one went (ISO time); null when none is missing. */
  oldestSince: string | null
}

export interface PurgeMissingRequest {
  /** Only photos missing for longer than this many days; all of them when absent. */
  olderThanDays?: number
}

export interface PhotoPageRequest {
  offset: number
  limit: number
  /** Only the photos of this library folder. */
  folder?: string
}

/** What the grid needs of a photo. Width and height are as displayed (after EXIF rotation). */
export interface PhotoSummary {
  id: PhotoId
  path: string
  /** The file name. */
  name: string
  width: number | null
  height: number | null
  takenAt: string | null
  status: 'ok' | 'error'
  offline: boolean
}

export interface PhotoPage {
  /** Photos in the library (of the folder asked for), for the grid's scroll height. */
  total: number
  offset: number
  /** In path order, so pages are stable while nothing changes. */
  photos: PhotoSummary[]
}

// ---------------------------------------------------------------------------------------------
// Search and autocomplete

export interface SearchRequestOptions {
  /** At most this many results (default 50). */
  limit?: number
  /** Rank every photo by relevance, without the per-photo cut-off. */
  all?: boolean
  /** A term applies to a photo when it ranks within the photo's top N of the vocabulary (default: the settings' topN). */
  topN?: number
}

export interface ApiSearchHit extends SearchHit {
  photoId: PhotoId
  name: string
}

export interface ApiSearchResponse {
  query: string
  model: string
  /** Photos in the search index. */
  photos: number
  hits: ApiSearchHit[]
  /** True when a newer search started before this one finished: its hits were dropped, show the newer ones. */
  superseded: boolean
  elapsedMs: number
}

/** One autocompletion of the word being typed at the end of a query. */
export interface Completion {
  /** The completed word (or tag of several words). */
  word: string
  /** The whole query with its last word completed: what the search bar shows when it is chosen. */
  query: string
}

// ---------------------------------------------------------------------------------------------
// One photo

export type PhotoTagState = 'accepted' | 'rejected' | 'user'

export interface DecidedTag {
  tag: string
  state: PhotoTagState
  /** SDL's score of the tag for this photo; null where the lexicon no longer knows the word. */
  score: number | null
  unseen: boolean
}

export interface PhotoTagsState {
  /** Tags the user accepted, added or rejected, with their scores. */
  decided: DecidedTag[]
  /** Suggested tags not decided yet, best first (`unseen`: never seen in training, zero-shot). */
  suggestions: TagScore[]
}

/** One of the photo's principal vectors (SDL's K=7 "facets"), described by its nearest words. */
export interface Facet {
  principalVector: number
  /** Length of the vector: how strongly this facet speaks. */
  norm: number
  nearestWords: Array<{ word: string; score: number }>
}

export interface PhotoDetails extends PhotoSummary {
  /** The library folder it is in; null once its folder was taken out of the library. */
  folder: string | null
  /** When its file was found gone (it is kept with its tags until purged); null while it is there. */
  missingSince: string | null
  format: string | null
  camera: string | null
  size: number
  /** Why the photo could not be read (status 'error'). */
  reason: string | null
  /** Whether the active model has embedded it (tags and facets need that). */
  indexed: boolean
  tags: PhotoTagsState
  facets: Facet[]
}

export interface PhotoDetailsOptions {
  /** How many suggestions (default: the settings' suggestionCount). */
  top?: number
  /** Leave out suggestions scoring below this (default: the settings' minScore). */
  minScore?: number
}

// ---------------------------------------------------------------------------------------------
// XMP export and settings

export type XmpNaming = 'photo.jpg.xmp' | 'photo.xmp'

export interface XmpExportRequest {
  /** Only say what would be written. */
  dryRun: boolean
  /** Suggested tags scoring below this are not exported (accepted and own tags always are). */
  minScore?: number
  /** Sidecar file naming (default: the settings' xmpNaming). */
  naming?: XmpNaming
}

export interface XmpExportEntry {
  /** The photo (for a RAW+JPEG pair sharing one sidecar, both paths joined by ' + '). */
  photoPath: string
  sidecarPath: string
  action: 'create' | 'update' | 'unchanged' | 'error'
  /** Keywords added to the sidecar. */
  tags: string[]
  /** Keywords this app wrote before and removes now (the user's own are never removed). */
  removed?: string[]
  reason?: string
}

export interface XmpExportReport {
  dryRun: boolean
  /** Sidecars written (for a dry run: that would be written). */
  written: number
  /** Sidecars that needed no change, left byte for byte as they were. */
  unchanged: number
  /** Photos skipped, each listed in `entries` with action 'error' and the reason. */
  failed: number
  /** Per sidecar written or to be written, and per photo skipped; for a dry run, what would be written. */
  entries: XmpExportEntry[]
  /** Things to know that did not stop a sidecar, e.g. two photos sharing one. */
  warnings?: string[]
}

export type Theme = 'system' | 'light' | 'dark'

/** The window's settings, kept in `<data-dir>/app-settings.json`. */
export interface AppSettings {
  /** Search: a word applies to a photo within its top N of the vocabulary. */
  topN: number
  /** Suggestions scoring below this are not shown; null for no floor. */
  minScore: number | null
  /** Suggestions shown per photo. */
  suggestionCount: number
  theme: Theme
  /**
   * The first level of the hierarchical keywords XMP export writes (`AI|dog` in Lightroom,
   * `AI/dog` in digiKam); null: 'AI'. Sidecars always go next to their photos, where other apps
   * look for them.
   */
  xmpRoot: string | null
  xmpNaming: XmpNaming
  /** Follow the library folders for changes while the app runs. */
  watchFolders: boolean
  /**
   * Days a missing photo (its file gone) is kept, with its tags, before an indexing run forgets it;
   * 0 keeps missing photos until they are purged by hand.
   */
  missingGraceDays: number
}

export const DEFAULT_SETTINGS: AppSettings = {
  topN: 10,
  minScore: null,
  suggestionCount: 10,
  theme: 'system',
  xmpRoot: null,
  xmpNaming: 'photo.jpg.xmp',
  watchFolders: false,
  missingGraceDays: 30
}

// ---------------------------------------------------------------------------------------------
// Events

export type ModelInstallPhase = 'download' | 'import' | 'done' | 'failed' | 'cancelled'

export interface ModelInstallProgress {
  /** Pack (or catalogue) name. */
  name: string
  phase: ModelInstallPhase
  /** The step in words, e.g. 'Downloading https://…' or 'Building the ONNX model'. */
  step: string | null
  done: number
  total: number | null
  unit: 'bytes' | 'items'
  ratePerSecond: number
  etaSeconds: number | null
  error?: ApiError
}

export type LibraryChange = 'folders' | 'photos' | 'tags' | 'model' | 'settings'

export type ApiEvent =
  | { type: 'indexing'; progress: IndexingProgress }
  | { type: 'model-install'; progress: ModelInstallProgress }
  | { type: 'library-changed'; change: LibraryChange }
  | { type: 'watch'; state: WatchState; folders: string[]; error?: ApiError }
  /** Something the user should know that is no error of a request (a folder went offline, …). */
  | { type: 'notice'; message: string }

export type ApiEventListener = (event: ApiEvent) => void

// ---------------------------------------------------------------------------------------------
// The API

/** The typed API the renderer talks to (IPC in Electron, HTTP in web mode). Every method is safe to call concurrently. */
export interface SdlTaggerApi {
  getStatus(): Promise<Result<EngineStatus>>

  listCatalog(): Promise<Result<ModelCatalog>>
  /** Downloads and imports a catalogue model; answers when installed, `model-install` events meanwhile. */
  installModel(name: string, options?: InstallModelOptions): Promise<Result<ModelInfo>>
  /** Stops a running install (a later install resumes the download). */
  cancelModelInstall(): Promise<Result<{ cancelled: boolean }>>
  /** Converts a local official checkpoint; `model-install` events (phase 'import') meanwhile. */
  importModel(request: ImportModelRequest): Promise<Result<ModelInfo>>
  activateModel(name: string): Promise<Result<ModelInfo>>
  removeModel(name: string): Promise<Result<{ removed: string }>>

  listFolders(): Promise<Result<FolderState[]>>
  addFolder(path: string): Promise<Result<FolderState>>
  removeFolder(path: string): Promise<Result<{ removed: string }>>
  /** Indexes one folder again (starts a run like startIndexing({ folder })). */
  rescanFolder(path: string): Promise<Result<IndexingProgress>>
  /** Starts indexing and answers at once with the run's first progress; `indexing` events follow to the end. */
  startIndexing(request?: IndexingRequest): Promise<Result<IndexingProgress>>
  /** Stops the running indexing after the batch in flight; false when none was running. */
  cancelIndexing(): Promise<Result<{ cancelled: boolean }>>
  /** The running (or last) indexing run's progress, for a window opened mid-run; null before any run. */
  getIndexing(): Promise<Result<IndexingProgress | null>>
  /** Starts or stops following the library folders for changes (also saved as the watchFolders setting). */
  setWatching(enabled: boolean): Promise<Result<{ state: WatchState }>>

  /** How many photos are missing (files gone, kept with their tags). */
  getMissing(): Promise<Result<MissingPhotos>>
  /** Forgets missing photos for good, with their tags; answers how many were forgotten. */
  purgeMissing(request?: PurgeMissingRequest): Promise<Result<{ purged: number; decisions: number }>>

  listPhotos(request: PhotoPageRequest): Promise<Result<PhotoPage>>
  search(query: string, options?: SearchRequestOptions): Promise<Result<ApiSearchResponse>>
  /** Completions of the last word of a query, from the lexicon (pack tags first, then frequent words). */
  complete(prefix: string, limit?: number): Promise<Result<Completion[]>>

  getPhoto(id: PhotoId, options?: PhotoDetailsOptions): Promise<Result<PhotoDetails>>
  acceptTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>>
  rejectTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>>
  /** A tag of the user's own: any word or phrase the lexicon knows. */
  addTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>>

  exportXmp(request: XmpExportRequest): Promise<Result<XmpExportReport>>

  getSettings(): Promise<Result<AppSettings>>
  updateSettings(patch: Partial<AppSettings>): Promise<Result<AppSettings>>
}

export type ApiMethod = keyof SdlTaggerApi

/** Every method of the contract, for the transports that forward them by name (IPC, HTTP, preload). */
export const API_METHODS = Object.keys({
  getStatus: 1,
  listCatalog: 1,
  installModel: 1,
  cancelModelInstall: 1,
  importModel: 1,
  activateModel: 1,
  removeModel: 1,
  listFolders: 1,
  addFolder: 1,
  removeFolder: 1,
  rescanFolder: 1,
  startIndexing: 1,
  cancelIndexing: 1,
  getIndexing: 1,
  setWatching: 1,
  getMissing: 1,
  purgeMissing: 1,
  listPhotos: 1,
  search: 1,
  complete: 1,
  getPhoto: 1,
  acceptTag: 1,
  rejectTag: 1,
  addTag: 1,
  exportXmp: 1,
  getSettings: 1,
  updateSettings: 1
} satisfies Record<ApiMethod, 1>) as ApiMethod[]

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as string[]).includes(name)
}

/** What `window.sdlTagger` is in Electron (and what the web-mode client builds): the API plus events. */
export interface SdlTaggerBridge extends SdlTaggerApi {
  /** Calls `listener` with every event until the returned function is called. */
  onEvent(listener: ApiEventListener): () => void
}

/** The IPC channel of each method (Electron: ipcRenderer.invoke(channel, ...args)). */
export function ipcChannel(method: ApiMethod): string {
  return `sdl:api:${method}`
}

/** The channel main sends every ApiEvent on (webContents.send). */
export const EVENT_CHANNEL = 'sdl:event'

// ---------------------------------------------------------------------------------------------
// Media (thumbnails and photos), served by photo id, never by path

export type MediaKind = 'thumb' | 'photo'

/** The custom protocol the Electron window loads media from. */
export const MEDIA_PROTOCOL = 'sdl-media'

export type Transport = 'electron' | 'web'

/** The URL of a photo's thumbnail or full image: `sdl-media://thumb/<id>` in Electron, `/media/thumb/<id>` in web mode. */
export function mediaUrl(kind: MediaKind, id: PhotoId, transport: Transport): string {
  return transport === 'electron' ? `${MEDIA_PROTOCOL}://${kind}/${id}` : `/media/${kind}/${id}`
}
