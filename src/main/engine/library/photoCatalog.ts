import { basename } from 'node:path'
import type { PhotoError, PhotoFile, PhotoSection, PhotoSummary } from '../../../shared/api'
import type { LibraryDatabase } from './database'

export interface PhotoRow extends PhotoSummary {
  folderId: number | null
  folder: string | null
  missingSince: string | null
  size: number
  format: string | null
  camera: string | null
  reason: string | null
  files: PhotoFile[]
}

/**
 * Which photos a date filter keeps, by capture date (photos.captured_at, migration 10): a range
 * ('YYYY-MM-DD' calendar dates, `from` included, `until` not; null: unbounded), or NOT, AND, OR
 * of such filters. search/dateTerms.ts builds one from a query's date terms.
 */
export type DateFilter = { kind: 'range'; from: string | null; until: string | null } | { kind: 'not'; child: DateFilter } | { kind: 'and' | 'or'; children: DateFilter[] }

/** 'date': newest capture first, then by path; 'path': by path. */
export type PhotoOrder = 'date' | 'path'

/** A listing of the present photos: of one folder or all, of some capture dates or all. */
export interface PhotoListing {
  folderId?: number
  dates?: DateFilter
}

interface RawPhoto {
  id: number
  path: string
  width: number | null
  height: number | null
  takenAt: string | null
  capturedAt: string | null
  status: 'ok' | 'error'
  offline: number
}

const SUMMARY_COLUMNS = 'p.id, p.path, p.width, p.height, p.taken_at AS takenAt, p.captured_at AS capturedAt, p.status, p.offline'
const ORDER_BY: Record<PhotoOrder, string> = { date: 'p.captured_at DESC, p.path', path: 'p.path' }

/**
 * The reads the windows need from the library database and the CLI does not: pages of photos for
 * the grid (by path or by capture date, each served by an index of present photos), a photo by id, and
 * per-folder counts. Missing photos (their files gone) are not listed; by id they still answer.
 */
export class PhotoCatalog {
  constructor(private readonly db: LibraryDatabase) {}

  count(listing: PhotoListing = {}): number {
    const { where, params } = listingWhere(listing)
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM photos p ${where}`).get(...params) as { n: number }).n
  }

  page(offset: number, limit: number, listing: PhotoListing = {}, order: PhotoOrder = 'path'): PhotoSummary[] {
    const { where, params } = listingWhere(listing)
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p ${where} ORDER BY ${ORDER_BY[order]} LIMIT ? OFFSET ?`).all(...params, limit, offset) as RawPhoto[]
    return rows.map(toSummary)
  }

  /** The listing's months ('YYYY-MM') in date order, newest first, each with where its photos start: the grid's date headers. */
  sections(listing: PhotoListing = {}): PhotoSection[] {
    const { where, params } = listingWhere(listing)
    const months = this.db
      .prepare(`SELECT substr(p.captured_at, 1, 7) AS month, COUNT(*) AS count FROM photos p ${where} GROUP BY month ORDER BY month DESC`)
      .all(...params) as Array<{ month: string; count: number }>
    let start = 0
    return months.map(({ month, count }) => ({ month, start: (start += count) - count, count }))
  }

  /** The ids of the present photos the filter keeps, ascending. */
  idsCaptured(dates: DateFilter): number[] {
    const { where, params } = listingWhere({ dates })
    return (this.db.prepare(`SELECT p.id FROM photos p ${where} ORDER BY p.id`).all(...params) as Array<{ id: number }>).map((r) => r.id)
  }

  /** The present photos' capture dates, oldest first (the reverse of the 'date' order). */
  capturedDates(): Array<{ id: number; capturedAt: string | null }> {
    const newestFirst = this.db.prepare(`SELECT p.id, p.captured_at AS capturedAt FROM photos p WHERE p.missing_since IS NULL ORDER BY ${ORDER_BY.date}`).all()
    return (newestFirst as Array<{ id: number; capturedAt: string | null }>).reverse()
  }

  byId(id: number): PhotoRow | undefined {
    const row = this.db
      .prepare(
        `SELECT ${SUMMARY_COLUMNS}, p.folder_id AS folderId, f.path AS folder, p.size, p.format, p.camera, p.reason, p.missing_since AS missingSince,
                c.path AS companionPath, c.size AS companionSize, c.reason AS companionReason
         FROM photos p LEFT JOIN folders f ON f.id = p.folder_id LEFT JOIN photo_companions c ON c.photo_id = p.id WHERE p.id = ?`
      )
      .get(id) as (RawPhoto & Omit<PhotoRow, keyof PhotoSummary | 'files'> & { companionPath: string | null; companionSize: number; companionReason: string | null }) | undefined
    if (!row) return undefined
    const { companionPath, companionSize, companionReason, ...photo } = row
    const jpegShown = companionPath !== null && companionReason === null
    const files: PhotoFile[] = [{ path: photo.path, size: photo.size, shown: !jpegShown, reason: photo.status === 'error' ? photo.reason : null }]
    if (companionPath !== null) files.push({ path: companionPath, size: companionSize, shown: jpegShown, reason: companionReason })
    return { ...photo, ...toSummary(photo), files }
  }

  /** The present photos among `ids`, in the order of `ids`, in one query: a page of a list ranked elsewhere. */
  summaries(ids: readonly number[]): PhotoSummary[] {
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p WHERE p.missing_since IS NULL AND p.id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as RawPhoto[]
    const byId = new Map(rows.map((r) => [r.id, toSummary(r)]))
    return ids.flatMap((id) => byId.get(id) ?? [])
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

function listingWhere(listing: PhotoListing): { where: string; params: unknown[] } {
  const params: unknown[] = []
  const conditions = ['p.missing_since IS NULL']
  if (listing.folderId !== undefined) {
    conditions.push('p.folder_id = ?')
    params.push(listing.folderId)
  }
  if (listing.dates) conditions.push(dateCondition(listing.dates, params))
  return { where: `WHERE ${conditions.join(' AND ')}`, params }
}

/** The filter as an SQL condition on p.captured_at, its values appended to `params`. */
function dateCondition(filter: DateFilter, params: unknown[]): string {
  switch (filter.kind) {
    case 'range': {
      const bounds: string[] = []
      if (filter.from !== null) bounds.push('p.captured_at >= ?')
      if (filter.until !== null) bounds.push('p.captured_at < ?')
      params.push(...[filter.from, filter.until].filter((d) => d !== null))
      // A captured_at of 'YYYY-MM-DDT…' compares as text with a bare 'YYYY-MM-DD' as its day does.
      return bounds.length ? `(${bounds.join(' AND ')})` : '1'
    }
    case 'not':
      return `NOT ${dateCondition(filter.child, params)}`
    default:
      return `(${filter.children.map((child) => dateCondition(child, params)).join(filter.kind === 'and' ? ' AND ' : ' OR ')})`
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
    capturedAt: row.capturedAt,
    status: row.status,
    offline: Boolean(row.offline)
  }
}
