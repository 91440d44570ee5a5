import type { FolderInfo, LibraryStatus } from '../../../shared/library'
import { RAW_EXTENSIONS } from '../image/photoFiles'
import type { PhotoMetadata } from '../image/photoMetadata'
import type { PackManifest } from '../models/packManifest'
import { type LibraryDatabase, mapForReading } from './database'
import { RAW_FINGERPRINT_PREFIX } from './fileFingerprint'
import { decodePrincipalVectors, encodePrincipalVectors } from './float16'

export interface FolderRow {
  id: number
  path: string
  offlineSince: string | null
}

/** What the store knows about a photo file, for deciding whether it must be read again. */
export interface KnownPhoto {
  id: number
  path: string
  size: number
  mtimeMs: number
  fingerprint: string
  status: 'ok' | 'error'
  hasVectors: boolean
  /** The JPEG paired with this RAW, as last read (see photoPairs.ts); null for a photo of one file. */
  companion: CompanionFile | null
}

/** A RAW's JPEG as read: `reason` says why it could not be, the RAW's preview then standing in. */
export interface CompanionFile {
  path: string
  size: number
  mtimeMs: number
  fingerprint: string
  reason: string | null
}

export interface PhotoFacts {
  path: string
  folderId: number
  size: number
  mtimeMs: number
  fingerprint: string
  companion?: CompanionFile
  /**
   * Set where the files of this photo were other records until now (a JPEG indexed alone before
   * its RAW came, a pair whose RAW is gone): `keep` becomes the photo, at this path, and each of
   * `fold` gives it its decisions and is removed.
   */
  regroup?: { keep: number; fold: number[] }
}

/** A recorded photo that a file of the same content may be (see LibraryStore.sameContent). */
export interface ClaimablePhoto {
  id: number
  path: string
  size: number
  mtimeMs: number
  fingerprint: string
  missing: boolean
  /** Whether the model asked about has embedded it: else the file is decoded all the same. */
  hasVectors: boolean
  /** The fingerprint of the JPEG whose pixels its vectors are of, where it was a pair. */
  companionFingerprint: string | null
}

export interface MissingPhoto {
  id: number
  path: string
  missingSince: string
  /** The user's tag decisions on it (accepted, rejected, own), which a purge forgets. */
  decisions: number
}

/** One indexer outcome, written together with the others of its batch in one transaction. */
export type PhotoOutcome =
  /** `from`: the record of the same content this file takes back, which lacked the model's vectors. */
  | { kind: 'indexed'; facts: PhotoFacts; details: PhotoMetadata; vectors: Float32Array; from?: ClaimablePhoto }
  | { kind: 'failed'; facts: PhotoFacts; reason: string }
  /**
   * The content of a recorded photo, found at this path (renamed, moved, restored, or only
   * touched): the record takes the path and keeps its vectors and everything else.
   */
  | { kind: 'moved'; from: ClaimablePhoto; facts: PhotoFacts }

/**
 * Every read and write of the library database. Services hold the logic; this class holds the
 * SQL, so each statement is prepared once and every multi-row change is one transaction.
 */
export class LibraryStore {
  private counted: { modelId: number; version: string; count: number } | null = null

  constructor(readonly db: LibraryDatabase) {}

  /** Runs reads in one snapshot: another connection (the index worker's) may commit between two statements. */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read)()
  }

  /** See database.ts mapForReading. */
  mapForReading(on: boolean): void {
    if (this.db.open) mapForReading(this.db, on)
  }

  addFolder(path: string): FolderRow {
    this.db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING').run(path, new Date().toISOString())
    return this.folder(path)!
  }

  folder(path: string): FolderRow | undefined {
    return this.db.prepare('SELECT id, path, offline_since AS offlineSince FROM folders WHERE path = ?').get(path) as FolderRow | undefined
  }

  folders(): FolderRow[] {
    return this.db.prepare('SELECT id, path, offline_since AS offlineSince FROM folders ORDER BY path').all() as FolderRow[]
  }

  folderInfos(): FolderInfo[] {
    return this.db
      .prepare(
        `SELECT f.path, f.offline_since AS offlineSince, f.last_scan_at AS lastScanAt, COUNT(p.id) AS photos
         FROM folders f LEFT JOIN photos p ON p.folder_id = f.id AND p.missing_since IS NULL GROUP BY f.id ORDER BY f.path`
      )
      .all() as FolderInfo[]
  }

  /**
   * Takes a folder out of the library (not the files). Its photos stay, missing, with their
   * vectors and the user's decisions: adding the folder again (or finding the files elsewhere)
   * takes them back, and only a purge or the grace period forgets them.
   */
  removeFolder(id: number): void {
    this.db.transaction(() => {
      const gone = this.db.prepare('UPDATE photos SET missing_since = ?, offline = 0 WHERE folder_id = ? AND missing_since IS NULL').run(new Date().toISOString(), id)
      if (gone.changes) this.reshaped()
      // ON DELETE SET NULL detaches the photos.
      this.db.prepare('DELETE FROM folders WHERE id = ?').run(id)
    })()
  }

  /** Marks a folder and its photos offline (or back online), keeping everything else. */
  setFolderOffline(id: number, offline: boolean): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE folders SET offline_since = ? WHERE id = ?').run(offline ? new Date().toISOString() : null, id)
      this.db.prepare('UPDATE photos SET offline = ? WHERE folder_id = ? AND missing_since IS NULL').run(offline ? 1 : 0, id)
    })()
  }

  markScanned(id: number): void {
    this.db.prepare('UPDATE folders SET last_scan_at = ? WHERE id = ?').run(new Date().toISOString(), id)
  }

  /** Every photo of a folder that is there (not missing), keyed by path, with whether it has vectors from `modelId`. */
  knownPhotos(folderId: number, modelId: number): Map<string, KnownPhoto> {
    const rows = this.db
      .prepare(`SELECT ${KNOWN_COLUMNS} FROM photos p LEFT JOIN photo_companions c ON c.photo_id = p.id WHERE p.folder_id = ? AND p.missing_since IS NULL`)
      .all(modelId, folderId) as KnownRow[]
    return new Map(rows.map((r) => [r.path, toKnown(r)]))
  }

  /** The photo at a path (not a missing one that was there); `hasVectors` says whether `modelId` has embedded it. */
  photoByPath(path: string, modelId = -1): (KnownPhoto & { folderId: number }) | undefined {
    const row = this.db
      .prepare(`SELECT ${KNOWN_COLUMNS} FROM photos p LEFT JOIN photo_companions c ON c.photo_id = p.id WHERE p.path = ? AND p.missing_since IS NULL`)
      .get(modelId, path) as KnownRow | undefined
    return row && toKnown(row)
  }

  /** The photo a file belongs to: the one at its path, or the RAW it is the JPEG of. */
  photoByFile(path: string, modelId = -1): (KnownPhoto & { folderId: number }) | undefined {
    return this.photoByPath(path, modelId) ?? this.photosByFiles([path], modelId)[0]
  }

  /** The photos there whose own file or paired JPEG is one of `paths`, in id order. */
  photosByFiles(paths: readonly string[], modelId = -1): Array<KnownPhoto & { folderId: number }> {
    const rows = this.db
      .prepare(
        `SELECT ${KNOWN_COLUMNS} FROM photos p LEFT JOIN photo_companions c ON c.photo_id = p.id
         WHERE p.missing_since IS NULL AND (p.path IN (SELECT value FROM json_each(@paths)) OR c.path IN (SELECT value FROM json_each(@paths))) ORDER BY p.id`
      )
      .all(modelId, { paths: JSON.stringify(paths) }) as KnownRow[]
    return rows.map(toKnown)
  }

  /**
   * Records a file of this content could be the same photo as: the missing ones first (most
   * recently gone first), then those still recorded at a path, whose file the caller must find
   * gone before taking them (a copy is a photo of its own). Photos of offline folders are left
   * out: their files are only out of reach.
   */
  sameContent(fingerprint: string, size: number, modelId: number): ClaimablePhoto[] {
    const rows = this.db
      .prepare(
        `SELECT p.id, p.path, p.size, p.mtime_ms AS mtimeMs, p.fingerprint, p.missing_since AS missingSince,
                EXISTS (SELECT 1 FROM principal_vectors v WHERE v.photo_id = p.id AND v.model_id = ?) AS hasVectors,
                (SELECT c.fingerprint FROM photo_companions c WHERE c.photo_id = p.id AND c.reason IS NULL) AS companionFingerprint
         FROM photos p LEFT JOIN folders f ON f.id = p.folder_id
         WHERE p.fingerprint = ? AND p.size = ? AND p.status = 'ok' AND (p.missing_since IS NOT NULL OR f.offline_since IS NULL)
         ORDER BY p.missing_since IS NULL, p.missing_since DESC, p.id`
      )
      .all(modelId, fingerprint, size) as Array<Omit<ClaimablePhoto, 'missing' | 'hasVectors'> & { missingSince: string | null; hasVectors: number }>
    return rows.map(({ missingSince, hasVectors, ...r }) => ({ ...r, missing: missingSince !== null, hasVectors: Boolean(hasVectors) }))
  }

  /**
   * The camera RAWs a file could take back (as sameContent would find them) whose fingerprint is
   * the SHA-256 of their whole file, as an earlier release recorded every RAW, by size: a RAW's
   * fingerprint now samples its file (fileFingerprint.ts), so these are found again only by
   * hashing the whole file, which is worth it only where one of them could be the file.
   */
  wholeFileRawsBySize(): Map<number, Array<{ id: number; path: string; missing: boolean }>> {
    const rows = this.db
      .prepare(
        `SELECT p.id, p.path, p.size, p.missing_since IS NOT NULL AS missing FROM photos p LEFT JOIN folders f ON f.id = p.folder_id
         WHERE p.fingerprint NOT LIKE @sampled AND p.status = 'ok' AND (p.missing_since IS NOT NULL OR f.offline_since IS NULL)
           AND (${RAW_EXTENSIONS.map((_, i) => `p.path LIKE @ext${i}`).join(' OR ')})`
      )
      .all({ sampled: `${RAW_FINGERPRINT_PREFIX}%`, ...Object.fromEntries(RAW_EXTENSIONS.map((ext, i) => [`ext${i}`, `%.${ext}`])) }) as Array<{
      id: number
      path: string
      size: number
      missing: number
    }>
    const bySize = new Map<number, Array<{ id: number; path: string; missing: boolean }>>()
    for (const { size, missing, ...r } of rows) bySize.set(size, [...(bySize.get(size) ?? []), { ...r, missing: missing === 1 }])
    return bySize
  }

  /**
   * Marks photos whose files are gone as missing, each only if its row is still as the caller saw
   * it (same path, size and time, not missing): a photo moved, changed or taken back since is left
   * alone. Returns the ids marked.
   */
  markMissing(photos: readonly KnownPhoto[]): number[] {
    const mark = this.db.prepare('UPDATE photos SET missing_since = ? WHERE id = ? AND path = ? AND size = ? AND mtime_ms = ? AND missing_since IS NULL')
    const now = new Date().toISOString()
    const marked: number[] = []
    this.db.transaction(() => {
      for (const p of photos) if (mark.run(now, p.id, p.path, p.size, p.mtimeMs).changes) marked.push(p.id)
      if (marked.length) this.reshaped()
    })()
    return marked
  }

  /** Photos gone missing (before `before`, when given), with their folder and when they went. */
  missingPhotos(before?: Date): MissingPhoto[] {
    return this.db
      .prepare(
        `SELECT p.id, p.path, p.missing_since AS missingSince, (SELECT COUNT(*) FROM photo_tags t WHERE t.photo_id = p.id) AS decisions
         FROM photos p WHERE p.missing_since IS NOT NULL ${before ? 'AND p.missing_since <= ?' : ''} ORDER BY p.path`
      )
      .all(...(before ? [before.toISOString()] : [])) as MissingPhoto[]
  }

  /**
   * Forgets missing photos for good, with their vectors and the decisions on them: only rows still
   * missing since no later than `before` (one found again meanwhile is kept). Returns the ids purged.
   */
  purgeMissing(ids: readonly number[], before: Date): number[] {
    const purge = this.db.prepare('DELETE FROM photos WHERE id = ? AND missing_since IS NOT NULL AND missing_since <= ?')
    const purged: number[] = []
    this.db.transaction(() => {
      for (const id of ids) if (purge.run(id, before.toISOString()).changes) purged.push(id)
      if (purged.length) this.reshaped()
    })()
    return purged
  }

  /** Changes with every change that is not an addition of photos (see library_state). */
  reshapeCount(): number {
    return (this.db.prepare("SELECT value FROM library_state WHERE key = 'reshaped'").get() as { value: number }).value
  }

  private reshaped(): void {
    this.db.prepare("UPDATE library_state SET value = value + 1 WHERE key = 'reshaped'").run()
  }

  /** The model's row, created on first use; a replaced pack (new weights) gets a new row. */
  modelId(manifest: PackManifest): number {
    // Looked up on every search: a write (even one that changes nothing) only when the row is new.
    const existing = this.db.prepare('SELECT id FROM models WHERE name = ? AND model_sha256 = ?').get(manifest.name, manifest.modelSha256) as { id: number } | undefined
    if (existing) return existing.id
    this.db
      .prepare('INSERT INTO models (name, model_sha256, dim, rows) VALUES (?, ?, ?, ?) ON CONFLICT(name, model_sha256) DO NOTHING')
      .run(manifest.name, manifest.modelSha256, manifest.dim, manifest.rows)
    return (this.db.prepare('SELECT id FROM models WHERE name = ? AND model_sha256 = ?').get(manifest.name, manifest.modelSha256) as { id: number }).id
  }

  /**
   * Writes a batch of outcomes atomically: after a crash, a photo is either fully recorded or not at
   * all. Returns the moves that did not apply because their record had changed since it was
   * claimed (their files are indexed on the next run).
   */
  writeOutcomes(outcomes: readonly PhotoOutcome[], modelId: number): Array<Extract<PhotoOutcome, { kind: 'moved' }>> {
    const now = new Date().toISOString()
    const upsert = this.db.prepare(
      `INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, format, width, height, orientation, taken_at, camera, status, reason, offline, indexed_at)
       VALUES (@folderId, @path, @size, @mtimeMs, @fingerprint, @format, @width, @height, @orientation, @takenAt, @camera, @status, @reason, 0, @now)
       ON CONFLICT(path) WHERE missing_since IS NULL DO UPDATE SET folder_id = excluded.folder_id, size = excluded.size, mtime_ms = excluded.mtime_ms,
         fingerprint = excluded.fingerprint, format = excluded.format, width = excluded.width, height = excluded.height,
         orientation = excluded.orientation, taken_at = excluded.taken_at, camera = excluded.camera, status = excluded.status,
         reason = excluded.reason, offline = 0, indexed_at = excluded.indexed_at
       RETURNING id`
    )
    const clearVectors = this.db.prepare('DELETE FROM principal_vectors WHERE photo_id = ?')
    const clearScores = this.db.prepare('DELETE FROM vocabulary_scores WHERE photo_id = ?')
    const putVectors = this.db.prepare('INSERT OR REPLACE INTO principal_vectors (photo_id, model_id, vectors) VALUES (?, ?, ?)')
    // Only a record still as it was claimed moves: one moved, changed or purged meanwhile stays.
    const move = this.db.prepare(
      `UPDATE photos SET path = @path, folder_id = @folderId, size = @size, mtime_ms = @mtimeMs, fingerprint = @fingerprint, offline = 0, missing_since = NULL, indexed_at = @now
       WHERE id = @id AND path = @fromPath AND fingerprint = @fromFingerprint AND (missing_since IS NULL) = @wasPresent`
    )
    // A photo whose file another's content replaced is gone, not deleted: it waits, missing.
    const displace = this.db.prepare('UPDATE photos SET missing_since = @now WHERE path = @path AND id != @id AND missing_since IS NULL')
    const putDetails = this.db.prepare(
      `UPDATE photos SET format = @format, width = @width, height = @height, orientation = @orientation, taken_at = @takenAt, camera = @camera,
         status = 'ok', reason = NULL WHERE id = @id`
    )
    const clearModelScores = this.db.prepare('DELETE FROM vocabulary_scores WHERE photo_id = ? AND model_id = ?')
    const takeBack = (facts: PhotoFacts, from: ClaimablePhoto): boolean => {
      displace.run({ path: facts.path, id: from.id, now })
      // The fingerprint is the file's as read now: a RAW found by its earlier, whole-file form takes the sampled one.
      const moved = move.run({ ...facts, id: from.id, fromPath: from.path, fromFingerprint: from.fingerprint, wasPresent: from.missing ? 0 : 1, now }).changes > 0
      if (moved && (from.missing || from.path !== facts.path)) this.reshaped()
      if (moved) setCompanion(from.id, facts.companion)
      return moved
    }
    const dropCompanion = this.db.prepare('DELETE FROM photo_companions WHERE photo_id = ?')
    const putCompanion = this.db.prepare(
      'INSERT INTO photo_companions (photo_id, path, size, mtime_ms, fingerprint, reason) VALUES (@id, @path, @size, @mtimeMs, @fingerprint, @reason)'
    )
    const setCompanion = (id: number, companion: CompanionFile | undefined) => {
      dropCompanion.run(id)
      if (companion) putCompanion.run({ ...companion, id })
    }
    // The later of two decisions on the same tag wins: it is what the user meant last.
    const mergeDecisions = this.db.prepare(
      `INSERT INTO photo_tags (photo_id, tag, state, created_at, source)
       SELECT @keep, tag, state, created_at, source FROM photo_tags WHERE photo_id = @fold
       ON CONFLICT (photo_id, tag) DO UPDATE SET state = excluded.state, created_at = excluded.created_at, source = excluded.source
       WHERE excluded.created_at > photo_tags.created_at`
    )
    const dropPhoto = this.db.prepare('DELETE FROM photos WHERE id = ? AND missing_since IS NULL')
    const relocate = this.db.prepare('UPDATE photos SET path = @path WHERE id = @id AND missing_since IS NULL')
    const regroup = ({ path, regroup: group }: PhotoFacts) => {
      if (!group) return
      for (const fold of group.fold) {
        if (fold === group.keep) continue
        mergeDecisions.run({ keep: group.keep, fold })
        dropPhoto.run(fold)
      }
      displace.run({ path, id: group.keep, now })
      relocate.run({ path, id: group.keep })
      this.reshaped()
    }
    const noDetails = { format: null, width: null, height: null, orientation: null, takenAt: null, camera: null }
    const stale: Array<Extract<PhotoOutcome, { kind: 'moved' }>> = []
    this.db.transaction(() => {
      for (const o of outcomes) {
        if (o.kind === 'moved') {
          if (!takeBack(o.facts, o.from)) stale.push(o)
          continue
        }
        if (o.kind === 'indexed' && o.from && takeBack(o.facts, o.from)) {
          // Same content: other models' vectors still describe it; this model's are new.
          putDetails.run({ ...o.details, id: o.from.id })
          clearModelScores.run(o.from.id, modelId)
          putVectors.run(o.from.id, modelId, encodePrincipalVectors(o.vectors))
          continue
        }
        regroup(o.facts)
        const details = o.kind === 'indexed' ? o.details : noDetails
        const { id } = upsert.get({
          ...o.facts,
          ...details,
          status: o.kind === 'indexed' ? 'ok' : 'error',
          reason: o.kind === 'failed' ? o.reason : null,
          now
        }) as { id: number }
        // Vectors of other models describe the old content of a changed file.
        clearVectors.run(id)
        clearScores.run(id)
        setCompanion(id, o.facts.companion)
        if (o.kind === 'indexed') putVectors.run(id, modelId, encodePrincipalVectors(o.vectors))
      }
    })()
    return stale
  }

  /**
   * How many photos `modelId` has embedded: the size of its search index. Search asks on every query, and counting a large
   * library's rows is a noticeable part of one, so the count is kept until the database changes: data_version moves when another
   * connection (the index worker's) commits, total_changes() when this one writes.
   */
  embeddedCount(modelId: number): number {
    const version = `${this.db.pragma('data_version', { simple: true })}:${(this.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n}`
    if (this.counted?.modelId !== modelId || this.counted.version !== version) {
      const count = (
        this.db.prepare('SELECT COUNT(*) AS n FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND p.missing_since IS NULL').get(modelId) as {
          n: number
        }
      ).n
      this.counted = { modelId, version, count }
    }
    return this.counted.count
  }

  /** Every photo there (not missing) that `modelId` has embedded (with an id above `afterId`), in photo id order, without the vectors. */
  embeddedPhotoList(modelId: number, afterId = 0): Array<{ id: number; path: string; offline: boolean }> {
    const rows = this.db
      .prepare(
        'SELECT p.id, p.path, p.offline FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND v.photo_id > ? AND p.missing_since IS NULL ORDER BY v.photo_id'
      )
      .all(modelId, afterId) as Array<{ id: number; path: string; offline: number }>
    return rows.map((r) => ({ id: r.id, path: r.path, offline: r.offline === 1 }))
  }

  /** Paths of the library's photos that are there (of one folder, or all), by photo id. */
  photoPaths(folderId?: number): Map<number, string> {
    const rows = (
      folderId === undefined
        ? this.db.prepare('SELECT id, path FROM photos WHERE missing_since IS NULL').all()
        : this.db.prepare('SELECT id, path FROM photos WHERE folder_id = ? AND missing_since IS NULL').all(folderId)
    ) as Array<{ id: number; path: string }>
    return new Map(rows.map((r) => [r.id, r.path]))
  }

  /** One photo's principal vectors for `modelId`, or undefined when it has none. */
  photoVectors(photoId: number, modelId: number): Float32Array | undefined {
    const row = this.db.prepare('SELECT vectors FROM principal_vectors WHERE photo_id = ? AND model_id = ?').get(photoId, modelId) as { vectors: Buffer } | undefined
    return row && decodePrincipalVectors(row.vectors)
  }

  /** Several photos' principal vectors for `modelId`, by photo id (those without any are left out), in one query. */
  photosVectors(photoIds: readonly number[], modelId: number): Map<number, Float32Array> {
    const rows = this.db
      .prepare('SELECT photo_id AS id, vectors FROM principal_vectors WHERE model_id = ? AND photo_id IN (SELECT value FROM json_each(?))')
      .all(modelId, JSON.stringify(photoIds)) as Array<{ id: number; vectors: Buffer }>
    return new Map(rows.map((r) => [r.id, decodePrincipalVectors(r.vectors)]))
  }

  /**
   * Embedded photos without scores of `vocabulary`, in photo id order. Only ids: the query runs on
   * the indexes alone, never touching the vector blobs (it runs after every indexing batch).
   */
  photoIdsMissingVocabularyScores(modelId: number, vocabulary: string): number[] {
    const rows = this.db
      .prepare(
        `SELECT v.photo_id AS id FROM principal_vectors v INDEXED BY principal_vectors_model WHERE v.model_id = ?
         AND NOT EXISTS (SELECT 1 FROM vocabulary_scores s WHERE s.photo_id = v.photo_id AND s.model_id = v.model_id AND s.vocabulary = ?)
         ORDER BY v.photo_id`
      )
      .all(modelId, vocabulary) as Array<{ id: number }>
    return rows.map((r) => r.id)
  }

  putVocabularyScores(modelId: number, vocabulary: string, photos: ReadonlyArray<{ photoId: number; tags: Uint16Array; scores: Float32Array }>): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO vocabulary_scores (photo_id, model_id, vocabulary, tags, scores) VALUES (?, ?, ?, ?, ?)')
    this.db.transaction(() => {
      for (const p of photos) put.run(p.photoId, modelId, vocabulary, bytesOf(p.tags), bytesOf(p.scores))
    })()
  }

  /**
   * Stored best tags of `vocabulary` for photos of `modelId` (one photo, or every one with an id
   * above `afterId`, in photo id order), read a page at a time so that no cursor stays open while
   * the caller writes or awaits.
   */
  *vocabularyScores(modelId: number, vocabulary: string, photoId?: number, afterId = 0): Generator<{ photoId: number; tags: Uint16Array; scores: Float32Array }> {
    const page = this.db.prepare(
      `SELECT photo_id AS photoId, tags, scores FROM vocabulary_scores WHERE model_id = ? AND vocabulary = ? AND photo_id > ?
       ${photoId === undefined ? '' : 'AND photo_id = ?'} ORDER BY photo_id LIMIT ${PAGE}`
    )
    for (;;) {
      const rows = page.all(...(photoId === undefined ? [modelId, vocabulary, afterId] : [modelId, vocabulary, afterId, photoId])) as Array<{
        photoId: number
        tags: Buffer
        scores: Buffer
      }>
      for (const row of rows) yield { photoId: row.photoId, tags: new Uint16Array(copyOf(row.tags)), scores: new Float32Array(copyOf(row.scores)) }
      if (rows.length < PAGE) return
      afterId = rows[rows.length - 1].photoId
    }
  }

  status(modelId: number | null): LibraryStatus {
    const count = (sql: string, ...args: unknown[]) => (this.db.prepare(sql).get(...args) as { n: number }).n
    return {
      photos: count('SELECT COUNT(*) AS n FROM photos WHERE missing_since IS NULL'),
      indexed: modelId === null ? 0 : this.embeddedCount(modelId),
      offline: count('SELECT COUNT(*) AS n FROM photos WHERE offline = 1 AND missing_since IS NULL'),
      missing: count('SELECT COUNT(*) AS n FROM photos WHERE missing_since IS NOT NULL'),
      errors: this.db.prepare("SELECT path, reason FROM photos WHERE status = 'error' AND missing_since IS NULL ORDER BY path").all() as Array<{ path: string; reason: string }>,
      folders: this.folderInfos()
    }
  }
}

const KNOWN_COLUMNS = `p.id, p.path, p.size, p.mtime_ms AS mtimeMs, p.fingerprint, p.status, p.folder_id AS folderId,
  EXISTS (SELECT 1 FROM principal_vectors v WHERE v.photo_id = p.id AND v.model_id = ?) AS hasVectors,
  c.path AS companionPath, c.size AS companionSize, c.mtime_ms AS companionMtimeMs, c.fingerprint AS companionFingerprint, c.reason AS companionReason`

type KnownRow = Omit<KnownPhoto, 'hasVectors' | 'companion'> & {
  folderId: number
  hasVectors: number
  companionPath: string | null
  companionSize: number
  companionMtimeMs: number
  companionFingerprint: string
  companionReason: string | null
}

function toKnown({ hasVectors, companionPath, companionSize, companionMtimeMs, companionFingerprint, companionReason, ...row }: KnownRow): KnownPhoto & { folderId: number } {
  const companion =
    companionPath === null ? null : { path: companionPath, size: companionSize, mtimeMs: companionMtimeMs, fingerprint: companionFingerprint, reason: companionReason }
  return { ...row, hasVectors: Boolean(hasVectors), companion }
}

/** Rows read at a time by the generators, which must not hold a cursor open between yields. */
const PAGE = 1024

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength)
}

/** A fresh, aligned ArrayBuffer with a blob's bytes (SQLite blobs need not be aligned for typed arrays). */
function copyOf(blob: Buffer): ArrayBuffer {
  return blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength) as ArrayBuffer
}
