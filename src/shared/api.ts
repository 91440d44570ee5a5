import type { ScoreScale } from './confidence'
import type { FolderInfo } from './library'
import type { ModelInfo, TagScore } from './models'
import type { SearchHit, SearchResponse } from './search'
import type { XmpFileChange, XmpSidecarChoice, XmpSidecarsFor } from './xmp'

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
  /** A query's unknown word and the near spellings the lexicon knows, which a window offers to search with instead. */
  didYouMean?: { word: string; suggestions: string[] }
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

export interface AddModelRequest {
  /** An ONNX pack file: an ONNX model that declares the SDL contract in its metadata (sdl.dim, sdl.rows, ...). */
  onnxPath: string
  /** Pack name (default: the file's name without `.onnx`). */
  name?: string
  /** A vocabulary folder in the official pickle format, for a model that brings none. */
  vocabDir?: string
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

export interface BrowseFolderRequest {
  /** The folder to list: the home folder when absent; `~` and paths relative to the home folder expand. */
  path?: string
  /** Also list the model files (`.onnx`, `.pth`) in it, for picking one. */
  files?: 'models'
}

export interface BrowseEntry {
  name: string
  kind: 'folder' | 'file'
  /** False where the user the engine runs as cannot open it. */
  readable: boolean
}

/** One folder's subfolders (hidden ones left out), as web mode's folder browser shows them: names only. */
export interface FolderListing {
  /** The folder's real absolute path. */
  path: string
  /** null at the top of the file system. */
  parent: string | null
  home: string
  entries: BrowseEntry[]
  /** Entries left out beyond the most one listing holds. */
  more: number
}

/** What importing the keywords photos already have found (XMP sidecars and the photos' own metadata). */
export interface KeywordImportReport {
  /** Photos looked at. */
  photos: number
  /** Photos that had at least one keyword. */
  withKeywords: number
  /** Keywords newly stored as the user's own. */
  imported: number
  /** Sidecars or photos that could not be read, with the reason. */
  skipped: PhotoError[]
}

export interface PhotoPageRequest {
  offset: number
  limit: number
  /** Only the photos of this library folder. */
  folder?: string
  /** 'date' (the default): newest capture first, then by path; 'path': by path. */
  sort?: PhotoSort
  /** Only the photos these date terms keep: a query of date terms alone, e.g. `year:2023 -after:2023-07`. */
  dates?: string
  /** Also answer the listing's month sections (date order only): the grid's headers. */
  sections?: boolean
}

export type PhotoSort = 'date' | 'path'

/** A month of the listing in date order: its photos are `count` consecutive entries from `start`. */
export interface PhotoSection {
  /** 'YYYY-MM' of the capture date. */
  month: string
  start: number
  count: number
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
  /** What the date order and date terms go by: takenAt's wall clock ('YYYY-MM-DDTHH:MM:SS'), else the file's modification time, local. */
  capturedAt: string | null
  status: 'ok' | 'error'
  offline: boolean
}

export interface PhotoPage {
  /** Photos in the library (of the folder asked for), for the grid's scroll height. */
  total: number
  offset: number
  /** In the order asked for, each ending in the path, so pages are stable while nothing changes. */
  photos: PhotoSummary[]
  /** Asked for with `sections`: every month of the whole listing, newest first. */
  sections?: PhotoSection[]
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
  order: SearchResponse['order']
  model: string
  /** Photos in the search index. */
  photos: number
  hits: ApiSearchHit[]
  /** Where the active model's scores become "likely" and "very likely"; null while no photo is scored. */
  scale: ScoreScale | null
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
  /** Where the active model's scores become "likely" and "very likely"; null while no photo is scored. */
  scale: ScoreScale | null
}

/** One of the photo's principal vectors (SDL's K=7 "facets"), described by its nearest words. */
export interface Facet {
  principalVector: number
  /** Length of the vector: how strongly this facet speaks. */
  norm: number
  nearestWords: Array<{ word: string; score: number }>
}

/** One file of a photo: a RAW shot as RAW+JPEG is one photo of two files. */
export interface PhotoFile {
  path: string
  size: number
  /** Whether the photo's pixels (its tags, thumbnail and view) come from this file. */
  shown: boolean
  /** Why it could not be read; null where it could. */
  reason: string | null
}

export interface PhotoDetails extends PhotoSummary {
  /** Its files: the photo's own (`path`) first, then the JPEG paired with a RAW. */
  files: PhotoFile[]
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
// Tagging many photos at once, and the history that undoes it

/** What a tagging action does: `remove-tag` forgets the photo's decision on the tag (it is not filed as rejected). */
export type TagAction = 'accept' | 'reject' | 'add-tag' | 'remove-tag'

export interface TagPhotosRequest {
  photos: PhotoId[]
  tag: string
  action: TagAction
}

/** One photo's tag before and after a step; null: the photo had no decision on it. */
export interface TagStepChange {
  photo: PhotoId
  path: string
  before: PhotoTagState | null
  after: PhotoTagState | null
}

/** One undoable tagging action: one tag, the photos it changed. */
export interface TagStep {
  action: TagAction
  tag: string
  /** When the action was taken. */
  at: string
  changes: TagStepChange[]
}

/** How many steps undo and redo can take (the history lives in the library, so every window and the CLI share it). */
export interface TagHistoryState {
  undo: number
  redo: number
}

export interface TagPhotosReport {
  /** The keyword as spelled (the first spelling given, if it existed already). */
  tag: string
  /** The step recorded; null when no photo changed (all had the tag in that state already, or none could take it). */
  step: TagStep | null
  /** Photos that had the tag in that state already. */
  unchanged: PhotoId[]
  /** Photos that could not take it, each with the reason; the others went on. */
  failed: Array<{ photo: PhotoId; path: string | null; reason: string; hint?: string }>
  history: TagHistoryState
}

export interface TagUndoReport {
  /** The step undone or redone, with the changes it put back; null when there was none to take. */
  step: TagStep | null
  /** Photos whose tag changed since the step (keywords imported from sidecars, say): left as they are. */
  kept: TagStepChange[]
  history: TagHistoryState
}

// ---------------------------------------------------------------------------------------------
// Review by tag: one tag's suggestions decided for many photos at once

/** A tag suggested for undecided photos (among each one's best suggestions, as the photo view lists them). */
export interface ReviewTag {
  tag: string
  /** Photos it is suggested for and that have no decision on it yet. */
  photos: number
  /** Its mean score over those photos. */
  meanScore: number
  /** Not among the tags the model was trained on (zero-shot). */
  unseen: boolean
  /** A keyword of the user's, suggested from the vector learned from this many of their photos. */
  learnedFrom?: number
}

export interface ReviewPageRequest {
  offset: number
  limit: number
}

export interface ReviewPhoto extends PhotoSummary {
  /** The tag's score for this photo. */
  score: number
}

/** One page of the photos a tag is suggested for, undecided, best first. */
export interface ReviewPage {
  tag: string
  total: number
  offset: number
  photos: ReviewPhoto[]
}

// ---------------------------------------------------------------------------------------------
// XMP export and settings

export interface XmpExportRequest {
  /** Only say what would be written. */
  dryRun: boolean
  /** Only these photos (and a RAW+JPEG pair's other half, which shares the sidecar); the whole library when absent. */
  photos?: PhotoId[]
  /** Suggested tags scoring below this are not exported (accepted and own tags always are). */
  minScore?: number
  /** Whom new sidecars are named for (default: the settings' xmpFor). */
  for?: XmpSidecarsFor
  /** Also write the keywords into JPEG, TIFF, DNG and HEIC files (default: the settings' xmpEmbed). */
  embed?: boolean
  /** A photo written into keeps its modification time (default: the settings' xmpKeepModified). */
  keepModified?: boolean
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
  /** Things to know that did not stop a sidecar, e.g. two photos sharing one, or which of a photo's two sidecars was used and why. */
  warnings?: string[]
  /** Photos with sidecars under both names: the one used and why. */
  choices?: XmpSidecarChoice[]
  /** With `embed`: the photo files written into (for a dry run: that would be) and those that needed nothing; failures are in `entries`. */
  embedded?: { written: number; unchanged: number; files: XmpFileChange[] }
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
  /**
   * Whom new sidecars are for: `photo.xmp` (Lightroom, Capture One) or `photo.ext.xmp` (darktable,
   * digiKam); `auto` names them as the folder's other sidecars are, else `photo.ext.xmp`. A photo's
   * existing sidecar is always the one updated.
   */
  xmpFor: XmpSidecarsFor
  /** Export also writes the keywords into JPEG, TIFF, DNG and HEIC files (metadata only, image data checked unchanged). */
  xmpEmbed: boolean
  /** A photo file written into keeps its modification time. */
  xmpKeepModified: boolean
  /** Follow the library folders for changes while the app runs. */
  watchFolders: boolean
  /**
   * Days a missing photo (its file gone) is kept, with its tags, before an indexing run forgets it;
   * 0 keeps missing photos until they are purged by hand.
   */
  missingGraceDays: number
  /** Advanced: the model's raw scores beside the plain words ("very likely"), and which tags it was trained on. */
  showScores: boolean
  /** Photo grids show each photo's file name under it; it is always the tile's tooltip and spoken name. */
  showFileNames: boolean
  /** About how wide the grids' thumbnails are, in CSS pixels (THUMBNAIL_SIZES); each row is stretched to fill the grid. */
  thumbnailSize: number
}

/** The thumbnail sizes the size control offers, in CSS pixels; past 320, the thumbnails made (image/thumbnails.ts) would be blown up. */
export const THUMBNAIL_SIZES = { min: 96, max: 320, step: 16 } as const

export const DEFAULT_SETTINGS: AppSettings = {
  topN: 10,
  minScore: null,
  suggestionCount: 10,
  theme: 'system',
  xmpRoot: null,
  xmpFor: 'auto',
  xmpEmbed: false,
  xmpKeepModified: false,
  watchFolders: false,
  missingGraceDays: 30,
  showScores: false,
  showFileNames: false,
  thumbnailSize: 176
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
  /** Adds an ONNX pack file as a pack; `model-install` events (phase 'import') meanwhile. */
  addModel(request: AddModelRequest): Promise<Result<ModelInfo>>
  activateModel(name: string): Promise<Result<ModelInfo>>
  removeModel(name: string): Promise<Result<{ removed: string }>>

  listFolders(): Promise<Result<FolderState[]>>
  addFolder(path: string): Promise<Result<FolderState>>
  removeFolder(path: string): Promise<Result<{ removed: string }>>
  /** A folder's subfolders, for picking a folder (or a model file) where the window cannot ask the system. */
  browseFolder(request?: BrowseFolderRequest): Promise<Result<FolderListing>>
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
  /** One action on one tag for many photos, in one transaction and one step of the tagging history. */
  tagPhotos(request: TagPhotosRequest): Promise<Result<TagPhotosReport>>
  /** Takes back the last tagging action (of any window or the CLI: the history is the library's). */
  undoTagging(): Promise<Result<TagUndoReport>>
  /** Applies again the tagging action undone last; a new action after an undo discards what redo would apply. */
  redoTagging(): Promise<Result<TagUndoReport>>
  /** The tags suggested for undecided photos, those suggested for the most photos first (ties: the higher mean score). */
  reviewTags(): Promise<Result<ReviewTag[]>>
  /** A page of the undecided photos `tag` is suggested for, best first. */
  reviewTag(tag: string, request: ReviewPageRequest): Promise<Result<ReviewPage>>

  exportXmp(request: XmpExportRequest): Promise<Result<XmpExportReport>>
  /** Stores the keywords the library's photos already have (sidecars and embedded) as the user's own tags. */
  importKeywords(): Promise<Result<KeywordImportReport>>

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
  addModel: 1,
  activateModel: 1,
  removeModel: 1,
  listFolders: 1,
  addFolder: 1,
  removeFolder: 1,
  browseFolder: 1,
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
  tagPhotos: 1,
  undoTagging: 1,
  redoTagging: 1,
  reviewTags: 1,
  reviewTag: 1,
  exportXmp: 1,
  importKeywords: 1,
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
