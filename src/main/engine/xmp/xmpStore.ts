import type { LibraryDatabase } from '../library/database'
import { type FieldEntries, type KeywordToWrite, emptyEntries } from './keywordFields'

export interface SidecarRecord {
  sidecarPath: string
  /** The entries this app added to each keyword field and that are still its own. */
  written: FieldEntries
  /** `exportSignature` of the last export: the tags and root it wrote. */
  exportedTags: string
  /** SHA-256 of the file right after that export. */
  sha256: string
}

export interface LibraryPhoto {
  id: number
  path: string
}

/** The SQL of xmp_sidecars (migration 3) and the photo list sidecars are made for. */
export class XmpStore {
  constructor(private readonly db: LibraryDatabase) {}

  /** Readable photos of one folder or all, skipping offline and missing ones (their sidecars cannot be reached). */
  photos(folderId?: number): LibraryPhoto[] {
    const folderClause = folderId === undefined ? '' : 'AND folder_id = ?'
    return this.db
      .prepare(`SELECT id, path FROM photos WHERE status = 'ok' AND offline = 0 AND missing_since IS NULL ${folderClause} ORDER BY path`)
      .all(...(folderId === undefined ? [] : [folderId])) as LibraryPhoto[]
  }

  sidecar(sidecarPath: string): SidecarRecord | undefined {
    const row = this.db.prepare('SELECT sidecar_path AS sidecarPath, written, exported_tags AS exportedTags, sha256 FROM xmp_sidecars WHERE sidecar_path = ?').get(sidecarPath) as
      { sidecarPath: string; written: string; exportedTags: string; sha256: string } | undefined
    return row && { ...row, written: { ...emptyEntries(), ...(JSON.parse(row.written) as Partial<FieldEntries>) } }
  }

  saveSidecar(record: SidecarRecord, photoId: number): void {
    this.db
      .prepare(
        `INSERT INTO xmp_sidecars (sidecar_path, photo_id, written, exported_tags, sha256, exported_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(sidecar_path) DO UPDATE SET photo_id = excluded.photo_id, written = excluded.written,
           exported_tags = excluded.exported_tags, sha256 = excluded.sha256, exported_at = excluded.exported_at`
      )
      .run(record.sidecarPath, photoId, JSON.stringify(record.written), record.exportedTags, record.sha256, new Date().toISOString())
  }
}

/** What decides whether an untouched sidecar needs anything: the sorted tags (the user's own with their hierarchy) and the root. */
export function exportSignature(tags: readonly KeywordToWrite[], root: string): string {
  return JSON.stringify({ root, tags: tags.map(signatureItem).sort() })
}

/** One keyword in a signature: the app's tag as itself (as signatures were before own keywords had a hierarchy), an own keyword as its path. */
export function signatureItem(tag: KeywordToWrite): string {
  return typeof tag === 'string' ? tag : JSON.stringify(tag.path)
}
