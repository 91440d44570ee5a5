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
    v1.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (7, 1, '/photos/a.jpg', 1, 1, 'f', 'ok', ?)").run(now)
    expect(v1.prepare("SELECT name FROM sqlite_master WHERE name = 'photo_tags'").get()).toBeUndefined()
    v1.close()

    const db = openLibraryDatabase(path)
    expect((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(MIGRATIONS[MIGRATIONS.length - 1].version)
    expect((db.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n).toBe(1)
    // Since step 6 a tag names a keyword.
    db.prepare(
      "INSERT INTO keywords (key, text, path, created_at) VALUES ('dog', 'dog', '[\"dog\"]', ?), ('cat', 'cat', '[\"cat\"]', ?), ('kayak', 'kayak', '[\"kayak\"]', ?)"
    ).run(now, now, now)
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
    // As made by a build that had step 4 but not yet step 3 (nor step 6, which rebuilds step 3's columns).
    const gapped = openLibraryDatabase(
      path,
      MIGRATIONS.filter((m) => m.version !== 3 && m.version < 6)
    )
    expect(gapped.prepare("SELECT name FROM sqlite_master WHERE name = 'xmp_sidecars'").get()).toBeUndefined()
    gapped.close()
    const db = openLibraryDatabase(path)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'xmp_sidecars'").get()).toBeDefined()
    expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length)
    db.close()
  })

  it('upgrades a version 4 library to keep missing photos, with every row that refers to a photo intact', () => {
    const path = join(tmp.dir, 'v4.sqlite')
    const v4 = openLibraryDatabase(path, MIGRATIONS.slice(0, 4))
    const now = new Date().toISOString()
    v4.prepare('INSERT INTO folders (id, path, added_at) VALUES (1, ?, ?)').run('/photos', now)
    v4.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (7, 1, '/photos/a.jpg', 1, 1, 'f', 'ok', ?)").run(now)
    v4.prepare("INSERT INTO models (id, name, model_sha256, dim, rows) VALUES (1, 'm', 'x', 1, 1)").run()
    v4.prepare('INSERT INTO principal_vectors (photo_id, model_id, vectors) VALUES (7, 1, ?)').run(Buffer.alloc(6))
    v4.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (7, 'dog', 'accepted', ?)").run(now)
    v4.prepare("INSERT INTO xmp_sidecars (sidecar_path, photo_id, written, exported_tags, sha256, exported_at) VALUES ('/photos/a.jpg.xmp', 7, '{}', '[]', 'h', ?)").run(now)
    v4.close()

    const db = openLibraryDatabase(path)
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    expect(count('SELECT COUNT(*) AS n FROM photo_tags WHERE photo_id = 7')).toBe(1)
    expect(count('SELECT COUNT(*) AS n FROM principal_vectors WHERE photo_id = 7')).toBe(1)
    expect(count('SELECT COUNT(*) AS n FROM xmp_sidecars WHERE photo_id = 7')).toBe(1)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    // A missing photo gives its path up to a new file; two photos that are there cannot share one.
    db.prepare('UPDATE photos SET missing_since = ? WHERE id = 7').run(now)
    db.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (8, 1, '/photos/a.jpg', 2, 2, 'g', 'ok', ?)").run(now)
    expect(() =>
      db.prepare("INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (1, '/photos/a.jpg', 3, 3, 'h', 'ok', ?)").run(now)
    ).toThrow(/UNIQUE/)
    // A folder leaving the library leaves its photos, and so the user's tags, in place.
    db.prepare('DELETE FROM folders WHERE id = 1').run()
    expect(count('SELECT COUNT(*) AS n FROM photos WHERE folder_id IS NULL')).toBe(2)
    expect(count('SELECT COUNT(*) AS n FROM photo_tags')).toBe(1)
    db.close()
  })
})
