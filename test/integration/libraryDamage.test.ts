import { closeSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { toApiError } from '../../src/main/engine/api/errors'
import { SdlError } from '../../src/main/engine/errors'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { backupLibrary } from '../../src/main/engine/store/backup'
import type { BackupInfo } from '../../src/main/engine/store/backupList'
import { describeDatabaseError, inspectLibraryFile } from '../../src/main/engine/store/damage'
import { describeError } from '../../src/main/cli/cliContext'
import { prng } from '../helpers/prng'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { tempDir } from '../helpers/sharedData'

const PAGE = 4096

/** A library of some 400 pages in a data folder of its own, closed, with a backup of it when asked. */
async function makeLibrary(dataDir: string, withBackup: boolean): Promise<{ file: string; backup: BackupInfo | null }> {
  const file = join(dataDir, 'library.sqlite')
  const db = openLibraryDatabase(file)
  const insert = db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)')
  db.transaction(() => {
    for (let i = 0; i < 800; i++) insert.run(`/photos/${i}/${'p'.repeat(1000)}`, 'now')
  })()
  const backup = withBackup ? await backupLibrary(db, dataDir) : null
  db.close()
  return { file, backup }
}

function openError(file: string): SdlError {
  try {
    openLibraryDatabase(file).close()
  } catch (err) {
    return err as SdlError
  }
  throw new Error(`${file} opened without complaint`)
}

describe('a damaged library', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  let n = 0
  const dataDir = () => join(tmp.dir, `data-${++n}`)

  for (const withBackup of [false, true]) {
    const which = withBackup ? 'with a backup' : 'without a backup'

    it(`cut short is reported at open, in plain words, ${which}`, async () => {
      const dir = dataDir()
      const { file, backup } = await makeLibrary(dir, withBackup)
      const pages = statSync(file).size / PAGE
      expect(pages).toBeGreaterThan(300)
      truncateSync(file, PAGE * Math.floor(pages / 2))
      expect(inspectLibraryFile(file)).toMatch(/^it is cut short: \d+ bytes where its header counts \d+ pages of 4096 bytes/)
      const error = openError(file)
      expect(error).toBeInstanceOf(SdlError)
      expect(error.message).toBe(`The library file ${file} is damaged (${inspectLibraryFile(file)})`)
      if (backup) expect(error.hint).toBe(`Restore the newest backup, taken ${backup.takenAt.toLocaleString()}: sdl-tagger --data-dir ${dir} restore ${backup.path}`)
      else
        expect(error.hint).toMatch(
          new RegExp(`^There is no backup to restore\\. Move ${file} aside .* index your folders again: .*tags you accepted, rejected or added in SDL Tagger are lost`)
        )
    })

    it(`of garbage is reported at open, and by the command line, ${which}`, async () => {
      const dir = dataDir()
      const { file, backup } = await makeLibrary(dir, withBackup)
      const random = prng(7)
      writeFileSync(file, Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(random() * 256))))
      const error = openError(file)
      expect(error.message).toBe(`The library file ${file} is damaged (it is not an SQLite database: its first bytes are something else)`)
      expect(error.hint).toMatch(backup ? /^Restore the newest backup/ : /^There is no backup to restore/)
      const run = await runCliCaptured(['--data-dir', dir, 'backup'])
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`error: ${error.message}\nhint: ${error.hint}\n`)
    })
  }

  it('that SQLite finds malformed in a later query is described the same way by the API and the command line', async () => {
    const dir = dataDir()
    const { file, backup } = await makeLibrary(dir, true)
    // Overwrites the second half of the pages, where the folder rows are, and keeps the size.
    const size = statSync(file).size
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(size / 2, 0xff), 0, size / 2, size / 2)
    closeSync(fd)
    expect(inspectLibraryFile(file)).toBeNull()
    const db = openLibraryDatabase(file)
    let failure: unknown
    try {
      db.prepare('SELECT path FROM folders').all()
    } catch (err) {
      failure = err
    } finally {
      db.close()
    }
    expect((failure as { code?: string }).code).toMatch(/^SQLITE_CORRUPT/)
    const expected = {
      message: `The library file ${file} is damaged (${(failure as Error).message})`,
      hint: `Restore the newest backup, taken ${backup!.takenAt.toLocaleString()}: sdl-tagger --data-dir ${dir} restore ${backup!.path}`
    }
    expect(describeDatabaseError(failure, dir)).toMatchObject(expected)
    expect(toApiError(failure, dir)).toEqual(expected)
    expect(describeError(failure, dir)).toEqual(expected)
  })

  it('a brand-new, empty file and a whole library are not judged damaged', async () => {
    const dir = dataDir()
    const { file } = await makeLibrary(dir, false)
    expect(inspectLibraryFile(file)).toBeNull()
    const empty = join(dir, 'empty.sqlite')
    writeFileSync(empty, '')
    expect(inspectLibraryFile(empty)).toBeNull()
    expect(inspectLibraryFile(join(dir, 'missing.sqlite'))).toBeNull()
    expect(readFileSync(file).subarray(0, 15).toString()).toBe('SQLite format 3')
  })
})

describe('describeDatabaseError', () => {
  const dir = '/data/sdl-tagger'
  const sqlite = (code: string, message: string) => new Database.SqliteError(message, code)

  it('says the disk is full, or that permissions are wrong, or that the file was replaced, each with its own hint', () => {
    expect(describeDatabaseError(sqlite('SQLITE_FULL', 'database or disk is full'), dir)).toMatchObject({
      message: `The disk holding ${dir} is full, so the library could not be written (database or disk is full)`,
      hint: expect.stringMatching(/^Free some space on that disk/)
    })
    for (const code of ['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM']) {
      expect(describeDatabaseError(sqlite(code, 'unable to open database file'), dir)).toMatchObject({
        message: `SDL Tagger may not read and write the library file ${dir}/library.sqlite (unable to open database file)`,
        hint: expect.stringMatching(new RegExp(`^Check that your user may read and write ${dir}`))
      })
    }
    expect(describeDatabaseError(sqlite('SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database'), dir)?.message).toBe(
      `The library file ${dir}/library.sqlite was moved, replaced or deleted while SDL Tagger had it open`
    )
    expect(describeDatabaseError(sqlite('SQLITE_IOERR_SHORT_READ', 'disk I/O error'), dir)?.hint).toMatch(/^Check the disk/)
  })

  it('names no files when the data folder is not known', () => {
    expect(describeDatabaseError(sqlite('SQLITE_CORRUPT', 'database disk image is malformed'))).toMatchObject({
      message: 'The library file is damaged (database disk image is malformed)',
      hint: expect.stringContaining('sdl-tagger restore <file>')
    })
  })

  it('leaves alone errors that are not about the library: a photo it may not read, a bug, an SdlError', () => {
    const photo = Object.assign(new Error("EACCES: permission denied, open '/photos/a.jpg'"), { code: 'EACCES', path: '/photos/a.jpg' })
    expect(describeDatabaseError(photo, dir)).toBeNull()
    const wal = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: `${dir}/library.sqlite-wal` })
    expect(describeDatabaseError(wal, dir)?.message).toMatch(/^SDL Tagger may not read and write the library file/)
    expect(describeDatabaseError(new TypeError('x is undefined'), dir)).toBeNull()
    expect(describeDatabaseError(new SdlError('already plain'), dir)).toBeNull()
    expect(describeDatabaseError(sqlite('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'), dir)).toBeNull()
  })
})
