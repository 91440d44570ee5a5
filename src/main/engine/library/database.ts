import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { SdlError } from '../errors'
import { backUpBeforeMigrating } from '../store/backup'
import { describeDatabaseError, inspectLibraryFile, libraryDamagedError } from '../store/damage'
import { MIGRATIONS, type Migration } from './migrations'

export type LibraryDatabase = Database.Database

const statements = new WeakMap<LibraryDatabase, Map<string, Database.Statement>>()

/**
 * The connection's statement for `sql`, compiled on first use: for SQL run once per photo, where
 * a batch of thousands would otherwise compile the same text thousands of times. Only for
 * statements run to completion (run, get, all), never iterate(): one statement cannot serve two
 * iterations at once.
 */
export function cachedStatement(db: LibraryDatabase, sql: string): Database.Statement {
  let cache = statements.get(db)
  if (!cache) statements.set(db, (cache = new Map()))
  let statement = cache.get(sql)
  if (!statement) cache.set(sql, (statement = db.prepare(sql)))
  return statement
}

/** SQLite's own ceiling for a memory map (SQLITE_MAX_MMAP_SIZE); the rest of a bigger file is read as usual. */
const MMAP_BYTES = 0x7fff0000

/**
 * Whether this connection reads the file through a memory map. Search reads its candidates'
 * vectors at random places in the file each query, which mapped reads do several times faster
 * than read() calls. But while another connection (the index worker's) commits every few hundred
 * milliseconds, mapped reads become several times slower than read() calls, so the library turns
 * the map off for the length of an indexing run. Figures: docs/benchmarks.md.
 */
export function mapForReading(db: LibraryDatabase, on: boolean): void {
  db.pragma(`mmap_size = ${on ? MMAP_BYTES : 0}`)
}

/**
 * Opens (creating if needed) the library database: WAL so readers (search, the UI) never wait
 * for the indexer's writes, memory-mapped reads, foreign keys on, and every pending migration
 * applied in one transaction, so a crash mid-upgrade leaves the previous schema intact.
 */
export function openLibraryDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): LibraryDatabase {
  mkdirSync(dirname(path), { recursive: true })
  const damage = inspectLibraryFile(path)
  if (damage) throw libraryDamagedError(path, damage)
  let db: LibraryDatabase
  try {
    db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    mapForReading(db, true)
  } catch (err) {
    throw (
      describeDatabaseError(err, dirname(path)) ??
      new SdlError(`Cannot open the library database ${path}: ${(err as Error).message}`, 'Check that the data folder is writable and not on a full disk.')
    )
  }
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)')
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
  const newest = migrations.at(-1)?.version ?? 0
  if (current > newest) {
    db.close()
    throw new SdlError(`The library ${path} was written by a newer SDL Tagger (schema ${current}; this one knows ${newest})`, 'Update SDL Tagger to open it.')
  }
  // Every step not yet applied, not only those above the newest: a library made by a build that
  // had a later step before an earlier one landed still gets the earlier one.
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version))
  const pending = migrations.filter((m) => !applied.has(m.version))
  if (pending.length) {
    // A brand-new library has nothing to lose; an existing one is kept as it was, in case the
    // upgrade goes wrong in a way the transaction cannot undo (or the user wants the old build back).
    if (applied.size) backUpBeforeMigrating(db, path, newest)
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    // A step that rebuilds a table drops the old one: with foreign keys on, that would cascade to
    // every row referring to it (the user's tags). They are off for the steps (the pragma is a
    // no-op inside a transaction) and every reference is checked before the commit instead.
    const rebuilds = pending.some((m) => m.rebuildsTables)
    if (rebuilds) db.pragma('foreign_keys = OFF')
    try {
      db.transaction(() => {
        for (const m of pending) {
          db.exec(m.sql)
          record.run(m.version, m.name, new Date().toISOString())
        }
        if (rebuilds && (db.pragma('foreign_key_check') as unknown[]).length)
          throw new SdlError(`Upgrading the library ${path} left broken references`, 'Nothing was changed; report this.')
      })()
    } finally {
      if (rebuilds) db.pragma('foreign_keys = ON')
    }
  }
  return db
}
