import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { MIGRATIONS } from '../../src/main/engine/library/migrations'
import { PhotoCatalog } from '../../src/main/engine/library/photoCatalog'
import { tempDir } from '../helpers/sharedData'

describe('migration 10: capture dates', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  // Local noon on 15 March 2021, so the calendar day is the same in any zone the test runs in.
  const fileTime = new Date(2021, 2, 15, 12, 0, 0).getTime()
  const insert = `INSERT INTO photos (path, size, mtime_ms, fingerprint, taken_at, status, indexed_at) VALUES (?, 1, ?, ?, ?, 'ok', '2024-01-01T00:00:00Z')`

  it('dates the photos of an existing library, and keeps every later write dated', () => {
    const path = join(tmp.dir, 'library.sqlite')
    const before = openLibraryDatabase(
      path,
      MIGRATIONS.filter((m) => m.version < 10)
    )
    before.prepare(insert).run('/p/exif.jpg', fileTime, 'a', '2023-12-31T23:30:00-05:00')
    before.prepare(insert).run('/p/file.jpg', fileTime, 'b', null)
    before.close()

    const db = openLibraryDatabase(path)
    const captured = () =>
      Object.fromEntries((db.prepare('SELECT path, captured_at AS c FROM photos ORDER BY path').all() as Array<{ path: string; c: string }>).map((r) => [r.path, r.c]))
    // The camera's wall clock, its offset set aside; else the file's time, local.
    expect(captured()).toEqual({ '/p/exif.jpg': '2023-12-31T23:30:00', '/p/file.jpg': '2021-03-15T12:00:00' })

    db.prepare(insert).run('/p/new.jpg', fileTime, 'c', '2022-07-04T09:00:00')
    db.prepare('UPDATE photos SET taken_at = NULL, mtime_ms = ? WHERE path = ?').run(new Date(2020, 0, 2, 12, 0, 0).getTime(), '/p/exif.jpg')
    db.prepare(`${insert} ON CONFLICT(path) WHERE missing_since IS NULL DO UPDATE SET taken_at = excluded.taken_at`).run('/p/file.jpg', fileTime, 'b', '2019-05-05T05:05:05')
    expect(captured()).toEqual({ '/p/exif.jpg': '2020-01-02T12:00:00', '/p/file.jpg': '2019-05-05T05:05:05', '/p/new.jpg': '2022-07-04T09:00:00' })

    const catalog = new PhotoCatalog(db)
    expect(catalog.page(0, 10, {}, 'date').map((p) => p.path)).toEqual(['/p/new.jpg', '/p/exif.jpg', '/p/file.jpg'])
    expect(catalog.sections().map((s) => s.month)).toEqual(['2022-07', '2020-01', '2019-05'])
    // The date order is served by its index, not by sorting the table.
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT p.id FROM photos p WHERE p.missing_since IS NULL ORDER BY p.captured_at DESC, p.path LIMIT 10`).all() as Array<{
      detail: string
    }>
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX photos_captured/)
    db.close()
  })
})
