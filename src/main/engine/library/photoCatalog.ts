import { basename } from 'node:path'
import type { PhotoError, PhotoSummary } from '../../../shared/api'
import type { LibraryDatabase } from './database'

export interface PhotoRow extends PhotoSummary {
  folderId: number | null
  folder: string | null
  missingSince: string | null
  size: number
  format: string | null
  camera: string | null
  reason: string | null
}

interface RawPhoto {
  id: number
  path: string
  width: number | null
  height: number | null
  takenAt: string | null
  status: 'ok' | 'error'
  offline: number
}

const SUMMARY_COLUMNS = 'p.id, p.path, p.width, p.height, p.taken_at AS takenAt, p.status, p.offline'

/**
 * The reads the windows need from the library database and the CLI does not: pages of photos for
 * the grid (path order, served by the index of present photos' paths), a photo by id, and
 * per-folder counts. Missing photos (their files gone) are not listed; by id they still answer.
 */
export class PhotoCatalog {
  constructor(private readonly db: LibraryDatabase) {}

  count(folderId?: number): number {
    const sql =
      folderId === undefined ? 'SELECT COUNT(*) AS n FROM photos WHERE missing_since IS NULL' : 'SELECT COUNT(*) AS n FROM photos WHERE folder_id = ? AND missing_since IS NULL'
    return (this.db.prepare(sql).get(...(folderId === undefined ? [] : [folderId])) as { n: number }).n
  }

  page(offset: number, limit: number, folderId?: number): PhotoSummary[] {
    const where = folderId === undefined ? 'WHERE p.missing_since IS NULL' : 'WHERE p.folder_id = ? AND p.missing_since IS NULL'
    const args = folderId === undefined ? [limit, offset] : [folderId, limit, offset]
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p ${where} ORDER BY p.path LIMIT ? OFFSET ?`).all(...args) as RawPhoto[]
    return rows.map(toSummary)
  }

  byId(id: number): PhotoRow | undefined {
    const row = this.db
      .prepare(
        `SELECT ${SUMMARY_COLUMNS}, p.folder_id AS folderId, f.path AS folder, p.size, p.format, p.camera, p.reason, p.missing_since AS missingSince
         FROM photos p LEFT JOIN folders f ON f.id = p.folder_id WHERE p.id = ?`
      )
      .get(id) as (RawPhoto & Omit<PhotoRow, keyof PhotoSummary>) | undefined
    return row && { ...row, ...toSummary(row) }
  }

  /** Photo ids by path, for turning search hits (paths) into ids. */
  idsByPath(paths: readonly string[]): Map<string, number> {
    const lookup = this.db.prepare('SELECT id FROM photos WHERE path = ? AND missing_since IS NULL')
    const out = new Map<string, number>()
    for (const path of paths) {
      const row = lookup.get(path) as { id: number } | undefined
      if (row) out.set(path, row.id)
    }
    return out
  }

  vectors(photoId: number, modelId: number): Buffer | undefined {
    const row = this.db.prepare('SELECT vectors FROM principal_vectors WHERE photo_id = ? AND model_id = ?').get(photoId, modelId) as { vectors: Buffer } | undefined
    return row?.vectors
  }

  /** Per folder id: photos embedded by `modelId` (null: no model yet) and unreadable photos with reasons. */
  folderDetails(modelId: number | null): Map<number, { indexed: number; errors: PhotoError[] }> {
    const out = new Map<number, { indexed: number; errors: PhotoError[] }>()
    const entry = (id: number) => {
      let e = out.get(id)
      if (!e) out.set(id, (e = { indexed: 0, errors: [] }))
      return e
    }
    if (modelId !== null) {
      const counts = this.db
        .prepare(
          'SELECT p.folder_id AS folderId, COUNT(*) AS n FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND p.missing_since IS NULL GROUP BY p.folder_id'
        )
        .all(modelId) as Array<{ folderId: number; n: number }>
      for (const c of counts) entry(c.folderId).indexed = c.n
    }
    const errors = this.db.prepare("SELECT folder_id AS folderId, path, reason FROM photos WHERE status = 'error' AND missing_since IS NULL ORDER BY path").all() as Array<
      PhotoError & { folderId: number }
    >
    for (const e of errors) entry(e.folderId).errors.push({ path: e.path, reason: e.reason })
    return out
  }
}

function toSummary(row: RawPhoto): PhotoSummary {
  return {
    id: row.id,
    path: row.path,
    name: basename(row.path),
    width: row.width,
    height: row.height,
    takenAt: row.takenAt,
    status: row.status,
    offline: Boolean(row.offline)
  }
}
