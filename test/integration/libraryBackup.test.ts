import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import type { Migration } from '../../src/main/engine/library/migrations'
import { BACKUPS_KEPT, backupIfDue, backupLibrary } from '../../src/main/engine/store/backup'
import { listBackups } from '../../src/main/engine/store/backupList'
import { processStartTime } from '../../src/main/engine/store/processStart'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { tempDir } from '../helpers/sharedData'

const HOUR = 60 * 60 * 1000

/** Read through a read-write connection: a read-only one leaves a library's -wal and -shm behind. */
function folderPaths(file: string): string[] {
  const db = new Database(file, { fileMustExist: true })
  try {
    return (db.prepare('SELECT path FROM folders ORDER BY path').all() as Array<{ path: string }>).map((r) => r.path)
  } finally {
    db.close()
  }
}

/** Adds a folder row to the library in `dataDir` through a connection of its own, closed after. */
function addFolderRow(dataDir: string, path: string): void {
  const db = openLibraryDatabase(join(dataDir, 'library.sqlite'))
  db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run(path, new Date().toISOString())
  db.close()
}

describe('library backups', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  let n = 0
  const dataDir = () => join(tmp.dir, `data-${++n}`)

  it('copies the library into backups/library-YYYYMMDD-HHMMSS-reason.sqlite, one self-contained file', async () => {
    const dir = dataDir()
    const db = openLibraryDatabase(join(dir, 'library.sqlite'))
    db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run('/photos/a', 'now')
    const backup = await backupLibrary(db, dir, { reason: 'daily', now: new Date(2030, 4, 6, 7, 8, 9) })
    db.close()
    expect(backup.path).toBe(join(dir, 'backups', 'library-20300506-070809-daily.sqlite'))
    expect(backup).toMatchObject({ reason: 'daily', takenAt: new Date(2030, 4, 6, 7, 8, 9), bytes: statSync(backup.path).size })
    expect(folderPaths(backup.path)).toEqual(['/photos/a'])
    // Not in write-ahead-log mode, so reading it left no -wal or -shm beside it.
    expect(readdirSync(join(dir, 'backups'))).toEqual(['library-20300506-070809-daily.sqlite'])
  })

  it(`keeps the newest ${BACKUPS_KEPT}, and sweeps what a killed backup left`, async () => {
    const dir = dataDir()
    const db = openLibraryDatabase(join(dir, 'library.sqlite'))
    mkdirSync(join(dir, 'backups'))
    writeFileSync(join(dir, 'backups', '.partial-99999999-library-20300101-000000.sqlite'), 'half a copy')
    for (let day = 1; day <= 9; day++) await backupLibrary(db, dir, { now: new Date(2030, 0, day, 12) })
    db.close()
    const kept = listBackups(dir)
    expect(kept.map((b) => b.takenAt.getDate())).toEqual([9, 8, 7, 6, 5, 4, 3])
    expect(readdirSync(join(dir, 'backups')).sort()).toEqual(kept.map((b) => b.path.slice(join(dir, 'backups').length + 1)).sort())
  })

  it('takes the daily backup only when the newest is a day old', async () => {
    const dir = dataDir()
    const db = openLibraryDatabase(join(dir, 'library.sqlite'))
    const first = new Date(2030, 0, 1, 9)
    expect((await backupIfDue(db, dir, first))?.reason).toBe('daily')
    expect(await backupIfDue(db, dir, new Date(first.getTime() + 23 * HOUR))).toBeNull()
    const next = await backupIfDue(db, dir, new Date(first.getTime() + 24 * HOUR))
    db.close()
    expect(next?.takenAt).toEqual(new Date(first.getTime() + 24 * HOUR))
    expect(listBackups(dir)).toHaveLength(2)
  })

  it('finishes while another connection keeps committing (each commit restarts an online backup)', async () => {
    const dir = dataDir()
    const file = join(dir, 'library.sqlite')
    const db = openLibraryDatabase(file)
    const insert = db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)')
    // Some 3,000 pages: several backup steps.
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run(`/photos/${i}/${'x'.repeat(3000)}`, 'now')
    })()
    const writer = new Database(file)
    let writes = 0
    let done = false
    const keepWriting = () => {
      if (done) return
      writer.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run(`/written/during/${writes++}`, 'now')
      setImmediate(keepWriting)
    }
    setImmediate(keepWriting)
    const backup = await backupLibrary(db, dir).finally(() => (done = true))
    writer.close()
    db.close()
    expect(writes).toBeGreaterThan(1)
    const copy = new Database(backup.path, { readonly: true })
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok')
    expect((copy.prepare("SELECT COUNT(*) AS n FROM folders WHERE path LIKE '/photos/%'").get() as { n: number }).n).toBe(3000)
    copy.close()
  })

  it('backs up an existing library before upgrading its schema, and a new one not at all', () => {
    const dir = dataDir()
    const file = join(dir, 'library.sqlite')
    const steps: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE one (x)' },
      { version: 2, name: 'two', sql: 'CREATE TABLE two (x)' }
    ]
    openLibraryDatabase(file, steps.slice(0, 1)).close()
    expect(listBackups(dir)).toEqual([])
    openLibraryDatabase(file, steps).close()
    const [backup, ...others] = listBackups(dir)
    expect(others).toEqual([])
    expect(backup.reason).toBe('before-migration-2')
    const copy = new Database(backup.path, { readonly: true })
    expect(copy.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }])
    copy.close()
    openLibraryDatabase(file, steps).close()
    expect(listBackups(dir)).toHaveLength(1)
  })
})

describe('sdl-tagger backup and restore', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  let n = 0
  const dataDir = () => join(tmp.dir, `data-${++n}`)

  it('backup says when there is no library yet', async () => {
    const dir = dataDir()
    const run = await runCliCaptured(['--data-dir', dir, 'backup'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`error: There is no library in ${dir} to back up`)
    expect(existsSync(join(dir, 'library.sqlite'))).toBe(false)
  })

  it('backup takes one and prints its path; --list lists them; restore puts one back and can be undone', async () => {
    const dir = dataDir()
    addFolderRow(dir, '/photos/before')
    const taken = await runCliCaptured(['--data-dir', dir, '--json', 'backup'])
    expect(taken.code).toBe(0)
    const backup = JSON.parse(taken.stdout) as { path: string; bytes: number }
    expect(backup).toEqual({ path: listBackups(dir)[0].path, bytes: statSync(backup.path).size })
    expect(folderPaths(backup.path)).toEqual(['/photos/before'])

    const human = await runCliCaptured(['--data-dir', dir, 'backup'])
    expect(human.stdout).toMatch(new RegExp(`^Backed up the library to ${join(dir, 'backups', 'library-')}\\d{8}-\\d{6}\\.sqlite \\(`))
    const listed = await runCliCaptured(['--data-dir', dir, '--json', 'backup', '--list'])
    expect((JSON.parse(listed.stdout) as Array<{ path: string }>).map((b) => b.path)).toEqual(listBackups(dir).map((b) => b.path))

    addFolderRow(dir, '/photos/after')
    const restored = await runCliCaptured(['--data-dir', dir, 'restore', backup.path])
    expect(restored.code).toBe(0)
    const previous = listBackups(dir).find((b) => b.reason === 'before-restore')!
    expect(restored.stdout).toBe(
      `Restored ${backup.path} as the library ${join(dir, 'library.sqlite')}.\nThe library as it was is backed up in ${previous.path}; to undo, restore that.\n`
    )
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/before'])
    expect(folderPaths(previous.path)).toEqual(['/photos/after', '/photos/before'])
    expect(readdirSync(dir).sort()).toEqual(['backups', 'library.sqlite'])

    const undone = await runCliCaptured(['--data-dir', dir, '--json', 'restore', previous.path])
    expect(JSON.parse(undone.stdout)).toMatchObject({ restoredFrom: previous.path, library: join(dir, 'library.sqlite') })
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/after', '/photos/before'])
    // The restored library opens and takes new writes as any other.
    addFolderRow(dir, '/photos/later')
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/after', '/photos/before', '/photos/later'])
  })

  it('restore refuses, with exit code 2, while another process writes to the library', async () => {
    const dir = dataDir()
    addFolderRow(dir, '/photos/current')
    const backup = await runCliCaptured(['--data-dir', dir, '--json', 'backup'])
    const parent = process.ppid
    writeFileSync(
      join(dir, 'library.lock'),
      JSON.stringify({ pid: parent, processStart: processStartTime(parent), host: hostname(), purpose: 'watching', since: new Date().toISOString() })
    )
    const run = await runCliCaptured(['--data-dir', dir, 'restore', (JSON.parse(backup.stdout) as { path: string }).path])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      new RegExp(`^error: Another SDL Tagger \\(pid ${parent} on ${hostname()}, watching since \\d\\d:\\d\\d\\) is writing to the library in ${dir}\nhint: Wait for it to finish`)
    )
    expect(listBackups(dir)).toHaveLength(1)
  })

  it('restore refuses, with exit code 2, while another SDL Tagger has the library open', async () => {
    const dir = dataDir()
    addFolderRow(dir, '/photos/current')
    const backup = (JSON.parse((await runCliCaptured(['--data-dir', dir, '--json', 'backup'])).stdout) as { path: string }).path
    const app = openLibraryDatabase(join(dir, 'library.sqlite'))
    try {
      const run = await runCliCaptured(['--data-dir', dir, 'restore', backup])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(`error: Another SDL Tagger (the app, or \`sdl-tagger serve\`) has the library in ${dir} open`)
      app.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run('/photos/still-writable', 'now')
    } finally {
      app.close()
    }
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/current', '/photos/still-writable'])
    expect(existsSync(join(dir, 'library.lock'))).toBe(false)
  })

  it('restore refuses a file that is not an SDL Tagger library, and leaves the library as it was', async () => {
    const dir = dataDir()
    addFolderRow(dir, '/photos/current')
    const garbage = join(tmp.dir, 'garbage.sqlite')
    writeFileSync(garbage, Buffer.alloc(8192, 0x41))
    const other = join(tmp.dir, 'other.sqlite')
    const db = new Database(other)
    db.exec('CREATE TABLE notes (x)')
    db.close()
    const newer = join(tmp.dir, 'newer.sqlite')
    const future = new Database(newer)
    future.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)')
    future.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(9999, 'from the future', 'now')
    future.close()
    const cases: Array<[string, RegExp]> = [
      [garbage, /is not an SDL Tagger library that can be restored: .*not a database/],
      [other, /is not an SDL Tagger library that can be restored: it has no schema_migrations table/],
      [newer, /is not an SDL Tagger library that can be restored: it was written by a newer SDL Tagger \(schema 9999;/],
      [join(tmp.dir, 'missing.sqlite'), /missing\.sqlite does not exist/]
    ]
    for (const [file, message] of cases) {
      const run = await runCliCaptured(['--data-dir', dir, 'restore', file])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(message)
    }
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/current'])
    expect(readdirSync(dir).sort()).toEqual(['library.sqlite'])
  })

  it('restore over a damaged library keeps the damaged file, byte for byte, as the before-restore backup', async () => {
    const dir = dataDir()
    addFolderRow(dir, '/photos/good')
    const backup = (JSON.parse((await runCliCaptured(['--data-dir', dir, '--json', 'backup'])).stdout) as { path: string }).path
    writeFileSync(join(dir, 'library.sqlite'), Buffer.alloc(10000, 0x5a))
    const run = await runCliCaptured(['--data-dir', dir, 'restore', backup])
    expect(run.code).toBe(0)
    expect(folderPaths(join(dir, 'library.sqlite'))).toEqual(['/photos/good'])
    const kept = listBackups(dir).find((b) => b.reason === 'before-restore')!
    expect(kept.bytes).toBe(10000)
  })
})

describe('the app and its backups', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('backs the library up when the app starts, and not again until a day has passed', async () => {
    const engine = new Engine({ dataDir: tmp.dir })
    const api = createEngineApi(engine)
    try {
      await api.start()
      expect(listBackups(tmp.dir).map((b) => b.reason)).toEqual(['daily'])
      await api.start()
      expect(listBackups(tmp.dir)).toHaveLength(1)
    } finally {
      await api.stop()
      await engine.close()
    }
  })
})
