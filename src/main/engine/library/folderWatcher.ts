import type { Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { type ChokidarOptions, type FSWatcher, watch } from 'chokidar'
import { SdlError } from '../errors'
import { isIgnoredEntryName, isPhotoFileName } from '../image/photoFiles'
import { isWithin } from './folderPaths'

/** Absolute paths of photo files. A rename or move is a `removed` + `added` pair in one batch. */
export interface ChangeBatch {
  added: string[]
  changed: string[]
  removed: string[]
}

export interface FolderWatcherOptions {
  /** Called after a quiet period, never with an empty batch. */
  onChanges: (batch: ChangeBatch) => void
  /** Plain sentences for the user: fell back to polling, a folder disappeared or came back. */
  onNotice?: (message: string) => void
  /** Errors from the file system or from `onChanges`; without it they are dropped. */
  onError?: (error: Error) => void
  /** Coalescing window: a batch is delivered once nothing has happened for this long. */
  quietMs?: number
  /** A file must keep the same size and mtime for this long before it is reported. */
  stabilityMs?: number
  /** Poll instead of using native events (network shares, where native events do not arrive). */
  usePolling?: boolean
  /** How often polled folders are scanned, and how often each watched folder is checked for being there. */
  pollIntervalMs?: number
  /** The millisecond clock that `stabilityMs` is measured on; tests hold theirs still to keep a slow write unsettled. */
  now?: () => number
}

/** Makes the chokidar watcher for one folder; tests pass their own to simulate a watch limit. */
export type WatcherFactory = (folder: string, options: ChokidarOptions) => FSWatcher

type ChangeKind = keyof ChangeBatch
type WriteKind = Exclude<ChangeKind, 'removed'>

/**
 * How a new event for a path folds into the one already pending for it within the window
 * (VS Code's rules). `null`: the two cancel out, as for a file created and deleted again.
 */
const FOLD: Record<ChangeKind, Record<ChangeKind, ChangeKind | null>> = {
  added: { added: 'added', changed: 'added', removed: null },
  changed: { added: 'changed', changed: 'changed', removed: 'removed' },
  removed: { added: 'changed', changed: 'changed', removed: 'removed' }
}

/**
 * Batches are held back at most this long while events keep coming, so that a long copy into a
 * watched folder reaches the indexer in chunks instead of all at the end.
 */
const MAX_BATCH_DELAY_MS = 10_000

const WATCH_LIMITS: Partial<Record<string, { reason: string; fix: string }>> = {
  ENOSPC: { reason: "ENOSPC: the system's inotify watch limit is reached", fix: 'Raising fs.inotify.max_user_watches fixes this.' },
  EMFILE: { reason: 'EMFILE: the limit on open files is reached', fix: 'Raising the open-file limit (ulimit -n) fixes this.' }
}

/** Folds the events of one window into at most one change per path. */
class ChangeCoalescer {
  private readonly pending = new Map<string, ChangeKind>()

  record(path: string, kind: ChangeKind): void {
    const before = this.pending.get(path)
    const folded = before ? FOLD[before][kind] : kind
    if (folded) this.pending.set(path, folded)
    else this.pending.delete(path)
  }

  drop(folder: string): void {
    for (const path of this.pending.keys()) if (isWithin(path, folder)) this.pending.delete(path)
  }

  /** The pending changes, emptied; null when there are none. */
  take(): ChangeBatch | null {
    if (!this.pending.size) return null
    const batch: ChangeBatch = { added: [], changed: [], removed: [] }
    for (const [path, kind] of this.pending) batch[kind].push(path)
    this.pending.clear()
    return batch
  }
}

interface PendingWrite {
  kind: WriteKind
  size: number
  mtimeMs: number
  steadySince: number
}

/**
 * Holds back added and changed files until their size and mtime have stayed the same for
 * `stabilityMs`, so a photo still being copied (slow USB drive, network share) is reported
 * once, complete. chokidar's own awaitWriteFinish is not used because it hides which paths are
 * pending: a renamed file's `add` would then arrive a whole stability period after its
 * `unlink`, in a later batch.
 */
class WriteSettler {
  private readonly pending = new Map<string, PendingWrite>()
  private timer?: NodeJS.Timeout
  private readonly checkEveryMs: number

  constructor(
    private readonly stabilityMs: number,
    private readonly onSettled: (path: string, kind: WriteKind) => void,
    private readonly onError: (error: Error) => void,
    private readonly now: () => number
  ) {
    this.checkEveryMs = Math.max(20, Math.min(250, stabilityMs / 4))
  }

  get size(): number {
    return this.pending.size
  }

  /** An added file followed by writes stays an addition: the first event's kind is kept. */
  wait(path: string, kind: WriteKind): void {
    const known = this.pending.get(path)
    if (known) known.steadySince = this.now()
    else this.pending.set(path, { kind, size: -1, mtimeMs: -1, steadySince: this.now() })
    this.timer ??= setTimeout(() => void this.check(), this.checkEveryMs)
  }

  /** Stops waiting for `path`; returns the kind it was waiting with, if any. */
  cancel(path: string): WriteKind | undefined {
    const kind = this.pending.get(path)?.kind
    this.pending.delete(path)
    return kind
  }

  drop(folder: string): void {
    for (const path of this.pending.keys()) if (isWithin(path, folder)) this.pending.delete(path)
  }

  close(): void {
    clearTimeout(this.timer)
    this.pending.clear()
  }

  private async check(): Promise<void> {
    await Promise.all([...this.pending].map(([path, write]) => this.checkOne(path, write)))
    this.timer = this.pending.size ? setTimeout(() => void this.check(), this.checkEveryMs) : undefined
  }

  private async checkOne(path: string, write: PendingWrite): Promise<void> {
    let stats: Stats
    try {
      stats = await stat(path)
    } catch (err) {
      // Deleted while being written: keep waiting, chokidar's `unlink` for it decides whether
      // anything is reported (nothing for a file that was never reported as added).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || this.pending.get(path) !== write) return
      this.pending.delete(path)
      return this.onError(new SdlError(`Cannot read ${path}: ${(err as Error).message}`))
    }
    if (this.pending.get(path) !== write) return // cancelled or restarted meanwhile
    const now = this.now()
    if (stats.size !== write.size || stats.mtimeMs !== write.mtimeMs) {
      Object.assign(write, { size: stats.size, mtimeMs: stats.mtimeMs, steadySince: now })
    } else if (now - write.steadySince >= this.stabilityMs) {
      this.pending.delete(path)
      this.onSettled(path, write.kind)
    }
  }
}

interface WatchedFolder {
  readonly root: string
  /** `dev:ino` of the folder while it is there; undefined while it is missing. */
  identity?: string
  watcher?: FSWatcher
  /** Resolves when the current watcher's initial crawl is done, or the watcher is stopped. */
  ready: Promise<void>
  releaseReady: () => void
  probeTimer?: NodeJS.Timeout
}

/**
 * Watches photo folders recursively and reports coalesced, stable changes to photo files.
 * One chokidar watcher per folder, so that a folder can move to polling, or be restarted when
 * it comes back, on its own.
 */
export class FolderWatcher {
  private readonly folders = new Map<string, WatchedFolder>()
  private readonly coalescer = new ChangeCoalescer()
  private readonly settler: WriteSettler
  private readonly quietMs: number
  private readonly pollIntervalMs: number
  /** Set once a folder hit the platform's watch limit: folders added later are polled from the start. */
  private watchLimitHit = false
  private quietTimer?: NodeJS.Timeout
  /** When the oldest change not yet delivered came in. */
  private batchStartedAt?: number
  private closed = false

  constructor(
    private readonly opts: FolderWatcherOptions,
    private readonly createWatcher: WatcherFactory = watch
  ) {
    this.quietMs = opts.quietMs ?? 500
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000
    this.settler = new WriteSettler(
      opts.stabilityMs ?? 1000,
      (path, kind) => {
        this.coalescer.record(path, kind)
        this.activity()
      },
      (error) => this.report(error),
      opts.now ?? Date.now
    )
  }

  get mode(): 'native' | 'polling' {
    return this.opts.usePolling || this.watchLimitHit ? 'polling' : 'native'
  }

  /**
   * Starts watching `folder` and resolves once its initial crawl is done. Photos already there
   * are not reported (the indexer scans on its own). A folder that is not there (a drive not
   * connected) is waited for, and its photos are reported as added when it appears.
   */
  async add(folder: string): Promise<void> {
    if (this.closed) throw new SdlError('The folder watcher is closed')
    const root = resolve(folder)
    let entry = this.folders.get(root)
    if (!entry) {
      entry = { root, ready: Promise.resolve(), releaseReady: () => {} }
      this.folders.set(root, entry)
      entry.identity = await folderIdentity(root)
      if (this.folders.get(root) !== entry) return // removed or closed while we looked
      if (entry.identity) this.startWatcher(entry, false)
      else this.notice(`${root} is not there (deleted, renamed, or on a drive that is not connected); it is watched as soon as it appears.`)
      this.scheduleProbe(entry)
    }
    // A watcher that falls back to polling during its crawl is replaced before it is ready:
    // wait for whichever one ends up in place.
    let ready: Promise<void> | undefined
    while (ready !== entry.ready) {
      ready = entry.ready
      await ready
    }
  }

  /** Stops watching `folder` and drops its changes not yet delivered. */
  async remove(folder: string): Promise<void> {
    const root = resolve(folder)
    const entry = this.folders.get(root)
    if (!entry) return
    this.folders.delete(root)
    this.settler.drop(root)
    this.coalescer.drop(root)
    await this.unwatch(entry)
  }

  /** Stops everything; changes not yet delivered are dropped (the indexer rescans on start). */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.quietTimer)
    this.settler.close()
    const entries = [...this.folders.values()]
    this.folders.clear()
    await Promise.all(entries.map((entry) => this.unwatch(entry)))
  }

  private startWatcher(entry: WatchedFolder, reportExisting: boolean): void {
    const watcher = this.createWatcher(entry.root, {
      ignoreInitial: !reportExisting,
      ignored: ignoredBelow(entry.root),
      usePolling: this.mode === 'polling',
      interval: this.pollIntervalMs,
      binaryInterval: this.pollIntervalMs,
      // Without chokidar's atomic-write handling, unlinks are emitted at once, before the
      // `unlinkDir` of a vanished root (with it they come 100 ms later). Replacements an editor
      // makes by unlink + add are folded into `changed` by the coalescer anyway.
      atomic: false,
      // An unreadable subfolder is skipped; the indexer's scan reports it.
      ignorePermissionErrors: true
    })
    entry.watcher = watcher
    entry.ready = new Promise((resolveReady) => {
      entry.releaseReady = resolveReady
      watcher.once('ready', () => {
        if (!watcher.options.usePolling) return resolveReady()
        // Polling takes each baseline with a stat that is still queued at 'ready': a change made
        // before it runs would be the starting state, never reported. A stat queued behind
        // those returns once they have run.
        void stat(entry.root).then(
          () => resolveReady(),
          () => resolveReady()
        )
      })
    })
    const on = (handler: (path: string) => void) => (path: string) => {
      if (entry.watcher === watcher) this.guard(() => handler(path))
    }
    watcher.on(
      'add',
      on((path) => this.fileEvent(path, 'added'))
    )
    watcher.on(
      'change',
      on((path) => this.fileEvent(path, 'changed'))
    )
    watcher.on(
      'unlink',
      on((path) => this.fileEvent(path, 'removed'))
    )
    // chokidar stops watching a root that vanished and does not notice its return; its photos'
    // unlinks came just before this.
    watcher.on(
      'unlinkDir',
      on((path) => {
        if (resolve(path) === entry.root) this.lost(entry)
      })
    )
    watcher.on('error', (error) => {
      if (entry.watcher === watcher) this.guard(() => this.watchError(entry, watcher, toError(error)))
    })
  }

  private fileEvent(path: string, kind: ChangeKind): void {
    if (!isPhotoFileName(basename(path))) return
    if (kind !== 'removed') this.settler.wait(path, kind)
    // A file deleted before it settled was never reported: nothing to remove.
    else if (this.settler.cancel(path) !== 'added') this.coalescer.record(path, 'removed')
    this.activity()
  }

  private watchError(entry: WatchedFolder, watcher: FSWatcher, error: Error): void {
    const limit = WATCH_LIMITS[(error as NodeJS.ErrnoException).code ?? '']
    if (!limit || watcher.options.usePolling) return this.report(new SdlError(`Watching ${entry.root} failed: ${error.message}`))
    // The limit is shared by the whole system or process: later folders start polled too.
    this.watchLimitHit = true
    this.notice(`Too many folders to watch natively (${limit.reason}); watching ${entry.root} by polling every ${this.pollIntervalMs / 1000} s instead. ${limit.fix}`)
    void this.stopWatcher(entry)
    this.startWatcher(entry, false)
  }

  /** The folder is gone: chokidar reported its known photos as removed (or had none). */
  private lost(entry: WatchedFolder): void {
    if (!entry.identity) return
    entry.identity = undefined
    this.notice(`${entry.root} is gone (deleted, renamed, or its drive was unmounted); its photos are reported as removed, and it is watched again when it comes back.`)
  }

  /**
   * Checks every poll interval that each folder is still the same folder: chokidar reports
   * nothing when a root without photos vanishes, and never notices a root coming back.
   */
  private scheduleProbe(entry: WatchedFolder): void {
    entry.probeTimer = setTimeout(() => {
      void this.probe(entry)
        .catch((err) => this.report(err))
        .finally(() => {
          if (this.folders.get(entry.root) === entry) this.scheduleProbe(entry)
        })
    }, this.pollIntervalMs)
  }

  private async probe(entry: WatchedFolder): Promise<void> {
    const identity = await folderIdentity(entry.root)
    if (this.folders.get(entry.root) !== entry || identity === entry.identity) return
    if (!identity) return this.lost(entry)
    // Back, or replaced by another folder of the same name between two checks.
    entry.identity = identity
    this.notice(`${entry.root} has appeared; its photos are reported as added.`)
    void this.stopWatcher(entry)
    this.startWatcher(entry, true)
  }

  private async unwatch(entry: WatchedFolder): Promise<void> {
    clearTimeout(entry.probeTimer)
    await this.stopWatcher(entry)
  }

  private async stopWatcher(entry: WatchedFolder): Promise<void> {
    const { watcher } = entry
    if (!watcher) return
    entry.watcher = undefined
    entry.releaseReady()
    const closing = watcher.close()
    // close() removes every listener, but a crawl still running can report an error after it,
    // and an EventEmitter with no 'error' listener throws.
    watcher.on('error', () => {})
    await closing.catch((err) => this.report(err))
  }

  /** Restarts the quiet window; a batch goes out when it ends, or when it has waited too long. */
  private activity(): void {
    this.batchStartedAt ??= Date.now()
    clearTimeout(this.quietTimer)
    const untilDeadline = this.batchStartedAt + MAX_BATCH_DELAY_MS - Date.now()
    this.quietTimer = setTimeout(() => this.flush(), Math.max(0, Math.min(this.quietMs, untilDeadline)))
  }

  private flush(): void {
    if (this.closed) return
    const deadline = (this.batchStartedAt ?? Date.now()) + MAX_BATCH_DELAY_MS
    // Wait for files still being written: the second half of a rename may be among them. Each
    // one that settles restarts the quiet window.
    if (this.settler.size && Date.now() < deadline) {
      this.quietTimer = setTimeout(() => this.flush(), deadline - Date.now())
      return
    }
    this.batchStartedAt = this.settler.size ? Date.now() : undefined
    const batch = this.coalescer.take()
    if (batch) this.guard(() => this.opts.onChanges(batch))
  }

  private notice(message: string): void {
    this.guard(() => this.opts.onNotice?.(message))
  }

  /** Runs a callback without letting anything it throws escape into chokidar or a timer. */
  private guard(work: () => void): void {
    try {
      work()
    } catch (err) {
      this.report(err)
    }
  }

  private report(error: unknown): void {
    try {
      this.opts.onError?.(toError(error))
    } catch {
      // onError itself failed: there is nowhere left to report to, and throwing would crash.
    }
  }
}

/**
 * chokidar's `ignored` test for one folder. Hidden and system folders are skipped here so that
 * chokidar does not even descend into them, and non-photo files so they cost no watch.
 */
function ignoredBelow(root: string): (path: string, stats?: Stats) => boolean {
  return (path, stats) => {
    if (resolve(path) === root) return false // the chosen folder is watched even if its name looks hidden
    const name = basename(path)
    return isIgnoredEntryName(name) || (stats?.isFile() === true && !isPhotoFileName(name))
  }
}

/** `dev:ino` of a directory, or undefined when there is none at `path`. */
async function folderIdentity(path: string): Promise<string | undefined> {
  try {
    const stats = await stat(path)
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined
  } catch {
    return undefined
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
