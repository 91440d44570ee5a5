import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { SdlError } from '../errors'
import { isProcessAlive } from '../processAlive'
import { type BackupInfo, listBackups, newestBackup } from './backupList'
import { backupsDir } from './paths'

/** How many backups are kept: a week of daily ones, or the last few taken for another reason. */
export const BACKUPS_KEPT = 7
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Pages copied per step of an online backup, between which the engine's thread serves other
 * work. A write by another connection (the index worker's) restarts the copy; see backupLibrary.
 */
const STEP_PAGES = 1024
const ALL_PAGES = 0x7fffffff

export interface BackupOptions {
  reason?: string
  now?: Date
}

/** A backup being written: only renamed to its name (see backupList) once complete, so a crash leaves no half backup in the list. */
const PARTIAL = /^\.partial-(\d+)-/

/**
 * Copies the library into `<data-dir>/backups/library-YYYYMMDD-HHMMSS[-reason].sqlite` with
 * SQLite's online backup, which readers and writers carry on through, and keeps the newest
 * BACKUPS_KEPT. The copy goes a step at a time so the thread stays responsive; but every commit
 * by another connection restarts it, and the index worker commits every few hundred
 * milliseconds, so after a restart the rest is copied in one step and the copy always finishes.
 */
export async function backupLibrary(db: Database.Database, dataDir: string, options: BackupOptions = {}): Promise<BackupInfo> {
  const { partial, final } = prepare(dataDir, options)
  try {
    let remaining = Number.POSITIVE_INFINITY
    await db.backup(partial, {
      progress: ({ remainingPages }) => {
        // Every step copies pages, so a count that did not fall means the copy started over.
        const restarted = remainingPages >= remaining
        remaining = remainingPages
        return restarted ? ALL_PAGES : STEP_PAGES
      }
    })
    // The copy keeps the library's write-ahead-log mode, in which even a read-only look leaves
    // -wal and -shm files beside it; a backup is one self-contained file.
    const copy = new Database(partial)
    try {
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
    return commit(dataDir, partial, final)
  } finally {
    rmSync(partial, { force: true })
  }
}

/**
 * The same as backupLibrary, done at once on this thread (SQLite's VACUUM INTO): for the backup
 * taken before a schema upgrade, while the library is being opened and nothing else waits.
 */
export function backupLibraryNow(db: Database.Database, dataDir: string, options: BackupOptions = {}): BackupInfo {
  const { partial, final } = prepare(dataDir, options)
  try {
    db.prepare('VACUUM INTO ?').run(partial)
    return commit(dataDir, partial, final)
  } finally {
    rmSync(partial, { force: true })
  }
}

/**
 * The backup taken before a schema upgrade of an existing library (from openLibraryDatabase,
 * whose connection `db` is). When it cannot be taken the upgrade does not happen: the
 * connection is closed and the error says why, with the library untouched.
 */
export function backUpBeforeMigrating(db: Database.Database, libraryFile: string, version: number): BackupInfo {
  try {
    return backupLibraryNow(db, dirname(libraryFile), { reason: `before-migration-${version}` })
  } catch (err) {
    db.close()
    const full = ['SQLITE_FULL', 'ENOSPC'].includes((err as { code?: string }).code ?? '')
    throw new SdlError(
      `Could not back up the library ${libraryFile} before upgrading it, so it was left as it was: ${(err as Error).message}`,
      full
        ? `Free some space on the disk that holds ${dirname(libraryFile)}, then start SDL Tagger again.`
        : `Check that ${backupsDir(dirname(libraryFile))} can be written, then start SDL Tagger again.`
    )
  }
}

/**
 * A byte-for-byte copy of a database file (and its -wal, where there is one) into the backups:
 * for a library too damaged for SQLite to read through, so what it held is kept as it was.
 */
export function copyIntoBackups(dataDir: string, file: string, options: BackupOptions = {}): BackupInfo {
  const { partial, final } = prepare(dataDir, options)
  try {
    copyFileSync(file, partial)
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${final}-wal`)
    return commit(dataDir, partial, final)
  } finally {
    rmSync(partial, { force: true })
  }
}

/** Takes the daily backup when the newest backup is a day old or there is none; null otherwise. */
export async function backupIfDue(db: Database.Database, dataDir: string, now: Date = new Date()): Promise<BackupInfo | null> {
  const newest = newestBackup(dataDir)
  if (newest && now.getTime() - newest.takenAt.getTime() < DAY_MS) return null
  return backupLibrary(db, dataDir, { reason: 'daily', now })
}

/** Where a backup taken now for this reason goes, once complete. */
export function backupPath(dataDir: string, options: BackupOptions = {}): string {
  const now = options.now ?? new Date()
  const pad = (n: number) => String(n).padStart(2, '0')
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`
  const reason = options.reason
    ?.toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return join(backupsDir(dataDir), `library-${stamp}${reason ? `-${reason}` : ''}.sqlite`)
}

function prepare(dataDir: string, options: BackupOptions): { partial: string; final: string } {
  const dir = backupsDir(dataDir)
  mkdirSync(dir, { recursive: true })
  sweepPartials(dir)
  const final = backupPath(dataDir, options)
  return { partial: join(dir, `.partial-${process.pid}-${final.slice(dir.length + 1)}`), final }
}

function commit(dataDir: string, partial: string, final: string): BackupInfo {
  renameSync(partial, final)
  prune(dataDir)
  const backup = listBackups(dataDir).find((b) => b.path === final)
  if (!backup) throw new Error(`The backup ${final} vanished as soon as it was written`)
  return backup
}

/** Deletes all but the newest BACKUPS_KEPT, with any -wal or -shm a look at them left beside them. */
function prune(dataDir: string): void {
  for (const old of listBackups(dataDir).slice(BACKUPS_KEPT)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${old.path}${suffix}`, { force: true })
  }
}

/** Partial backups left by a process that was killed mid-copy. */
function sweepPartials(dir: string): void {
  for (const name of readdirSync(dir)) {
    const writer = PARTIAL.exec(name)?.[1]
    if (writer !== undefined && !isProcessAlive(Number(writer))) rmSync(join(dir, name), { force: true })
  }
}
