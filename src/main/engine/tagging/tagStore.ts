import { type LibraryDatabase, cachedStatement } from '../library/database'
import { keywordKey } from './keywordText'

export type PhotoTagState = 'accepted' | 'rejected' | 'user'

/** Where a photo tag came from: decided or added in this app, or imported from XMP metadata. */
export type TagSource = 'app' | 'xmp'

/** A photo's tag as stored: what the tagging history keeps, so that undo and redo put it back exactly. */
export interface PhotoTagRecord {
  state: PhotoTagState
  source: TagSource
  createdAt: string
}

/** A keyword with its place in a hierarchy: levels from the top down to the keyword itself (`['Places', 'Africa', 'Kenya']`). */
export interface KeywordPath {
  text: string
  path: string[]
}

/** What XMP export writes for a photo: an accepted tag goes under the app's root, the user's own under its own hierarchy. */
export type ExportableTag = { tag: string; own: false } | { tag: string; own: true; path: string[] }

export interface KeywordSummary {
  keyword: string
  path: string[]
  /** Photos there (not missing) that carry it, accepted or as the user's own. */
  photos: number
}

/**
 * The SQL of keywords (migration 6), photo_tags and custom_vocabulary (migration 2): one place
 * for AutoTagger, XMP and the keyword commands. Tags and words name a keyword by its key (its
 * case-folded text); callers pass and get back the text as the user wrote it.
 */
export class TagStore {
  private readonly changeListeners = new Set<(keys: string[]) => void>()

  constructor(readonly db: LibraryDatabase) {}

  /**
   * Told the keys of keywords whose photos changed (tagged, rejected, imported, merged into), once
   * the change is written: the one place learned keywords hear of new examples. Returns the unsubscribe.
   */
  onKeywordsChanged(listener: (keys: string[]) => void): () => void {
    this.changeListeners.add(listener)
    return () => this.changeListeners.delete(listener)
  }

  /** Every method that changes which photos carry or reject a keyword calls this after writing. */
  keywordsChanged(keys: readonly string[]): void {
    if (keys.length) for (const listener of this.changeListeners) listener([...keys])
  }

  /**
   * The keyword `text` names, created with this spelling and place if it is new. An existing one
   * keeps its spelling; it takes `path` only if it had no hierarchy yet. Returns its spelling.
   */
  keyword(text: string, path: readonly string[] = [text]): string {
    const key = keywordKey(text)
    cachedStatement(
      this.db,
      `INSERT INTO keywords (key, text, path, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET path = excluded.path WHERE json_array_length(keywords.path) = 1 AND json_array_length(excluded.path) > 1`
    ).run(key, text, JSON.stringify(path), new Date().toISOString())
    return (cachedStatement(this.db, 'SELECT text FROM keywords WHERE key = ?').get(key) as { text: string }).text
  }

  /** The keyword's spelling and hierarchy, or undefined if no keyword has this identity. */
  findKeyword(text: string): KeywordPath | undefined {
    const row = this.db.prepare('SELECT text, path FROM keywords WHERE key = ?').get(keywordKey(text)) as { text: string; path: string } | undefined
    return row && { text: row.text, path: JSON.parse(row.path) as string[] }
  }

  /** Sets a photo's tag to `state`, replacing whatever the user said about it before. Returns the keyword's spelling. */
  setPhotoTag(photoId: number, tag: string, state: PhotoTagState): string {
    const text = this.keyword(tag)
    cachedStatement(
      this.db,
      `INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(photo_id, tag) DO UPDATE SET state = excluded.state, created_at = excluded.created_at`
    ).run(photoId, keywordKey(tag), state, new Date().toISOString())
    this.keywordsChanged([keywordKey(tag)])
    return text
  }

  /** A photo's tag as stored, or undefined when the user has not decided on it. */
  photoTag(photoId: number, tag: string): PhotoTagRecord | undefined {
    const row = cachedStatement(this.db, 'SELECT state, source, created_at AS createdAt FROM photo_tags WHERE photo_id = ? AND tag = ?').get(photoId, keywordKey(tag))
    return row as PhotoTagRecord | undefined
  }

  /** Forgets the user's decision on a photo's tag (it is not filed as rejected: it may be suggested again). */
  removePhotoTag(photoId: number, tag: string): boolean {
    const removed = cachedStatement(this.db, 'DELETE FROM photo_tags WHERE photo_id = ? AND tag = ?').run(photoId, keywordKey(tag)).changes > 0
    if (removed) this.keywordsChanged([keywordKey(tag)])
    return removed
  }

  /** Puts a photo's tag back as recorded (undefined: no tag), for undo and redo; the keyword must exist. */
  restorePhotoTag(photoId: number, tag: string, record: PhotoTagRecord | undefined): void {
    if (!record) {
      this.removePhotoTag(photoId, tag)
      return
    }
    cachedStatement(
      this.db,
      `INSERT INTO photo_tags (photo_id, tag, state, created_at, source) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(photo_id, tag) DO UPDATE SET state = excluded.state, created_at = excluded.created_at, source = excluded.source`
    ).run(photoId, keywordKey(tag), record.state, record.createdAt, record.source)
    this.keywordsChanged([keywordKey(tag)])
  }

  /** A photo's decided tags, as the keywords are spelled. */
  photoTags(photoId: number): Array<{ tag: string; state: PhotoTagState }> {
    return this.db
      .prepare('SELECT k.text AS tag, t.state FROM photo_tags t JOIN keywords k ON k.key = t.tag WHERE t.photo_id = ? ORDER BY t.created_at, t.tag')
      .all(photoId) as Array<{ tag: string; state: PhotoTagState }>
  }

  /** Every photo's decided tags (any state) by keyword key, keyed by photo id: what suggestions leave out. */
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
   * has, in any state, is left as the user decided it. Returns the tags that were new, as spelled.
   */
  importPhotoTags(photoId: number, keywords: readonly KeywordPath[]): string[] {
    const insert = this.db.prepare(
      `INSERT INTO photo_tags (photo_id, tag, state, created_at, source) VALUES (?, ?, 'user', ?, 'xmp')
       ON CONFLICT(photo_id, tag) DO NOTHING`
    )
    const added: string[] = []
    const now = new Date().toISOString()
    this.db.transaction(() => {
      for (const { text, path } of keywords) {
        const spelled = this.keyword(text, path)
        if (insert.run(photoId, keywordKey(text), now).changes) added.push(spelled)
      }
    })()
    this.keywordsChanged(added.map(keywordKey))
    return added
  }

  /**
   * What XMP export writes, keyed by photo id: accepted tags and the user's own tags added in the
   * app, never keywords imported from XMP (they are in the sidecar already) nor rejected ones.
   */
  exportableTags(): Map<number, ExportableTag[]> {
    const out = new Map<number, ExportableTag[]>()
    const rows = this.db
      .prepare(
        `SELECT t.photo_id AS photoId, k.text AS tag, k.path, t.state FROM photo_tags t JOIN keywords k ON k.key = t.tag
         WHERE t.state = 'accepted' OR (t.state = 'user' AND t.source = 'app') ORDER BY t.photo_id, t.created_at, t.tag`
      )
      .iterate() as IterableIterator<{ photoId: number; tag: string; path: string; state: PhotoTagState }>
    for (const { photoId, tag, path, state } of rows) {
      let list = out.get(photoId)
      if (!list) out.set(photoId, (list = []))
      list.push(state === 'user' ? { tag, own: true, path: JSON.parse(path) as string[] } : { tag, own: false })
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
      .all(keywordKey(tag)) as Array<{ id: number; path: string; state: PhotoTagState; source: TagSource }>
  }

  /** Photos the user tagged with `tag` (accepted, own or imported) and those they rejected it for; null if no keyword has that identity. */
  tagDecisions(tag: string): { tagged: number[]; rejected: number[] } | null {
    const key = keywordKey(tag)
    if (!this.db.prepare('SELECT 1 FROM keywords WHERE key = ?').get(key)) return null
    const rows = this.db.prepare('SELECT photo_id AS id, state FROM photo_tags WHERE tag = ?').all(key) as Array<{ id: number; state: PhotoTagState }>
    return { tagged: rows.filter((r) => r.state !== 'rejected').map((r) => r.id), rejected: rows.filter((r) => r.state === 'rejected').map((r) => r.id) }
  }

  /** The custom vocabulary, as spelled. */
  customWords(): string[] {
    return (this.db.prepare('SELECT k.text FROM custom_vocabulary c JOIN keywords k ON k.key = c.tag ORDER BY c.added_at, k.text').all() as Array<{ text: string }>).map(
      (r) => r.text
    )
  }

  /** Adds words; returns those that were new, as spelled. */
  addCustomWords(words: readonly string[]): string[] {
    const insert = this.db.prepare('INSERT INTO custom_vocabulary (tag, added_at) VALUES (?, ?) ON CONFLICT(tag) DO NOTHING')
    const added: string[] = []
    const now = new Date().toISOString()
    this.db.transaction(() => {
      for (const w of words) {
        const spelled = this.keyword(w)
        if (insert.run(keywordKey(w), now).changes) added.push(spelled)
      }
    })()
    return added
  }

  removeCustomWord(word: string): boolean {
    return this.db.prepare('DELETE FROM custom_vocabulary WHERE tag = ?').run(keywordKey(word)).changes > 0
  }

  /** The user's keywords (own on some photo, or in the vocabulary), most carried first, then by name. */
  userKeywords(): KeywordSummary[] {
    const rows = this.db
      .prepare(
        `SELECT k.text AS keyword, k.path,
           (SELECT COUNT(*) FROM photo_tags t JOIN photos p ON p.id = t.photo_id
            WHERE t.tag = k.key AND t.state IN ('accepted', 'user') AND p.missing_since IS NULL) AS photos
         FROM keywords k
         WHERE EXISTS (SELECT 1 FROM photo_tags t WHERE t.tag = k.key AND t.state = 'user') OR EXISTS (SELECT 1 FROM custom_vocabulary c WHERE c.tag = k.key)
         ORDER BY photos DESC, k.key`
      )
      .all() as Array<{ keyword: string; path: string; photos: number }>
    return rows.map((r) => ({ ...r, path: JSON.parse(r.path) as string[] }))
  }

  /**
   * Gives keyword `from` the spelling `to`, in place: its tags and vocabulary entry follow (the
   * key cascades), and so do keywords below it in a hierarchy. `to` must not be another keyword
   * (mergeKeywords handles that).
   */
  renameKeyword(from: KeywordPath, to: string): void {
    const newPath = [...from.path.slice(0, -1), to]
    this.db.transaction(() => {
      this.db.prepare('UPDATE keywords SET key = ?, text = ?, path = ? WHERE key = ?').run(keywordKey(to), to, JSON.stringify(newPath), keywordKey(from.text))
      this.movePaths(from.path, newPath)
    })()
  }

  /**
   * Every photo tagged `from` gets `into` instead (a photo that had both keeps one, the tagged
   * state winning over rejected), its vocabulary entry moves, keywords below it move under `into`,
   * and `from` goes.
   */
  mergeKeywords(into: KeywordPath, from: KeywordPath): void {
    const intoKey = keywordKey(into.text)
    const fromKey = keywordKey(from.text)
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO photo_tags (photo_id, tag, state, created_at, source)
             SELECT photo_id, ?, state, created_at, source FROM photo_tags WHERE tag = ?
           ON CONFLICT(photo_id, tag) DO UPDATE SET state = excluded.state, source = excluded.source
             WHERE photo_tags.state = 'rejected' AND excluded.state != 'rejected'`
        )
        .run(intoKey, fromKey)
      this.db.prepare('DELETE FROM photo_tags WHERE tag = ?').run(fromKey)
      this.db.prepare('INSERT INTO custom_vocabulary (tag, added_at) SELECT ?, added_at FROM custom_vocabulary WHERE tag = ? ON CONFLICT(tag) DO NOTHING').run(intoKey, fromKey)
      this.db.prepare('DELETE FROM custom_vocabulary WHERE tag = ?').run(fromKey)
      this.db.prepare('DELETE FROM keywords WHERE key = ?').run(fromKey)
      this.movePaths(from.path, into.path)
    })()
    this.keywordsChanged([intoKey])
  }

  /** Keywords whose hierarchy runs through `from` (compared case-insensitively) are moved below `to`. */
  private movePaths(from: readonly string[], to: readonly string[]): void {
    const prefix = from.map(keywordKey)
    const update = this.db.prepare('UPDATE keywords SET path = ? WHERE key = ?')
    for (const row of this.db.prepare('SELECT key, path FROM keywords WHERE json_array_length(path) > ?').all(from.length) as Array<{ key: string; path: string }>) {
      const path = JSON.parse(row.path) as string[]
      if (prefix.every((level, i) => keywordKey(path[i]) === level)) update.run(JSON.stringify([...to, ...path.slice(from.length)]), row.key)
    }
  }
}
