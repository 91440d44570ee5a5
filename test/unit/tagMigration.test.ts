import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { MIGRATIONS } from '../../src/main/engine/library/migrations'
import { tempDir } from '../helpers/sharedData'

describe('migration 2: photo tags and the custom vocabulary', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('upgrades a library created at version 1, keeping its photos', () => {
    const path = join(tmp.dir, 'library.sqlite')
    const v1 = openLibraryDatabase(path, MIGRATIONS.slice(0, 1))
    const now = new Date().toISOString()
    v1.prepare('INSERT INTO folders (id, path, added_at) VALUES (1, ?, ?)').run('/photos', now)
    v1.prepare(
      "INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (7, 1, '/photos/a.jpg', 1, 1, 'f', 'ok', ?)"
    ).run(now)
    expect(v1.prepare("SELECT name FROM sqlite_master WHERE name = 'photo_tags'").get()).toBeUndefined()
    v1.close()

    const db = openLibraryDatabase(path)
    expect((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(MIGRATIONS[MIGRATIONS.length - 1].version)
    expect((db.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n).toBe(1)
    db.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (7, 'dog', 'rejected', ?)").run(now)
    expect(() => db.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (7, 'cat', 'maybe', ?)").run(now)).toThrow(/CHECK/)
    expect(() => db.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (8, 'cat', 'user', ?)").run(now)).toThrow(/FOREIGN KEY/)
    db.prepare("INSERT INTO custom_vocabulary (tag, added_at) VALUES ('kayak', ?)").run(now)
    expect(() => db.prepare("INSERT INTO custom_vocabulary (tag, added_at) VALUES ('kayak', ?)").run(now)).toThrow(/UNIQUE/)
    // A photo's tags go with it.
    db.prepare('DELETE FROM photos WHERE id = 7').run()
    expect((db.prepare('SELECT COUNT(*) AS n FROM photo_tags').get() as { n: number }).n).toBe(0)
    db.close()

    // Opening again applies nothing more.
    const again = openLibraryDatabase(path)
    expect((again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length)
    again.close()
  })

  it('applies a step a library skipped, even below its newest', () => {
    const path = join(tmp.dir, 'gap.sqlite')
    // As made by a build that had step 4 but not yet step 3.
    const gapped = openLibraryDatabase(path, MIGRATIONS.filter((m) => m.version !== 3))
    expect(gapped.prepare("SELECT name FROM sqlite_master WHERE name = 'xmp_sidecars'").get()).toBeUndefined()
    gapped.close()
    const db = openLibraryDatabase(path)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'xmp_sidecars'").get()).toBeDefined()
    expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length)
    db.close()
  })
})
