import type { LibraryDatabase } from '../library/database'

export type PhotoTagState = 'accepted' | 'rejected' | 'user'

/** Where a photo tag came from: decided or added in this app, or imported from XMP metadata. */
export type TagSource = 'app' | 'xmp'

/** The SQL of photo_tags and custom_vocabulary (migration 2), one place for AutoTagger. */
export class TagStore {
  constructor(readonly db: LibraryDatabase) {}

  /** Sets a photo's tag to `state`, replacing whatever the user said about it before. */
  setPhotoTag(photoId: number, tag: string, state: PhotoTagState): void {
    this.db
      .prepare(
        `INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(photo_id, tag) DO UPDATE SET state = excluded.state, created_at = excluded.created_at`
      )
      .run(photoId, tag, state, new Date().toISOString())
  }

  photoTags(photoId: number): Array<{ tag: string; state: PhotoTagState }> {
    return this.db.prepare('SELECT tag, state FROM photo_tags WHERE photo_id = ? ORDER BY created_at, tag').all(photoId) as Array<{
      tag: string
      state: PhotoTagState
    }>
  }

  /** Every photo's decided tags (any state), keyed by photo id: what suggestions leave out. */
  decidedTags(): Map<number, Set<string>> {
    const out = new Map<number, Set<string>>()
    const rows = this.db.prepare('SELECT photo_id AS photoId, tag FROM photo_tags').iterate() as IterableIterator<{ photoId: number; tag: string }>
    for (const { photoId, tag } of rows) {
      let set = out.get(photoId)
      if (!set) out.set(photoId, (set = new Set()))
      set.add(tag)
    }
    return out
  }

  /**
   * Stores keywords read from a photo's sidecar or embedded metadata as the user's own tags
   * (source 'xmp'), so they are never suggested and never written back. A tag the photo already
   * has, in any state, is left as the user decided it. Returns the tags that were new.
   */
  importPhotoTags(photoId: number, tags: readonly string[]): string[] {
    const insert = this.db.prepare(
      `INSERT INTO photo_tags (photo_id, tag, state, created_at, source) VALUES (?, ?, 'user', ?, 'xmp')
       ON CONFLICT(photo_id, tag) DO NOTHING`
    )
    const added: string[] = []
    const now = new Date().toISOString()
    this.db.transaction(() => {
      for (const tag of tags) if (insert.run(photoId, tag, now).changes) added.push(tag)
    })()
    return added
  }

  /**
   * What XMP export writes, keyed by photo id: accepted tags and the user's own tags added in the
   * app, never keywords imported from XMP (they are in the sidecar already) nor rejected ones.
   */
  exportableTags(): Map<number, string[]> {
    const out = new Map<number, string[]>()
    const rows = this.db
      .prepare(
        `SELECT photo_id AS photoId, tag FROM photo_tags
         WHERE state = 'accepted' OR (state = 'user' AND source = 'app') ORDER BY photo_id, created_at, tag`
      )
      .iterate() as IterableIterator<{ photoId: number; tag: string }>
    for (const { photoId, tag } of rows) {
      let list = out.get(photoId)
      if (!list) out.set(photoId, (list = []))
      list.push(tag)
    }
    return out
  }

  /** Photos there (not missing) carrying `tag` as accepted or the user's own (added in the app or imported from XMP). */
  photosWithTag(tag: string): Array<{ id: number; path: string; state: PhotoTagState; source: TagSource }> {
    return this.db
      .prepare(
        `SELECT p.id, p.path, t.state, t.source FROM photo_tags t JOIN photos p ON p.id = t.photo_id
         WHERE t.tag = ? AND t.state IN ('accepted', 'user') AND p.missing_since IS NULL ORDER BY p.path`
      )
      .all(tag) as Array<{ id: number; path: string; state: PhotoTagState; source: TagSource }>
  }

  /** Photos the user tagged with `tag` (accepted, own or imported) and those they rejected it for. */
  tagDecisions(tag: string): { tagged: number[]; rejected: number[] } {
    const rows = this.db.prepare('SELECT photo_id AS id, state FROM photo_tags WHERE tag = ?').all(tag) as Array<{ id: number; state: PhotoTagState }>
    return { tagged: rows.filter((r) => r.state !== 'rejected').map((r) => r.id), rejected: rows.filter((r) => r.state === 'rejected').map((r) => r.id) }
  }

  customWords(): string[] {
    return (this.db.prepare('SELECT tag FROM custom_vocabulary ORDER BY added_at, tag').all() as Array<{ tag: string }>).map((r) => r.tag)
  }

  /** Adds words; returns those that were new. */
  addCustomWords(words: readonly string[]): string[] {
    const insert = this.db.prepare('INSERT INTO custom_vocabulary (tag, added_at) VALUES (?, ?) ON CONFLICT(tag) DO NOTHING')
    const added: string[] = []
    const now = new Date().toISOString()
    this.db.transaction(() => {
      for (const w of words) if (insert.run(w, now).changes) added.push(w)
    })()
    return added
  }

  removeCustomWord(word: string): boolean {
    return this.db.prepare('DELETE FROM custom_vocabulary WHERE tag = ?').run(word).changes > 0
  }
}
