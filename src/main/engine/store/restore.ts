import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { LibraryBusyError, SdlError } from '../errors'
import { MIGRATIONS } from '../library/migrations'
import { backupLibrary, copyIntoBackups } from './backup'
import type { BackupInfo } from './backupList'
import { describeDatabaseError, inspectLibraryFile } from './damage'
import { WriterLock } from './lock'
import { libraryPath } from './paths'

export interface RestoreResult {
  /** The library file, now holding the restored copy. */
  library: string
  restoredFrom: string
  /** The library as it was before, to restore for an undo; null when there was none. */
  previous: BackupInfo | null
}

/**
 * Puts a backup (or any SDL Tagger library file) in place of the library. The file is checked
 * first (a copy of it, so the user's file is never touched, not even by a look that leaves -wal
 * and -shm beside it); the library as it was is backed up (reason "before-restore") so the
 * restore can be undone; then the copy replaces library.sqlite, and its old -wal and -shm go, as
 * they belong to the old file. Refused while another process writes to the library or has it
 * open: replacing the file under it would lose what it writes next.
 */
export async function restoreLibrary(dataDir: string, file: string, now: Date = new Date()): Promise<RestoreResult> {
  const source = resolve(file)
  const library = libraryPath(dataDir)
  if (!existsSync(source)) throw new SdlError(`${file} does not exist`, 'Give the path of a backup: `sdl-tagger backup --list` lists them.')
  if (source === resolve(library)) throw new SdlError(`${file} is the library itself`, 'Give the path of a backup: `sdl-tagger backup --list` lists them.')
  const release = new WriterLock(dataDir).acquire('restoring a backup')
  const staging = `${library}.restoring-${process.pid}`
  try {
    copyFileSync(source, staging)
    if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${staging}-wal`)
    verifyLibrary(staging, file)
    const previous = existsSync(library) ? await backUpCurrent(dataDir, now) : null
    for (const suffix of ['-wal', '-shm']) rmSync(`${library}${suffix}`, { force: true })
    renameSync(staging, library)
    return { library, restoredFrom: source, previous }
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${staging}${suffix}`, { force: true })
    release()
  }
}

/** Throws unless `path` is a whole SDL Tagger library this version can open. */
function verifyLibrary(path: string, shownAs: string): void {
  const refuse = (why: string) =>
    new SdlError(`${shownAs} is not an SDL Tagger library that can be restored: ${why}`, 'Pick another backup: `sdl-tagger backup --list` lists them.')
  let db: Database.Database
  try {
    db = new Database(path, { fileMustExist: true })
  } catch (err) {
    throw refuse((err as Error).message)
  }
  try {
    const problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check)
    if (problems[0] !== 'ok') throw refuse(`it is damaged (${problems.slice(0, 3).join('; ')})`)
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()) throw refuse('it has no schema_migrations table')
    const version = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
    const newest = MIGRATIONS.at(-1)?.version ?? 0
    if (version > newest) throw refuse(`it was written by a newer SDL Tagger (schema ${version}; this one knows ${newest})`)
  } catch (err) {
    throw err instanceof SdlError ? err : refuse((err as Error).message)
  } finally {
    db.close()
  }
}

/**
 * Backs up the library about to be replaced. A whole one is copied through SQLite, which also
 * tells whether another process has it open; a damaged one is copied byte for byte, -wal with it,
 * since that is all there is to keep.
 */
async function backUpCurrent(dataDir: string, now: Date): Promise<BackupInfo> {
  const library = libraryPath(dataDir)
  const options = { reason: 'before-restore', now }
  if (inspectLibraryFile(library)) return copyIntoBackups(dataDir, library, options)
  let db: Database.Database
  try {
    db = new Database(library, { fileMustExist: true, timeout: 1000 })
  } catch (err) {
    throw describeDatabaseError(err, dataDir) ?? err
  }
  try {
    // Exclusive locking in write-ahead-log mode fails while any other connection is open, even
    // an idle one: the app or `serve` keeps the library open between index runs too.
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE; COMMIT')
    return await backupLibrary(db, dataDir, options)
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (code.startsWith('SQLITE_BUSY'))
      throw new LibraryBusyError(`Another SDL Tagger (the app, or \`sdl-tagger serve\`) has the library in ${dataDir} open`, 'Close it, then restore again.')
    if (!code.startsWith('SQLITE_CORRUPT') && code !== 'SQLITE_NOTADB') throw describeDatabaseError(err, dataDir) ?? err
  } finally {
    db.close()
  }
  return copyIntoBackups(dataDir, library, options)
}
