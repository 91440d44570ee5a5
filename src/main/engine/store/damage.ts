import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { defaultDataDir } from '../dataDir'
import { SdlError } from '../errors'
import { newestBackup } from './backupList'
import { libraryPath } from './paths'

const HEADER_BYTES = 100
const MAGIC = 'SQLite format 3\0'

/**
 * Why the library file cannot be whole, judged from its first 100 bytes and its size alone, or
 * null when it looks whole (or does not exist yet). Start-up must stay fast, so this is no
 * integrity check: it catches a file that is not a database and one cut short (a copy or sync
 * that stopped, a disk that filled), which SQLite itself opens without complaint and only
 * reports as "malformed" when a query reaches the missing pages.
 */
export function inspectLibraryFile(path: string): string | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    // Missing, or unreadable: opening it says which, in SQLite's words.
    return null
  }
  try {
    const stat = fstatSync(fd)
    // Not a file (a folder in its place): opening it says so, in SQLite's words.
    if (!stat.isFile()) return null
    const size = stat.size
    // An empty file is how SQLite starts a new database.
    if (size === 0) return null
    const header = Buffer.alloc(HEADER_BYTES)
    const read = readSync(fd, header, 0, HEADER_BYTES, 0)
    if (read < MAGIC.length || header.toString('latin1', 0, MAGIC.length) !== MAGIC) return 'it is not an SQLite database: its first bytes are something else'
    if (read < HEADER_BYTES) return `it is cut short: ${size} bytes, less than a database header`
    // Pages still in the write-ahead log are not in the file yet, and a checkpoint that a crash
    // interrupted may have written page 1 before the file grew; with a log present the size
    // cannot be judged from the header, and SQLite completes the checkpoint itself.
    if (hasWriteAheadLog(path)) return null
    const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16)
    const changeCounter = header.readUInt32BE(24)
    const pages = header.readUInt32BE(28)
    // The page count in the header is valid only when written by SQLite 3.7.0 or later, which
    // says so by repeating the change counter at offset 92.
    if (header.readUInt32BE(92) !== changeCounter || pages === 0) return null
    const expected = pages * pageSize
    return size < expected ? `it is cut short: ${size} bytes where its header counts ${pages} pages of ${pageSize} bytes (${expected} bytes)` : null
  } finally {
    closeSync(fd)
  }
}

function hasWriteAheadLog(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0
  } catch {
    return false
  }
}

/**
 * The plain-words error for a damaged library file: what is wrong, and the newest backup to
 * restore, or, with none, what to do and what that costs.
 */
export function libraryDamagedError(libraryFile: string, cause: string): SdlError {
  return new SdlError(`The library file ${libraryFile} is damaged (${cause})`, restoreHint(libraryFile))
}

function restoreHint(libraryFile: string): string {
  const dataDir = dirname(libraryFile)
  const newest = newestBackup(dataDir)
  if (newest) return `Restore the newest backup, taken ${newest.takenAt.toLocaleString()}: ${cliCommand(dataDir, ['restore', newest.path])}`
  return (
    `There is no backup to restore. Move ${libraryFile} aside (keep it: it may still be repairable) and index your folders again: ` +
    'the photos come back, but the tags you accepted, rejected or added in SDL Tagger are lost (those written to XMP sidecars stay in them).'
  )
}

/** A command line to copy: with --data-dir when the library is not in the default folder. */
function cliCommand(dataDir: string, args: string[]): string {
  const global = resolve(dataDir) === resolve(defaultDataDir()) ? [] : ['--data-dir', dataDir]
  return ['sdl-tagger', ...global, ...args].map(quoteArgument).join(' ')
}

function quoteArgument(arg: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `"${arg}"`
}

/**
 * An error from the library's database, raised when it was opened or by any query later, in
 * plain words with a hint that fits the cause; null for any other error. With no data folder
 * (a caller that does not know it) the message cannot name the files.
 */
export function describeDatabaseError(err: unknown, dataDir?: string): SdlError | null {
  if (err instanceof SdlError || !(err instanceof Error)) return null
  // Some errors carry a code that is not text (an HTTP status, a number from a library).
  const raw = (err as { code?: unknown }).code
  const code = typeof raw === 'string' ? raw : ''
  // By its code rather than better-sqlite3's class: the API's error mapping runs in the Electron
  // main process too, which must not load the native addon.
  if (!code.startsWith('SQLITE_') && !isLibraryFile((err as NodeJS.ErrnoException).path, dataDir)) return null
  const library = dataDir === undefined ? 'the library file' : libraryPath(dataDir)
  const folder = dataDir ?? 'the data folder'
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    if (dataDir !== undefined) return libraryDamagedError(libraryPath(dataDir), err.message)
    return new SdlError(
      `The library file is damaged (${err.message})`,
      'Restore the newest backup: `sdl-tagger backup --list` lists them, `sdl-tagger restore <file>` restores one.'
    )
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new SdlError(
      `The disk holding ${folder} is full, so the library could not be written (${err.message})`,
      'Free some space on that disk, then try again. What the library held before is kept.'
    )
  }
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return new SdlError(
      `The library file ${library} was moved, replaced or deleted while SDL Tagger had it open`,
      'Close SDL Tagger (the app, or `sdl-tagger serve`) and start it again.'
    )
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new SdlError(
      `SDL Tagger may not read and write the library file ${library} (${err.message})`,
      `Check that your user may read and write ${folder} and every file in it (library.sqlite, and library.sqlite-wal and -shm when present), and that the disk is not read-only.`
    )
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new SdlError(
      `The disk holding ${library} failed to read or write it (${err.message})`,
      'Check the disk (or the network share, or the cable of an external drive), then try again.'
    )
  }
  return null
}

/** Whether a file-system error is about the library's own files (and not, say, a photo). */
function isLibraryFile(path: string | undefined, dataDir: string | undefined): boolean {
  if (path === undefined || dataDir === undefined) return false
  const library = libraryPath(dataDir)
  return [library, `${library}-wal`, `${library}-shm`, dataDir].some((p) => resolve(p) === resolve(path))
}
