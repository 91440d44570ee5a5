import { join } from 'node:path'
import { backupIfDue } from '../store/backup'
import type { BackupInfo } from '../store/backupList'
import { LearnedKeywordStore } from '../tagging/learnedKeywordStore'
import { TagHistory } from '../tagging/tagHistory'
import { TagStore } from '../tagging/tagStore'
import { XmpStore } from '../xmp/xmpStore'
import { openLibraryDatabase } from './database'
import { LibraryStore } from './libraryStore'
import { PhotoCatalog } from './photoCatalog'

/**
 * The library database behind its repositories, the only code that runs SQL: photos, folders and
 * their vectors and scores; the user's tags and custom words; XMP sidecars; and the window's
 * photo catalogue. One connection, opened (and migrated) once per engine.
 */
export interface LibraryRepositories {
  photos: LibraryStore
  tags: TagStore
  /** Every tagging action, to undo and redo (it writes photo tags through `tags`). */
  history: TagHistory
  /** Word vectors learned for the user's keywords. */
  learnedKeywords: LearnedKeywordStore
  sidecars: XmpStore
  catalog: PhotoCatalog
  /** Backs the library up when the newest backup is a day old or more (see store/backup.ts). */
  backupIfDue(): Promise<BackupInfo | null>
  close(): void
}

export function openRepositories(dataDir: string): LibraryRepositories {
  const db = openLibraryDatabase(join(dataDir, 'library.sqlite'))
  const tags = new TagStore(db)
  return {
    photos: new LibraryStore(db),
    tags,
    history: new TagHistory(db, tags),
    learnedKeywords: new LearnedKeywordStore(db),
    sidecars: new XmpStore(db),
    catalog: new PhotoCatalog(db),
    backupIfDue: () => backupIfDue(db, dataDir),
    close: () => db.close()
  }
}
