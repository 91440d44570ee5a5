import { createHash } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import type { IndexingSummary } from '../../../shared/api'
import { progressReporter, type Progress } from '../download/progress'
import { decodePhoto } from '../image/decodePhoto'
import { isRawFileName } from '../image/photoFiles'
import type { PhotoMetadata } from '../image/photoMetadata'
import { runBatch } from '../inference/embedPhotos'
import type { ModelSessions } from '../inference/modelSessions'
import { preparedBatches } from '../inference/preparedBatches'
import { isInside } from './folderPaths'
import type { ChangeBatch } from './folderWatcher'
import { describeFsError, scanFolder, type ScannedFile } from './folderScanner'
import type { ClaimablePhoto, FolderRow, KnownPhoto, LibraryStore, PhotoFacts, PhotoOutcome } from './libraryStore'

export interface IndexOptions {
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
  onNotice?: (message: string) => void
  batchSize?: number
}

/** The engine's name for what an index run did: the contract's type, so the window shows exactly it. */
export type IndexSummary = IndexingSummary

/** One unit of indexing work: plain data, so that it can be handed to the index worker. */
export type IndexJob = { kind: 'folders'; folderIds: readonly number[] } | { kind: 'changes'; batch: ChangeBatch }

/** Runs index jobs: the indexer itself, in this thread, or the index worker that runs one. */
export interface IndexRunner {
  run(job: IndexJob, opts: IndexOptions): Promise<IndexSummary>
  close(): Promise<void>
}

type Candidate = ScannedFile & { folderId: number }

type Prepared =
  { kind: 'decoded'; facts: PhotoFacts; details: PhotoMetadata; pixels: Float32Array; from?: ClaimablePhoto } | Exclude<PhotoOutcome, { kind: 'indexed' }> | { kind: 'vanished' }

/**
 * Brings the store in line with the disk, spending work only on what changed: an unchanged
 * file (same size and modification time, already indexed by the active model) is never read
 * again; a photo whose file is gone is kept as missing, never deleted; a file whose content the
 * library already has under a path that is gone (missing, or not yet seen as gone: any folder,
 * any order of runs) takes that record back, with its vectors and the user's decisions;
 * everything else is decoded, run through the model in batches, and written one batch per
 * transaction, so a crash or kill loses at most the batch in flight and a rerun picks up exactly
 * where it stopped.
 */
export class Indexer implements IndexRunner {
  constructor(
    private readonly store: LibraryStore,
    private readonly sessions: Pick<ModelSessions, 'session'>,
    /** Scores the new photos' best tags (the auto-tagger's scoreNewPhotos), after each batch. */
    private readonly autoTag: () => Promise<unknown>
  ) {}

  run(job: IndexJob, opts: IndexOptions = {}): Promise<IndexSummary> {
    const folders = this.store.folders()
    if (job.kind === 'changes') return this.applyChanges(job.batch, folders, opts)
    return this.indexFolders(
      folders.filter((f) => job.folderIds.includes(f.id)),
      opts
    )
  }

  async close(): Promise<void> {}

  /** Full reconciliation of the given folders with the disk. */
  async indexFolders(folders: readonly FolderRow[], opts: IndexOptions = {}): Promise<IndexSummary> {
    const summary = emptySummary()
    const { modelId } = await this.model()
    const queue: Candidate[] = []
    const scanned: FolderRow[] = []
    const gone = new Set<number>()
    for (const folder of folders) {
      if (!(await this.checkOnline(folder, opts))) {
        summary.offlineFolders.push(folder.path)
        continue
      }
      const scan = await scanFolder(folder.path, opts.signal).catch((err: unknown) => {
        if (opts.signal?.aborted) return null
        throw err
      })
      // Stopped while listing: what was found so far is kept as it is, nothing is marked missing.
      if (!scan) return { ...summary, cancelled: true }
      for (const skipped of scan.skippedFolders) opts.onNotice?.(`Skipped ${skipped.path}: ${skipped.reason}`)
      const known = this.store.knownPhotos(folder.id, modelId)
      for (const file of scan.files) {
        const before = known.get(file.path)
        known.delete(file.path)
        if (isUpToDate(before, file)) {
          summary.unchanged++
        } else {
          queue.push({ ...file, folderId: folder.id })
        }
      }
      summary.seen += scan.files.length + scan.unreadable.length
      const unreadable: PhotoOutcome[] = []
      for (const u of scan.unreadable) {
        const before = known.get(u.path)
        known.delete(u.path)
        if (before?.status === 'error') summary.unchanged++
        else unreadable.push({ kind: 'failed', facts: { path: u.path, folderId: folder.id, size: 0, mtimeMs: 0, fingerprint: '' }, reason: u.reason })
      }
      this.store.writeOutcomes(unreadable, modelId)
      summary.failed += unreadable.length
      // Before the new files are read, so that one of them with a gone photo's content finds it.
      for (const id of await this.markGone([...known.values()])) gone.add(id)
      scanned.push(folder)
    }
    await this.process(queue, summary, gone, opts)
    if (!summary.cancelled) for (const folder of scanned) this.store.markScanned(folder.id)
    return summary
  }

  /**
   * Applies a watcher's batch: new and changed files are indexed unless the store already has
   * them as they are, removed ones become missing (and are taken back by a file of the same
   * content: a move). Removals inside a folder that has itself disappeared (an unplugged drive)
   * only mark its photos offline.
   */
  async applyChanges(batch: ChangeBatch, folders: readonly FolderRow[], opts: IndexOptions = {}): Promise<IndexSummary> {
    const summary = emptySummary()
    const { modelId } = await this.model()
    const online = new Map<number, boolean>()
    const isOnline = async (folder: FolderRow) => {
      if (!online.has(folder.id)) online.set(folder.id, await this.checkOnline(folder, opts))
      if (!online.get(folder.id) && !summary.offlineFolders.includes(folder.path)) summary.offlineFolders.push(folder.path)
      return online.get(folder.id)!
    }
    const queue: Candidate[] = []
    for (const path of [...batch.added, ...batch.changed]) {
      const folder = owningFolder(folders, path)
      if (!folder || !(await isOnline(folder))) continue
      const s = await stat(path).catch(() => null)
      // Gone again before we got to it: a later batch reports the removal.
      if (!s) continue
      const candidate = { path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), folderId: folder.id }
      if (isUpToDate(this.store.photoByPath(path, modelId), candidate)) summary.unchanged++
      else queue.push(candidate)
    }
    const gone: KnownPhoto[] = []
    for (const path of batch.removed) {
      const known = this.store.photoByPath(path, modelId)
      const folder = folders.find((f) => f.id === known?.folderId)
      if (known && folder && (await isOnline(folder))) gone.push(known)
    }
    summary.seen = queue.length + summary.unchanged
    await this.process(queue, summary, new Set(await this.markGone(gone)), opts)
    return summary
  }

  /**
   * Marks as missing the photos whose files are gone, looking again first: what a scan or a
   * watcher's event said may be stale by now (a rename undone, a file put back). Returns their ids.
   */
  private async markGone(photos: readonly KnownPhoto[]): Promise<number[]> {
    const gone: KnownPhoto[] = []
    for (const photo of photos) if (!(await exists(photo.path))) gone.push(photo)
    return gone.length ? this.store.markMissing(gone) : []
  }

  private async model() {
    const { session, manifest } = await this.sessions.session()
    return { session, manifest, modelId: this.store.modelId(manifest) }
  }

  /** A folder that cannot be found goes offline with its photos kept; one that returns comes back. */
  private async checkOnline(folder: FolderRow, opts: IndexOptions): Promise<boolean> {
    const present = await stat(folder.path).then(
      (s) => s.isDirectory(),
      () => false
    )
    if (!present && !folder.offlineSince) {
      this.store.setFolderOffline(folder.id, true)
      opts.onNotice?.(`${folder.path} cannot be found (unplugged drive or renamed folder?): its photos are kept and marked offline`)
    } else if (present && folder.offlineSince) {
      this.store.setFolderOffline(folder.id, false)
      opts.onNotice?.(`${folder.path} is back: its photos are online again`)
    }
    return present
  }

  /**
   * Reads, fingerprints, decodes and embeds the queue in batches. A queued file whose content the
   * library already has under a path that is gone takes that record back (a move) instead. `gone`:
   * the photos this run found missing; those taken back by the end are counted as moved, the rest
   * as missing.
   */
  private async process(queue: Candidate[], summary: IndexSummary, gone: Set<number>, opts: IndexOptions): Promise<void> {
    summary.missing += gone.size
    if (!queue.length) return
    const { session, modelId } = await this.model()
    const report = progressReporter(opts.onProgress, { phase: 'index', unit: 'items' })
    const claimed = new Set<number>()
    const claim = async (facts: PhotoFacts): Promise<ClaimablePhoto | undefined> => {
      // The file's own record first (a file only touched), then the missing, then records whose
      // file is gone but not yet seen so (their folder not scanned yet, in this run or ever).
      const candidates = this.store.sameContent(facts.fingerprint, facts.size, modelId).sort((a, b) => rank(a, facts) - rank(b, facts))
      for (const c of candidates) {
        if (claimed.has(c.id)) continue
        claimed.add(c.id)
        if (c.missing || c.path === facts.path || !(await exists(c.path))) return c
        claimed.delete(c.id)
      }
      return undefined
    }

    let done = 0
    report(0, queue.length)
    try {
      for await (const prepared of preparedBatches(queue, opts.batchSize ?? 16, (c) => preparePhoto(c, claim), opts.signal)) {
        const decoded = prepared.filter((p): p is Extract<Prepared, { kind: 'decoded' }> => p.kind === 'decoded')
        const vectors = await runBatch(
          session,
          decoded.map((d) => d.pixels)
        )
        const outcomes: PhotoOutcome[] = []
        for (const p of prepared) {
          if (p.kind === 'decoded') outcomes.push({ kind: 'indexed', facts: p.facts, details: p.details, vectors: vectors[decoded.indexOf(p)], from: p.from })
          else if (p.kind !== 'vanished') outcomes.push(p)
        }
        const stale = this.store.writeOutcomes(outcomes, modelId)
        if (outcomes.some((o) => o.kind === 'indexed')) await this.suggestTags(summary)
        for (const o of outcomes) {
          if (o.kind === 'moved' && stale.includes(o)) continue
          summary[o.kind === 'indexed' ? 'indexed' : o.kind === 'moved' ? (isTouched(o) ? 'unchanged' : 'moved') : 'failed']++
          if (o.kind !== 'failed' && o.from && gone.delete(o.from.id)) summary.missing--
        }
        done += prepared.length
        report(done, queue.length, done === queue.length)
      }
    } catch (err) {
      if (!opts.signal?.aborted) throw err
      summary.cancelled = true
    }
  }

  /**
   * Auto-tags the photos just indexed (their best tags of the vocabulary, stored). A failure
   * here (say, word vectors that cannot be loaded) must not lose the indexing: it is reported
   * in the summary, and the scores are made later, when suggestions or search need them.
   */
  private async suggestTags(summary: IndexSummary): Promise<void> {
    if (summary.suggestionsError) return
    try {
      await this.autoTag()
    } catch (err) {
      summary.suggestionsError = err instanceof Error ? err.message : String(err)
    }
  }
}

async function preparePhoto(c: Candidate, claim: (facts: PhotoFacts) => Promise<ClaimablePhoto | undefined>): Promise<Prepared> {
  let content: FileContent
  try {
    content = await readContent(c.path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'vanished' }
    return { kind: 'failed', facts: { ...c, fingerprint: '' }, reason: describeFsError(err) }
  }
  // The size may have changed since the listing; the bytes we read are what gets recorded.
  const facts: PhotoFacts = { path: c.path, folderId: c.folderId, size: content.size, mtimeMs: c.mtimeMs, fingerprint: content.fingerprint }
  const from = await claim(facts)
  if (from?.hasVectors) return { kind: 'moved', from, facts }
  try {
    const { details, pixels } = await decodePhoto(c.path, content.bytes)
    return { kind: 'decoded', facts, details, pixels, from }
  } catch (err) {
    return { kind: 'failed', facts, reason: reasonOf(err) }
  }
}

type FileContent = { bytes?: Buffer; size: number; fingerprint: string }

/** Chunk size for hashing a camera RAW as it streams past. */
const HASH_CHUNK = 1 << 20

/**
 * The file's size and fingerprint, and its bytes where decoding needs them. A camera RAW's pixels
 * come from its embedded preview, which ExifTool reads from the file itself: its tens of megabytes
 * are hashed through one buffer instead of held, since allocating and keeping them for every RAW
 * in flight costs more CPU than the hashing.
 */
async function readContent(path: string): Promise<FileContent> {
  if (!isRawFileName(path)) {
    const bytes = await readFile(path)
    return { bytes, size: bytes.length, fingerprint: fingerprint(bytes) }
  }
  const file = await open(path)
  try {
    const hash = createHash('sha256')
    const chunk = Buffer.allocUnsafe(HASH_CHUNK)
    let size = 0
    for (let read; (read = (await file.read(chunk, 0, HASH_CHUNK)).bytesRead) > 0; size += read) hash.update(chunk.subarray(0, read))
    return { size, fingerprint: hash.digest('hex') }
  } finally {
    await file.close()
  }
}

/**
 * SHA-256 of the content. Synchronous on purpose: OpenSSL's SHA extensions hash a camera photo in
 * a fraction of the CPU time that WebCrypto's asynchronous digest takes for the same file.
 */
function fingerprint(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Whether the store already holds this file as it is on disk: same size and modification time,
 * and either embedded by the active model or known to be unreadable (retried only once it changes).
 */
function isUpToDate(known: KnownPhoto | undefined, file: ScannedFile): boolean {
  return Boolean(known && known.size === file.size && known.mtimeMs === file.mtimeMs && (known.status === 'error' || known.hasVectors))
}

/** A file found again where it was, its content the same (only its time changed): nothing moved. */
function isTouched(o: Extract<PhotoOutcome, { kind: 'moved' }>): boolean {
  return !o.from.missing && o.from.path === o.facts.path
}

/** Claim order: the record at the file's own path, then missing records, then the rest. */
function rank(c: ClaimablePhoto, facts: PhotoFacts): number {
  return c.path === facts.path && !c.missing ? 0 : c.missing ? 1 : 2
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT' && err.code !== 'ENOTDIR'
  )
}

function reasonOf(err: unknown): string {
  const e = err as Error & { why?: string }
  return e.why ?? e.message
}

function owningFolder(folders: readonly FolderRow[], path: string): FolderRow | undefined {
  return folders.find((f) => isInside(path, f.path))
}

function emptySummary(): IndexSummary {
  return { seen: 0, unchanged: 0, indexed: 0, moved: 0, failed: 0, missing: 0, removed: 0, offlineFolders: [], cancelled: false }
}
