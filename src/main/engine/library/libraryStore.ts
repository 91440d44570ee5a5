import type { FolderInfo, LibraryStatus } from '../../../shared/library'
import type { PhotoMetadata } from '../image/photoMetadata'
import type { PackManifest } from '../models/packManifest'
import type { LibraryDatabase } from './database'
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
}

export interface PhotoFacts {
  path: string
  folderId: number
  size: number
  mtimeMs: number
  fingerprint: string
}

/** One indexer outcome, written together with the others of its batch in one transaction. */
export type PhotoOutcome =
  | { kind: 'indexed'; facts: PhotoFacts; details: PhotoMetadata; vectors: Float32Array }
  | { kind: 'failed'; facts: PhotoFacts; reason: string }
  /** Same content under a new path (renamed or moved): keeps its vectors and everything else. */
  | { kind: 'moved'; photoId: number; facts: PhotoFacts }

/**
 * Every read and write of the library database. Services hold the logic; this class holds the
 * SQL, so each statement is prepared once and every multi-row change is one transaction.
 */
export class LibraryStore {
  private counted: { modelId: number; version: string; count: number } | null = null

  constructor(readonly db: LibraryDatabase) {}

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
         FROM folders f LEFT JOIN photos p ON p.folder_id = f.id GROUP BY f.id ORDER BY f.path`
      )
      .all() as FolderInfo[]
  }

  /** Removes a folder from the library, with its photos and their vectors (not the files). */
  removeFolder(id: number): void {
    this.db.prepare('DELETE FROM folders WHERE id = ?').run(id)
  }

  /** Marks a folder and its photos offline (or back online), keeping everything else. */
  setFolderOffline(id: number, offline: boolean): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE folders SET offline_since = ? WHERE id = ?').run(offline ? new Date().toISOString() : null, id)
      this.db.prepare('UPDATE photos SET offline = ? WHERE folder_id = ?').run(offline ? 1 : 0, id)
    })()
  }

  markScanned(id: number): void {
    this.db.prepare('UPDATE folders SET last_scan_at = ? WHERE id = ?').run(new Date().toISOString(), id)
  }

  /** Every photo of a folder, keyed by path, with whether it has vectors from `modelId`. */
  knownPhotos(folderId: number, modelId: number): Map<string, KnownPhoto> {
    const rows = this.db
      .prepare(
        `SELECT p.id, p.path, p.size, p.mtime_ms AS mtimeMs, p.fingerprint, p.status,
                EXISTS (SELECT 1 FROM principal_vectors v WHERE v.photo_id = p.id AND v.model_id = ?) AS hasVectors
         FROM photos p WHERE p.folder_id = ?`
      )
      .all(modelId, folderId) as Array<Omit<KnownPhoto, 'hasVectors'> & { hasVectors: number }>
    return new Map(rows.map((r) => [r.path, { ...r, hasVectors: Boolean(r.hasVectors) }]))
  }

  /** One photo by path; `hasVectors` says whether `modelId` has embedded it. */
  photoByPath(path: string, modelId = -1): (KnownPhoto & { folderId: number }) | undefined {
    const row = this.db
      .prepare(
        `SELECT id, path, size, mtime_ms AS mtimeMs, fingerprint, status, folder_id AS folderId,
                EXISTS (SELECT 1 FROM principal_vectors v WHERE v.photo_id = photos.id AND v.model_id = ?) AS hasVectors
         FROM photos WHERE path = ?`
      )
      .get(modelId, path) as (Omit<KnownPhoto, 'hasVectors'> & { folderId: number; hasVectors: number }) | undefined
    return row && { ...row, hasVectors: Boolean(row.hasVectors) }
  }

  photosWithFingerprint(fingerprint: string, size: number): Array<{ id: number; path: string }> {
    return this.db.prepare('SELECT id, path FROM photos WHERE fingerprint = ? AND size = ?').all(fingerprint, size) as Array<{ id: number; path: string }>
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

  /** Writes a batch of outcomes atomically: after a crash, a photo is either fully recorded or not at all. */
  writeOutcomes(outcomes: readonly PhotoOutcome[], modelId: number): void {
    const now = new Date().toISOString()
    const upsert = this.db.prepare(
      `INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, format, width, height, orientation, taken_at, camera, status, reason, offline, indexed_at)
       VALUES (@folderId, @path, @size, @mtimeMs, @fingerprint, @format, @width, @height, @orientation, @takenAt, @camera, @status, @reason, 0, @now)
       ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, size = excluded.size, mtime_ms = excluded.mtime_ms,
         fingerprint = excluded.fingerprint, format = excluded.format, width = excluded.width, height = excluded.height,
         orientation = excluded.orientation, taken_at = excluded.taken_at, camera = excluded.camera, status = excluded.status,
         reason = excluded.reason, offline = 0, indexed_at = excluded.indexed_at
       RETURNING id`
    )
    const clearVectors = this.db.prepare('DELETE FROM principal_vectors WHERE photo_id = ?')
    const clearScores = this.db.prepare('DELETE FROM vocabulary_scores WHERE photo_id = ?')
    const putVectors = this.db.prepare('INSERT OR REPLACE INTO principal_vectors (photo_id, model_id, vectors) VALUES (?, ?, ?)')
    const move = this.db.prepare(
      'UPDATE photos SET path = @path, folder_id = @folderId, size = @size, mtime_ms = @mtimeMs, offline = 0, indexed_at = @now WHERE id = @id'
    )
    const noDetails = { format: null, width: null, height: null, orientation: null, takenAt: null, camera: null }
    this.db.transaction(() => {
      for (const o of outcomes) {
        if (o.kind === 'moved') {
          // A photo replaced by another's content is gone; the moved one takes its path.
          this.db.prepare('DELETE FROM photos WHERE path = ? AND id != ?').run(o.facts.path, o.photoId)
          move.run({ ...o.facts, id: o.photoId, now })
          continue
        }
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
        if (o.kind === 'indexed') putVectors.run(id, modelId, encodePrincipalVectors(o.vectors))
      }
    })()
  }

  /**
   * How many photos `modelId` has embedded: the size of its search index. Search asks on every query, and counting 100k rows
   * takes ~2 ms, so the count is kept until the database changes: data_version moves when another
   * connection (the index worker's) commits, total_changes() when this one writes.
   */
  embeddedCount(modelId: number): number {
    const version = `${this.db.pragma('data_version', { simple: true })}:${(this.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n}`
    if (this.counted?.modelId !== modelId || this.counted.version !== version) {
      const count = (this.db.prepare('SELECT COUNT(*) AS n FROM principal_vectors WHERE model_id = ?').get(modelId) as { n: number }).n
      this.counted = { modelId, version, count }
    }
    return this.counted.count
  }

  /** The path of a photo `modelId` has embedded; undefined when there is no such photo. */
  embeddedPhotoPath(modelId: number, photoId: number): string | undefined {
    const row = this.db.prepare('SELECT p.path FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND v.photo_id = ?').get(modelId, photoId) as
      | { path: string }
      | undefined
    return row?.path
  }

  /** Every photo `modelId` has embedded (with an id above `afterId`), in photo id order, without the vectors. */
  embeddedPhotoList(modelId: number, afterId = 0): Array<{ id: number; path: string; offline: boolean }> {
    const rows = this.db
      .prepare('SELECT p.id, p.path, p.offline FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND v.photo_id > ? ORDER BY v.photo_id')
      .all(modelId, afterId) as Array<{ id: number; path: string; offline: number }>
    return rows.map((r) => ({ id: r.id, path: r.path, offline: r.offline === 1 }))
  }

  /** Paths of the library's photos (of one folder, or all), by photo id. */
  photoPaths(folderId?: number): Map<number, string> {
    const rows = (
      folderId === undefined ? this.db.prepare('SELECT id, path FROM photos').all() : this.db.prepare('SELECT id, path FROM photos WHERE folder_id = ?').all(folderId)
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
      const rows = page.all(...(photoId === undefined ? [modelId, vocabulary, afterId] : [modelId, vocabulary, afterId, photoId])) as Array<{ photoId: number; tags: Buffer; scores: Buffer }>
      for (const row of rows) yield { photoId: row.photoId, tags: new Uint16Array(copyOf(row.tags)), scores: new Float32Array(copyOf(row.scores)) }
      if (rows.length < PAGE) return
      afterId = rows[rows.length - 1].photoId
    }
  }

  deletePhotos(ids: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM photos WHERE id = ?')
    this.db.transaction(() => ids.forEach((id) => del.run(id)))()
  }

  status(modelId: number | null): LibraryStatus {
    const count = (sql: string, ...args: unknown[]) => (this.db.prepare(sql).get(...args) as { n: number }).n
    return {
      photos: count('SELECT COUNT(*) AS n FROM photos'),
      indexed: modelId === null ? 0 : count('SELECT COUNT(*) AS n FROM principal_vectors WHERE model_id = ?', modelId),
      offline: count('SELECT COUNT(*) AS n FROM photos WHERE offline = 1'),
      errors: this.db.prepare("SELECT path, reason FROM photos WHERE status = 'error' ORDER BY path").all() as Array<{ path: string; reason: string }>,
      folders: this.folderInfos()
    }
  }
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
