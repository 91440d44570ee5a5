import { existsSync, realpathSync, statSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { FolderInfo, LibraryStatus } from '../../../shared/library'
import { SdlError } from '../errors'
import type { ActivePack } from '../models/activePack'
import { thumbnailFileName } from './fileFingerprint'
import { findFolder, isInside, safeRealpath } from './folderPaths'
import { type ChangeBatch, FolderWatcher } from './folderWatcher'
import type { IndexJob, IndexOptions, IndexRunner, IndexSummary } from './indexer'
import type { FolderRow, LibraryStore, MissingPhoto } from './libraryStore'
import type { ReleaseLock, WriterLock } from '../store/lock'

/** What the library is built from (see Engine, the composition root). */
export interface LibraryParts {
  store: LibraryStore
  dataDir: string
  pack: Pick<ActivePack, 'manifest'>
  /** The indexer itself (in this thread), or the index worker's client. */
  indexer: IndexRunner
  /** Whether the indexer writes through a connection of its own (the index worker's). */
  indexesElsewhere: boolean
  /** Days a missing photo is kept before a whole indexing run forgets it; 0: never. */
  missingGraceDays: () => Promise<number>
  /** Taken while this process writes photos (indexing, watching, purging); null where another thread holds it for this one. */
  writerLock: Pick<WriterLock, 'acquire'> | null
}

export interface WatchOptions extends IndexOptions {
  /** Told after each batch of changes has been applied. */
  onApplied?: (batch: ChangeBatch, summary: IndexSummary) => void
  /** Told once every folder is being followed: changes from then on are seen. */
  onReady?: () => void
  usePolling?: boolean
}

/**
 * The photo library: folders, their photos and principal vectors, kept in SQLite at
 * `<data-dir>/library.sqlite`. One instance per process; the indexer and the watcher run
 * through it so that changes are applied one batch at a time. The indexing itself runs in the
 * index worker (unless the engine says this thread), so searches never queue behind it.
 */
export class Library {
  readonly store: LibraryStore
  private readonly indexer: IndexRunner
  /** Serialises index runs and watcher batches: they write the same rows. */
  private queue: Promise<unknown> = Promise.resolve()
  private pendingWrites = 0
  private releaseLock: ReleaseLock | null = null

  constructor(private readonly parts: LibraryParts) {
    this.store = parts.store
    this.indexer = parts.indexer
  }

  /** The library folder a path names (as typed, or through links). */
  folder(path: string): FolderRow | undefined {
    return findFolder(this.store, path)
  }

  addFolder(path: string): FolderInfo {
    const folder = canonicalFolder(path)
    for (const existing of this.store.folders()) {
      if (existing.path === folder) return this.folderInfo(folder)
      if (isInside(folder, existing.path)) throw new SdlError(`${folder} is already in the library, inside ${existing.path}`)
      if (isInside(existing.path, folder)) {
        throw new SdlError(`${folder} contains ${existing.path}, which is already in the library`, `Remove ${existing.path} first, then add ${folder}.`)
      }
    }
    this.store.addFolder(folder)
    return this.folderInfo(folder)
  }

  removeFolder(path: string): void {
    const row = this.folder(path)
    if (!row) {
      const folders = this.store.folders().map((f) => f.path)
      throw new SdlError(`${path} is not a library folder`, `Library folders: ${folders.join(', ') || 'none'}.`)
    }
    this.store.removeFolder(row.id)
  }

  folders(): FolderInfo[] {
    return this.store.folderInfos()
  }

  /**
   * Indexes every folder, or the one given (which must be a library folder). A whole run that
   * finished then forgets the photos missing for longer than the grace period.
   */
  index(folderPath?: string, opts: IndexOptions = {}): Promise<IndexSummary> {
    return this.serialised(async () => {
      const folders = this.store.folders()
      const chosen = folderPath ? folders.filter((f) => f.path === safeRealpath(folderPath)) : folders
      if (folderPath && !chosen.length) throw new SdlError(`${folderPath} is not a library folder`, 'Add it first with `sdl-tagger folders add`.')
      if (!folders.length) throw new SdlError('The library has no folders yet', 'Add one with `sdl-tagger folders add <folder>`.')
      const summary = await this.indexer.run({ kind: 'folders', folderIds: chosen.map((f) => f.id) }, opts)
      const graceDays = await this.parts.missingGraceDays()
      if (!summary.cancelled && graceDays > 0) summary.removed += this.purge(daysAgo(graceDays)).length
      return summary
    })
  }

  /** Photos whose files are gone (for longer than `olderThanDays`, when given), kept with their tags. */
  missingPhotos(olderThanDays?: number): MissingPhoto[] {
    return this.store.missingPhotos(olderThanDays === undefined ? undefined : daysAgo(olderThanDays))
  }

  /**
   * Forgets for good the photos missing for longer than `olderThanDays` (all of them when not
   * given), with their vectors and the decisions on them: the user's explicit purge. Returns the
   * photos forgotten.
   */
  purgeMissing(olderThanDays?: number): Promise<MissingPhoto[]> {
    return this.serialised(async () => this.purge(olderThanDays === undefined ? new Date() : daysAgo(olderThanDays)))
  }

  /** Applies a watcher's batch of changes (after any run or batch before it). */
  applyChanges(batch: ChangeBatch, opts: IndexOptions = {}): Promise<IndexSummary> {
    return this.run({ kind: 'changes', batch }, opts)
  }

  /** Runs an index job as it is: what the index worker asks of its own library. */
  run(job: IndexJob, opts: IndexOptions = {}): Promise<IndexSummary> {
    return this.serialised(() => this.indexer.run(job, opts))
  }

  /** Whether an index run or a watcher batch is writing or waiting to: search then answers from the index it has. */
  get isIndexing(): boolean {
    return this.pendingWrites > 0
  }

  async status(): Promise<LibraryStatus> {
    const manifest = await this.parts.pack.manifest().catch(() => null)
    return this.store.status(manifest ? this.store.modelId(manifest) : null)
  }

  /**
   * Reconciles every folder with the disk, then follows changes until `signal` aborts. New
   * photos are run through the active model as they arrive.
   */
  async watch(opts: WatchOptions = {}): Promise<void> {
    // Held for as long as the folders are followed: another process must not write meanwhile.
    const release = this.parts.writerLock?.acquire('watching')
    try {
      await this.follow(opts)
    } finally {
      release?.()
    }
  }

  private async follow(opts: WatchOptions): Promise<void> {
    await this.index(undefined, opts)
    const watcher = new FolderWatcher({
      usePolling: opts.usePolling,
      onNotice: opts.onNotice,
      onError: (err) => opts.onNotice?.(`Watcher error: ${err.message}`),
      onChanges: (batch) => {
        void this.applyChanges(batch, opts).then(
          (summary) => opts.onApplied?.(batch, summary),
          (err: Error) => opts.onNotice?.(`Could not apply changes: ${err.message}`)
        )
      }
    })
    try {
      for (const folder of this.store.folders()) await watcher.add(folder.path)
      opts.onReady?.()
      await new Promise<void>((resolveWait) => {
        if (opts.signal?.aborted) return resolveWait()
        opts.signal?.addEventListener('abort', () => resolveWait(), { once: true })
      })
    } finally {
      await watcher.close()
      await this.queue.catch(() => {})
    }
  }

  /**
   * The photo's thumbnail file, made on first request and cached under `<data-dir>/thumbnails`
   * by content fingerprint, so a renamed or moved photo keeps its thumbnail and an edited one
   * gets a new one.
   */
  async thumbnail(photoPath: string): Promise<string> {
    const photo = this.store.photoByPath(photoPath)
    if (!photo || photo.status !== 'ok') throw new SdlError(`${photoPath} is not an indexed photo of the library`)
    // A RAW+JPEG pair is shown by its JPEG, as it is tagged, unless the JPEG could not be read.
    const shown = photo.companion && !photo.companion.reason ? photo.companion : photo
    const file = join(this.parts.dataDir, 'thumbnails', thumbnailFileName(shown.fingerprint))
    if (!existsSync(file)) {
      await mkdir(dirname(file), { recursive: true })
      // sharp is loaded when a thumbnail is first made, not by every command that opens the library.
      const { writeThumbnail } = await import('../image/thumbnails')
      await writeThumbnail(await readFile(shown.path), file, { source: shown.path })
    }
    return file
  }

  /** Stops the index worker (cancelling its run); the database is closed by its owner after this. */
  async close(): Promise<void> {
    await this.indexer.close()
  }

  /** Purges the photos missing since before `before`, each only if it still is; returns those purged. */
  private purge(before: Date): MissingPhoto[] {
    const candidates = this.store.missingPhotos(before)
    if (!candidates.length) return []
    const purged = new Set(
      this.store.purgeMissing(
        candidates.map((p) => p.id),
        before
      )
    )
    return candidates.filter((p) => purged.has(p.id))
  }

  private folderInfo(path: string): FolderInfo {
    return this.store.folderInfos().find((f) => f.path === path)!
  }

  /**
   * Runs writes one after another. The writer lock is taken when the first is queued and given
   * back when the last ends, so a second process asked to write meanwhile is told who writes
   * (LibraryBusyError) instead of working from what this one is changing under it.
   */
  private serialised<T>(work: () => Promise<T>): Promise<T> {
    if (this.pendingWrites === 0) {
      try {
        this.releaseLock = this.parts.writerLock?.acquire('indexing') ?? null
      } catch (err) {
        return Promise.reject(err as Error)
      }
      if (this.parts.indexesElsewhere) this.store.mapForReading(false)
    }
    this.pendingWrites++
    const run = this.queue.then(work, work).finally(() => {
      if (--this.pendingWrites) return
      if (this.parts.indexesElsewhere) this.store.mapForReading(true)
      this.releaseLock?.()
      this.releaseLock = null
    })
    this.queue = run.catch(() => {})
    return run
  }
}

function daysAgo(days: number): Date {
  return new Date(Date.now() - days * 86_400_000)
}

/** The folder's real absolute path, so the same folder reached through a link is one folder. */
function canonicalFolder(path: string): string {
  let real: string
  try {
    real = realpathSync(resolve(path))
  } catch {
    throw new SdlError(`${path} does not exist`, 'Check the path, or connect the drive it is on.')
  }
  if (!statSync(real).isDirectory()) throw new SdlError(`${path} is not a folder`)
  return real
}
