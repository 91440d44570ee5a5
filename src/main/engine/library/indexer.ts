import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import type { IndexingSummary } from '../../../shared/api'
import { progressReporter, type Progress } from '../download/progress'
import { decodePhoto } from '../image/decodePhoto'
import { isIgnoredEntryName, isPhotoFileName, isRawFileName } from '../image/photoFiles'
import type { PhotoMetadata } from '../image/photoMetadata'
import { runBatch } from '../inference/embedPhotos'
import type { ModelSessions } from '../inference/modelSessions'
import { preparedBatches } from '../inference/preparedBatches'
import { isInside } from './folderPaths'
import type { ChangeBatch } from './folderWatcher'
import { contentFingerprint, isWholeFileFingerprint, rawFingerprint, wholeFileFingerprint } from './fileFingerprint'
import { describeFsError, scanFolder, type ScannedFile } from './folderScanner'
import type { ClaimablePhoto, CompanionFile, FolderRow, KnownPhoto, LibraryStore, PhotoFacts, PhotoOutcome } from './libraryStore'
import { pairKey, pairUp, passedOverNotice, type PhotoUnit } from './photoPairs'

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

type Candidate = ScannedFile & {
  folderId: number
  /** The JPEG paired with this RAW. */
  companion?: ScannedFile
  regroup?: PhotoFacts['regroup']
  /** Said when the candidate is read: which of several same-named files paired. */
  notice?: string
}

type Prepared =
  { kind: 'decoded'; facts: PhotoFacts; details: PhotoMetadata; pixels: Float32Array; from?: ClaimablePhoto } | Exclude<PhotoOutcome, { kind: 'indexed' }> | { kind: 'vanished' }

/**
 * Brings the store in line with the disk, spending work only on what changed: an unchanged
 * file (same size and modification time, already indexed by the active model) is never read
 * again; a photo whose file is gone is kept as missing, never deleted; a file whose content the
 * library already has under a path that is gone (missing, or not yet seen as gone: any folder,
 * any order of runs) takes that record back, with its vectors and the user's decisions; a RAW
 * and the JPEG beside it of the same name are one photo (photoPairs.ts), whose record follows
 * the pair as its files come and go; everything else is decoded, run through the model in batches, and written one batch per
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
      const units = pairUp(scan.files)
      const unreadable: PhotoOutcome[] = []
      for (const u of scan.unreadable) {
        const before = known.get(u.path)
        known.delete(u.path)
        if (before?.status === 'error') summary.unchanged++
        else unreadable.push({ kind: 'failed', facts: { path: u.path, folderId: folder.id, size: 0, mtimeMs: 0, fingerprint: '' }, reason: u.reason })
      }
      const reconciled = reconcile(units, [...known.values()], folder.id)
      summary.unchanged += reconciled.unchanged
      queue.push(...reconciled.queue)
      for (const [path, row] of known) if (reconciled.matched.has(row.id)) known.delete(path)
      summary.seen += units.length + scan.unreadable.length
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
    // A RAW and its JPEG change together: every event is looked at with the files of its name.
    const groups = new Map<string, { folder: FolderRow; paths: string[] }>()
    for (const path of [...batch.added, ...batch.changed, ...batch.removed]) {
      const folder = owningFolder(folders, path)
      if (!folder || !(await isOnline(folder))) continue
      const key = pairKey(path) ?? path
      const group = groups.get(key)
      if (group) group.paths.push(path)
      else groups.set(key, { folder, paths: [path] })
    }
    const queue: Candidate[] = []
    const gone: KnownPhoto[] = []
    for (const [key, { folder, paths }] of groups) {
      // A file gone again before we got to it is left out: its removal is what remains.
      const files = pairKey(paths[0]) === null ? await filesAt([...new Set(paths)]) : await sameNamed(key, paths)
      const rows = this.store.photosByFiles([...paths, ...files.map((f) => f.path)], modelId)
      const reconciled = reconcile(pairUp(files), rows, folder.id)
      summary.unchanged += reconciled.unchanged
      queue.push(...reconciled.queue)
      gone.push(...rows.filter((r) => !reconciled.matched.has(r.id)))
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
    // Records a pair regroups are its own: no other file may take them meanwhile.
    const claimed = new Set(queue.flatMap((c) => (c.regroup ? [c.regroup.keep, ...c.regroup.fold] : [])))
    const claimByFingerprint = async (facts: PhotoFacts, fingerprint: string): Promise<ClaimablePhoto | undefined> => {
      // The file's own record first (a file only touched), then the missing, then records whose
      // file is gone but not yet seen so (their folder not scanned yet, in this run or ever).
      const candidates = this.store.sameContent(fingerprint, facts.size, modelId).sort((a, b) => rank(a, facts) - rank(b, facts))
      for (const c of candidates) {
        if (claimed.has(c.id)) continue
        claimed.add(c.id)
        if (c.missing || c.path === facts.path || !(await exists(c.path))) return c
        claimed.delete(c.id)
      }
      return undefined
    }
    let wholeFileRaws: ReturnType<LibraryStore['wholeFileRawsBySize']> | undefined
    // Files seen still there, asked once a run: only whether a full hash is worth reading hangs on it.
    const stillThere = new Set<string>()
    const mayBeGone = async (r: { id: number; path: string; missing: boolean }, facts: PhotoFacts) => {
      if (claimed.has(r.id)) return false
      if (r.missing || r.path === facts.path) return true
      if (stillThere.has(r.path)) return false
      if (!(await exists(r.path))) return true
      stillThere.add(r.path)
      return false
    }
    const claim = async (facts: PhotoFacts): Promise<ClaimablePhoto | undefined> => {
      const found = await claimByFingerprint(facts, facts.fingerprint)
      if (found || isWholeFileFingerprint(facts.fingerprint)) return found
      // A RAW recorded by an earlier release, by the hash of its whole file, is found by that hash,
      // read only where such a record of this size could be this file; taken, it gets the new fingerprint.
      wholeFileRaws ??= this.store.wholeFileRawsBySize()
      let worthHashing = false
      for (const r of wholeFileRaws.get(facts.size) ?? []) {
        worthHashing = await mayBeGone(r, facts)
        if (worthHashing) break
      }
      if (!worthHashing) return undefined
      const whole = await wholeFileFingerprint(facts.path).catch(() => undefined)
      return whole?.size === facts.size ? claimByFingerprint(facts, whole.fingerprint) : undefined
    }

    let done = 0
    report(0, queue.length)
    try {
      for await (const prepared of preparedBatches(queue, opts.batchSize ?? 16, (c) => preparePhoto(c, claim, opts.onNotice), opts.signal)) {
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

async function preparePhoto(c: Candidate, claim: (facts: PhotoFacts) => Promise<ClaimablePhoto | undefined>, notify?: (message: string) => void): Promise<Prepared> {
  const { companion: _companion, regroup, notice, ...file } = c
  let content: FileContent
  try {
    content = await readContent(c.path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'vanished' }
    return { kind: 'failed', facts: { ...file, fingerprint: '', regroup }, reason: describeFsError(err) }
  }
  if (notice) notify?.(notice)
  const companion = c.companion && (await readCompanion(c.companion))
  // The size may have changed since the listing; the bytes we read are what gets recorded.
  const facts: PhotoFacts = { path: c.path, folderId: c.folderId, size: content.size, mtimeMs: c.mtimeMs, fingerprint: content.fingerprint, companion: companion?.file, regroup }
  // A record taken back keeps its vectors only if they are of the same pixels: the same JPEG, or none.
  const from = regroup ? undefined : await claim(facts)
  if (from?.hasVectors && from.companionFingerprint === (companion?.bytes ? companion.file.fingerprint : null)) return { kind: 'moved', from, facts }
  if (companion?.bytes) {
    try {
      const { details, pixels } = await decodePhoto(companion.file.path, companion.bytes)
      // The photo is the RAW, shown and tagged by its JPEG.
      return { kind: 'decoded', facts, details: { ...details, format: extname(c.path).slice(1).toLowerCase() }, pixels, from }
    } catch (err) {
      companion.file.reason = reasonOf(err)
    }
  }
  if (companion?.file.reason) notify?.(`${companion.file.path} could not be read (${companion.file.reason}): the photo uses the preview inside ${basename(c.path)} instead`)
  try {
    const { details, pixels } = await decodePhoto(c.path, content.bytes)
    return { kind: 'decoded', facts, details, pixels, from }
  } catch (err) {
    const jpeg = companion ? ` (its JPEG ${basename(companion.file.path)} could not be read either: ${companion.file.reason})` : ''
    return { kind: 'failed', facts, reason: reasonOf(err) + jpeg }
  }
}

/** A RAW's JPEG, read; `bytes` undefined (and `file.reason` set) where it cannot be. */
async function readCompanion(file: ScannedFile): Promise<{ file: CompanionFile; bytes?: Buffer }> {
  try {
    const content = await readContent(file.path)
    return { file: { ...file, size: content.size, fingerprint: content.fingerprint, reason: null }, bytes: content.bytes }
  } catch (err) {
    return { file: { ...file, fingerprint: '', reason: describeFsError(err) } }
  }
}

/**
 * Sorts a scan's photos, in units of one RAW+JPEG pair or one file, by what they need, given the
 * records (`rows`) of their files. A unit's own record is the one at its file's path; a unit
 * without one takes a record of its other files (a JPEG indexed alone before its RAW came, a pair
 * whose RAW is gone), and any further such record gives it its decisions (regroup). `matched`:
 * the ids of the records the units took; the others' files are gone.
 */
function reconcile(units: Array<PhotoUnit<ScannedFile>>, rows: readonly KnownPhoto[], folderId: number): { unchanged: number; queue: Candidate[]; matched: Set<number> } {
  const byPath = new Map(rows.map((r) => [r.path, r]))
  const byCompanion = new Map(rows.flatMap((r) => (r.companion ? [[r.companion.path, r] as const] : [])))
  const matched = new Set<number>()
  const own = units.map((u) => {
    const row = byPath.get(u.file.path)
    if (row) matched.add(row.id)
    return row
  })
  const result = { unchanged: 0, queue: [] as Candidate[], matched }
  units.forEach((unit, i) => {
    const others = [unit.companion && byPath.get(unit.companion.path), byCompanion.get(unit.file.path), unit.companion && byCompanion.get(unit.companion.path)]
    const taken = [...new Set(others)].filter((r): r is KnownPhoto => r !== undefined && !matched.has(r.id))
    for (const r of taken) matched.add(r.id)
    const [keep, ...fold] = own[i] ? [own[i], ...taken] : taken
    const candidate: Candidate = { ...unit.file, folderId, companion: unit.companion, notice: passedOverNotice(unit) }
    if (keep && (keep.path !== unit.file.path || fold.length)) result.queue.push({ ...candidate, regroup: { keep: keep.id, fold: fold.map((r) => r.id) } })
    else if (isUpToDate(keep, unit.file) && sameCompanion(keep!.companion, unit.companion)) result.unchanged++
    else result.queue.push(candidate)
  })
  return result
}

function sameCompanion(known: CompanionFile | null, file: ScannedFile | undefined): boolean {
  return known === null ? file === undefined : known.path === file?.path && known.size === file.size && known.mtimeMs === file.mtimeMs
}

/** The photo files there are of these paths (a file gone since is left out). */
async function filesAt(paths: readonly string[]): Promise<ScannedFile[]> {
  const files: ScannedFile[] = []
  for (const path of paths) {
    const s = await stat(path).catch(() => null)
    if (s?.isFile()) files.push({ path, size: s.size, mtimeMs: Math.trunc(s.mtimeMs) })
  }
  return files
}

/** The RAW and JPEG files of one pair key: the events' paths and their folder's files of that name. */
async function sameNamed(key: string, paths: readonly string[]): Promise<ScannedFile[]> {
  const dir = dirname(paths[0])
  const names = await readdir(dir).catch(() => [] as string[])
  const siblings = names.filter((n) => !isIgnoredEntryName(n) && isPhotoFileName(n) && pairKey(join(dir, n)) === key).map((n) => join(dir, n))
  return filesAt([...new Set([...paths, ...siblings])])
}

type FileContent = { bytes?: Buffer; size: number; fingerprint: string }

/**
 * The file's size and fingerprint, and its bytes where decoding needs them. A camera RAW's pixels
 * come from its embedded preview, which ExifTool reads from the file itself: only the ends its
 * fingerprint samples are read here.
 */
async function readContent(path: string): Promise<FileContent> {
  if (isRawFileName(path)) return rawFingerprint(path)
  const bytes = await readFile(path)
  return { bytes, size: bytes.length, fingerprint: contentFingerprint(bytes) }
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
