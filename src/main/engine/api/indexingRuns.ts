import type { IndexingProgress, IndexingSummary, PhotoError } from '../../../shared/api'
import type { Progress } from '../download/progress'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { safeRealpath } from '../library/folderPaths'
import type { EventHub } from './eventHub'
import { toApiError } from './errors'
import { isInside } from '../library/folderPaths'

/** Unreadable photos listed in a run's last event; the folders panel (listFolders) has them all. */
export const MAX_LISTED_ERRORS = 1000

/**
 * One indexing run at a time, in the background: `start` answers at once, the run reports through
 * `indexing` events to its end (done, cancelled or failed), and `cancel` stops it after the batch
 * in flight (nothing indexed so far is lost; a later run continues where it stopped).
 */
export class IndexingRuns {
  private runId = 0
  private current: { progress: IndexingProgress; controller: AbortController; finished: Promise<void> } | null = null
  private last: IndexingProgress | null = null
  private starting: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub,
    /** Told when a run has changed the library (photos added, removed or moved). */
    private readonly onFinished: (progress: IndexingProgress) => void = () => {}
  ) {}

  get running(): boolean {
    return this.current !== null
  }

  /** The running run's progress, else the last run's, else null. */
  state(): IndexingProgress | null {
    return this.current?.progress ?? this.last
  }

  /** Waits for the running run (if any) to end. */
  async settled(): Promise<void> {
    await this.current?.finished
  }

  /**
   * Starts a run, or answers the running one when it covers the folder asked for. Starts are
   * taken one at a time: two asked at once would both find no run and start two.
   */
  start(folder?: string): Promise<IndexingProgress> {
    const started = this.starting.then(() => this.startNow(folder))
    this.starting = started.catch(() => {})
    return started
  }

  private async startNow(folder?: string): Promise<IndexingProgress> {
    const library = await this.engine.library()
    const chosen = folder === undefined ? null : safeRealpath(folder)
    if (this.current) {
      if (this.current.progress.folder === chosen || this.current.progress.folder === null) return this.current.progress
      throw new SdlError(`Indexing of ${this.current.progress.folder} is running`, 'Wait for it to finish, or cancel it, then start again.')
    }
    // The library's own checks (a folder, a model) fail here, before the run is announced.
    const folders = library.store.folders()
    if (!folders.length) throw new SdlError('The library has no folders yet', 'Add a photo folder first.')
    if (chosen !== null && !folders.some((f) => f.path === chosen)) throw new SdlError(`${folder} is not a library folder`, 'Add it first.')
    await this.engine.manifest()

    const controller = new AbortController()
    const progress: IndexingProgress = {
      runId: ++this.runId,
      folder: chosen,
      phase: 'starting',
      done: 0,
      total: null,
      photosPerSecond: 0,
      etaSeconds: null,
      currentPath: null,
      errors: []
    }
    const publish = (patch: Partial<IndexingProgress>) => {
      Object.assign(progress, patch)
      this.events.emit({ type: 'indexing', progress: { ...progress } })
    }
    const onProgress = (p: Progress) =>
      publish({ phase: 'indexing', done: p.done, total: p.total, photosPerSecond: p.ratePerSecond, etaSeconds: p.etaSeconds, currentPath: p.item ?? null })
    const errorsOfRun = async (): Promise<PhotoError[]> => {
      const { errors } = await library.status()
      return (chosen === null ? errors : errors.filter((e) => isInside(e.path, chosen))).slice(0, MAX_LISTED_ERRORS)
    }

    const finished = library
      .index(chosen ?? undefined, {
        signal: controller.signal,
        onProgress,
        onNotice: (message) => this.events.emit({ type: 'notice', message })
      })
      .then(
        async (summary) => {
          const done: IndexingSummary = { ...summary, offlineFolders: [...summary.offlineFolders] }
          const total = progress.total ?? summary.indexed + summary.moved + summary.failed
          publish({
            phase: summary.cancelled ? 'cancelled' : 'done',
            done: summary.cancelled ? progress.done : total,
            total,
            etaSeconds: summary.cancelled ? null : 0,
            currentPath: null,
            // The run itself succeeded; a failure to list its errors must not turn it into a failure.
            errors: await errorsOfRun().catch(() => []),
            summary: done
          })
        },
        (err: unknown) =>
          // Cancelled before the indexer's batches began (while scanning the folders).
          controller.signal.aborted
            ? publish({ phase: 'cancelled', etaSeconds: null, currentPath: null })
            : publish({ phase: 'failed', etaSeconds: null, currentPath: null, error: toApiError(err, this.engine.dataDir) })
      )
      .finally(() => {
        this.last = { ...progress }
        this.current = null
        this.onFinished(this.last)
      })
    this.current = { progress, controller, finished }
    publish({})
    return { ...progress }
  }

  cancel(): boolean {
    if (!this.current) return false
    this.current.controller.abort()
    return true
  }
}
