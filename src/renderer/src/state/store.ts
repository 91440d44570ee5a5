import { reactive } from 'vue'
import {
  type ApiError,
  type ApiEvent,
  type AppSettings,
  DEFAULT_SETTINGS,
  type EngineStatus,
  type FolderState,
  type IndexingProgress,
  type ModelCatalog,
  type ModelInstallProgress,
  type Result,
  type WatchState
} from '../../../shared/api'
import { api } from '../api/bridge'

export type View = 'library' | 'review' | 'folders' | 'model' | 'export' | 'settings'

export interface ShownError extends ApiError {
  id: number
  /** What the app was doing, e.g. "Adding the folder". */
  context: string
}

/** The window's shared state: what the engine reported last, kept current by its events. */
export const store = reactive({
  status: null as EngineStatus | null,
  /** Set when the engine could not be reached at all: the whole window says so. */
  fatal: null as ApiError | null,
  settings: { ...DEFAULT_SETTINGS } as AppSettings,
  folders: [] as FolderState[],
  foldersLoaded: false,
  catalog: null as ModelCatalog | null,
  indexing: null as IndexingProgress | null,
  modelInstall: null as ModelInstallProgress | null,
  watch: { state: 'off' as WatchState, error: null as ApiError | null },
  errors: [] as ShownError[],
  notices: [] as Array<{ id: number; message: string; action?: NoticeAction }>,
  view: 'library' as View,
  /** Bumped whenever the library's photos may have changed, so views reload what they show. */
  photosVersion: 0,
  tagsVersion: 0
})

let nextMessageId = 1

export function showError(context: string, error: ApiError): void {
  store.errors.push({ id: nextMessageId++, context, ...error })
}

export function dismissError(id: number): void {
  store.errors = store.errors.filter((e) => e.id !== id)
}

/** A button on a notice, e.g. Undo after a tagging action. */
export interface NoticeAction {
  label: string
  run: () => void
}

/** A message that goes away by itself; one with an action replaces the earlier ones with actions, whose moment has passed. */
export function showNotice(message: string, action?: NoticeAction): void {
  const id = nextMessageId++
  if (action) store.notices = store.notices.filter((n) => !n.action)
  store.notices.push(action ? { id, message, action } : { id, message })
  setTimeout(() => dismissNotice(id), action ? 12_000 : 8000)
}

export function dismissNotice(id: number): void {
  store.notices = store.notices.filter((n) => n.id !== id)
}

/** The value of a call, or null after showing its error (with what the app was doing) to the user. */
export async function attempt<T>(context: string, call: Promise<Result<T>>): Promise<T | null> {
  const result = await call
  if (result.ok) return result.value
  showError(context, result.error)
  return null
}

export async function refreshStatus(): Promise<void> {
  const result = await api.getStatus()
  if (result.ok) {
    store.status = result.value
    store.fatal = null
  } else store.fatal = result.error
}

export async function refreshFolders(): Promise<void> {
  const folders = await attempt('Reading the library folders', api.listFolders())
  if (folders) {
    store.folders = folders
    store.foldersLoaded = true
  }
}

export async function refreshCatalog(): Promise<void> {
  const catalog = await attempt('Reading the model packs', api.listCatalog())
  if (catalog) store.catalog = catalog
}

export async function refreshSettings(): Promise<void> {
  const settings = await attempt('Reading the settings', api.getSettings())
  if (settings) store.settings = settings
}

export async function updateSettings(patch: Partial<AppSettings>): Promise<void> {
  const settings = await attempt('Saving the settings', api.updateSettings(patch))
  if (settings) store.settings = settings
}

/**
 * The answer of a call that started (or joined) an indexing run: its first state, unless the run's
 * own events got here first. A run over unchanged photos can end before the answer arrives, and
 * its 'starting' snapshot would then stand for a run that is over, leaving the window "indexing".
 */
export function indexingStarted(progress: IndexingProgress): void {
  if (store.indexing && progress.runId <= store.indexing.runId) return
  store.indexing = progress
}

function onIndexing(progress: IndexingProgress): void {
  // A late event of an earlier run must not overwrite the current one.
  if (store.indexing && progress.runId < store.indexing.runId) return
  const ended = progress.phase !== 'starting' && progress.phase !== 'indexing'
  const wasRunning = store.indexing?.runId === progress.runId && !['done', 'cancelled', 'failed'].includes(store.indexing.phase)
  store.indexing = progress
  // Photos become searchable batch by batch; reload the grid at the end and now and then meanwhile.
  if (ended || progress.done % 64 === 0) store.photosVersion++
  if (ended && wasRunning) {
    void refreshFolders()
    void refreshStatus()
    // The run opened the model: the execution provider in use is known now.
    void refreshCatalog()
    if (progress.phase === 'failed' && progress.error) showError('Indexing', progress.error)
  }
}

function onEvent(event: ApiEvent): void {
  switch (event.type) {
    case 'indexing':
      return onIndexing(event.progress)
    case 'model-install':
      store.modelInstall = event.progress
      if (event.progress.phase === 'done') {
        void refreshStatus()
        void refreshCatalog()
      }
      return
    case 'library-changed':
      if (event.change === 'folders') void refreshFolders()
      if (event.change === 'photos') store.photosVersion++
      if (event.change === 'tags') store.tagsVersion++
      if (event.change === 'model') {
        void refreshStatus()
        void refreshCatalog()
        // Each folder's indexed count is the active model's.
        void refreshFolders()
        store.photosVersion++
      }
      if (event.change === 'settings') void refreshSettings()
      return
    case 'watch':
      store.watch = { state: event.state, error: event.error ?? null }
      if (event.error) showError('Following the folders', event.error)
      return
    case 'notice':
      return showNotice(event.message)
  }
}

let subscribed = false

/**
 * Loads what every view needs, all requests at once (the first paint waits for the slowest, not
 * their sum), and subscribes to the engine's events for the window's lifetime. When the engine
 * cannot be reached at all, the window says that once instead of one error per request.
 */
export async function startStore(): Promise<void> {
  if (!subscribed) {
    api.onEvent(onEvent)
    subscribed = true
  }
  const [settings, folders, catalog, indexing] = [api.getSettings(), api.listFolders(), api.listCatalog(), api.getIndexing()]
  await refreshStatus()
  if (store.fatal) return
  const report = async <T>(context: string, call: Promise<Result<T>>, apply: (value: T) => void) => {
    const value = await attempt(context, call)
    if (value !== null) apply(value)
  }
  await Promise.all([
    report('Reading the settings', settings, (v) => (store.settings = v)),
    report('Reading the library folders', folders, (v) => {
      store.folders = v
      store.foldersLoaded = true
    }),
    report('Reading the model packs', catalog, (v) => (store.catalog = v)),
    report('Reading the indexing state', indexing, (v) => v && onIndexing(v))
  ])
  // Even when the folders could not be read (the error says why), the window goes on.
  store.foldersLoaded = true
}

export function indexingRunning(): boolean {
  return !!store.indexing && (store.indexing.phase === 'starting' || store.indexing.phase === 'indexing')
}
