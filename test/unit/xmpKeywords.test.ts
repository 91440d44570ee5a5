import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { MIGRATIONS } from '../../src/main/engine/library/migrations'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { checkRoot, emptyEntries, entriesForTag, importableKeywords, planIsEmpty, planKeywordChanges } from '../../src/main/engine/xmp/keywordFields'
import { FolderListing, placeSidecar, sidecarCandidates, sidecarPath } from '../../src/main/engine/xmp/sidecarPaths'
import { XmpStore, exportSignature } from '../../src/main/engine/xmp/xmpStore'
import { tempDir } from '../helpers/sharedData'

describe('XMP keyword planning', () => {
  it('gives each tag a flat, a Lightroom and a digiKam entry, escaping only that field’s separator', () => {
    expect(entriesForTag('dog', 'AI')).toEqual({ subject: 'dog', hierarchical: 'AI|dog', tagsList: 'AI/dog' })
    expect(entriesForTag('AC/DC', 'AI')).toEqual({ subject: 'AC/DC', hierarchical: 'AI|AC/DC', tagsList: 'AI/AC\u2215DC' })
    expect(entriesForTag('a|b', 'SDL')).toEqual({ subject: 'a|b', hierarchical: 'SDL|a\u00a6b', tagsList: 'SDL/a|b' })
    expect(checkRoot('AI')).toBeNull()
    expect(checkRoot('A/I')).toMatch(/must not contain/)
    expect(checkRoot(' ')).toMatch(/empty/)
  })

  it('adds what is missing, never takes over a keyword the user had, and removes only its own', () => {
    const current = { subject: ['Dog', 'sunset'], hierarchical: ['nature|sunset', 'AI|cat'], tagsList: [] }
    const ours = { subject: ['cat'], hierarchical: ['AI|cat'], tagsList: ['AI/cat'] }
    const plan = planKeywordChanges(current, ['dog', 'beach'], 'AI', ours)
    // "Dog" is the user's own: no second "dog" next to it, and it never becomes ours.
    // The new TagsList starts with the user's keywords in its form (digiKam reads it alone): `sunset` is nature/sunset's.
    expect(plan.add).toEqual({ subject: ['beach'], hierarchical: ['AI|dog', 'AI|beach'], tagsList: ['nature/sunset', 'Dog', 'AI/dog', 'AI/beach'] })
    expect(plan.seeded).toEqual({ subject: [], hierarchical: [], tagsList: ['nature/sunset', 'Dog'] })
    // Ours but already gone from the file (subject `cat`, TagsList `AI/cat`): nothing to remove there.
    expect(plan.remove).toEqual({ subject: [], hierarchical: ['AI|cat'], tagsList: [] })
    expect(plan.ours).toEqual({ subject: ['beach'], hierarchical: ['AI|dog', 'AI|beach'], tagsList: ['AI/dog', 'AI/beach'] })
    expect(plan.addedTags).toEqual(['beach', 'dog'])
    expect(plan.removedTags).toEqual(['cat'])

    const after = { subject: ['Dog', 'sunset', 'beach'], hierarchical: ['nature|sunset', 'AI|dog', 'AI|beach'], tagsList: ['AI/dog', 'AI/beach'] }
    const again = planKeywordChanges(after, ['dog', 'beach'], 'AI', plan.ours)
    expect(planIsEmpty(again)).toBe(true)
    expect(again.ours).toEqual(plan.ours)
    // A tag the user removed in the app goes; the user's `Dog` stays even though `dog` is no longer wanted.
    const dropDog = planKeywordChanges(after, ['beach'], 'AI', plan.ours)
    expect(dropDog.remove).toEqual({ subject: [], hierarchical: ['AI|dog'], tagsList: ['AI/dog'] })
    expect(dropDog.removedTags).toEqual(['dog'])
  })

  it('imports the union of the five fields by last level, as written and in its hierarchy, leaving out what the app wrote', () => {
    const sidecar = {
      'XMP-dc:Subject': ['Paris', 'holiday, summer', 'dog', 'cat'],
      'XMP-lr:HierarchicalSubject': ['Places|Europe|Paris', 'AI|dog', 'AI|a\u00a6b'],
      'XMP-digiKam:TagsList': ['Family/Anna', 'AI/dog'],
      'XMP-microsoft:LastKeywordXMP': 'People/Bob',
      'IPTC:Keywords': ['2019']
    }
    const embedded = { 'IPTC:Keywords': 'Grandma  Rose', 'XMP-dc:Subject': ['a|b'] }
    // `dog` sits beside AI|dog, `cat` is recorded as ours, `a|b` beside AI|a¦b: all the app's own.
    const imported = importableKeywords([sidecar, null, embedded], 'AI', { ...emptyEntries(), subject: ['cat'] })
    expect(imported.refused).toEqual([])
    expect(imported.keywords.sort((a, b) => a.text.localeCompare(b.text))).toEqual([
      { text: '2019', path: ['2019'] },
      { text: 'Anna', path: ['Family', 'Anna'] },
      { text: 'Bob', path: ['People', 'Bob'] },
      { text: 'Grandma Rose', path: ['Grandma Rose'] },
      { text: 'holiday, summer', path: ['holiday, summer'] },
      { text: 'Paris', path: ['Places', 'Europe', 'Paris'] }
    ])
    expect(importableKeywords([sidecar], 'Places').keywords.some((k) => k.text === 'Europe')).toBe(false)
  })

  it('names sidecars both ways, updates the one that exists under any case, and names new ones for the program or as the folder does', () => {
    expect(sidecarPath('/p/IMG_1.CR2', 'ext')).toBe('/p/IMG_1.CR2.xmp')
    expect(sidecarPath('/p/IMG_1.CR2', 'adobe')).toBe('/p/IMG_1.xmp')
    expect(sidecarPath('/p/archive.tar.jpg', 'adobe')).toBe('/p/archive.tar.xmp')
    expect(sidecarCandidates('/p/a.jpg')).toEqual(['/p/a.jpg.xmp', '/p/a.xmp'])
    const lightroomFolder = new FolderListing('/p', ['IMG_1.CR2', 'IMG_1.XMP', 'IMG_2.jpg', 'IMG_3.jpg', 'IMG_3.xmp', 'IMG_4.jpg', 'IMG_4.jpg.xmp'])
    // Two photo.xmp against one photo.ext.xmp: the folder is Lightroom's.
    expect(lightroomFolder.naming).toBe('adobe')
    expect(placeSidecar('/p/IMG_1.CR2', lightroomFolder, 'darktable')).toEqual({ kind: 'existing', path: '/p/IMG_1.XMP' })
    expect(placeSidecar('/p/IMG_4.jpg', lightroomFolder, 'lightroom')).toEqual({ kind: 'existing', path: '/p/IMG_4.jpg.xmp' })
    expect(placeSidecar('/p/IMG_2.jpg', lightroomFolder, 'auto')).toEqual({ kind: 'new', path: '/p/IMG_2.xmp', why: 'most sidecars in /p are named photo.xmp' })
    expect(placeSidecar('/p/IMG_2.jpg', lightroomFolder, 'digikam')).toMatchObject({ kind: 'new', path: '/p/IMG_2.jpg.xmp' })
    const empty = new FolderListing('/q', ['a.jpg', 'b.nef'])
    expect(empty.naming).toBeNull()
    expect(placeSidecar('/q/a.jpg', empty, 'auto')).toEqual({ kind: 'new', path: '/q/a.jpg.xmp', why: 'photo.ext.xmp is the default' })
    expect(placeSidecar('/q/b.nef', empty, 'capture-one')).toEqual({ kind: 'new', path: '/q/b.xmp', why: 'sidecars are for Capture One' })
    const both = new FolderListing('/r', ['c.jpg', 'c.jpg.xmp', 'c.xmp'])
    expect(placeSidecar('/r/c.jpg', both, 'lightroom')).toEqual({ kind: 'both', ext: '/r/c.jpg.xmp', adobe: '/r/c.xmp', preferred: 'adobe', why: 'sidecars are for Lightroom' })
    expect(exportSignature(['b', 'a'], 'AI')).toBe(exportSignature(['a', 'b'], 'AI'))
    expect(exportSignature(['a'], 'AI')).not.toBe(exportSignature(['a'], 'ML'))
  })
})

describe('migration 3: tag sources and the sidecars the app wrote', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('upgrades a version 2 library, keeping its tags as the app’s own', () => {
    const path = join(tmp.dir, 'library.sqlite')
    const v2 = openLibraryDatabase(path, MIGRATIONS.slice(0, 2))
    const now = new Date().toISOString()
    v2.prepare('INSERT INTO folders (id, path, added_at) VALUES (1, ?, ?)').run('/photos', now)
    for (const [id, name] of [
      [7, 'a'],
      [8, 'b']
    ] as const) {
      v2.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (?, 1, ?, 1, 1, ?, 'ok', ?)").run(
        id,
        `/photos/${name}.jpg`,
        name,
        now
      )
    }
    v2.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (7, 'dog', 'accepted', ?), (7, 'me', 'user', ?)").run(now, now)
    v2.close()

    const db = openLibraryDatabase(path)
    const tags = new TagStore(db)
    expect(tags.photosWithTag('dog')).toEqual([{ id: 7, path: '/photos/a.jpg', state: 'accepted', source: 'app' }])
    const paris = { text: 'paris', path: ['paris'] }
    expect(tags.importPhotoTags(7, [{ text: 'dog', path: ['dog'] }, paris])).toEqual(['paris'])
    expect(tags.importPhotoTags(8, [paris])).toEqual(['paris'])
    // Accepted and the user's own added in the app are exported; imported keywords are not.
    expect([...tags.exportableTags()]).toEqual([
      [
        7,
        [
          { tag: 'dog', own: false },
          { tag: 'me', own: true, path: ['me'] }
        ]
      ]
    ])
    expect(tags.photosWithTag('paris').map((p) => [p.path, p.source])).toEqual([
      ['/photos/a.jpg', 'xmp'],
      ['/photos/b.jpg', 'xmp']
    ])
    expect(() => db.prepare("UPDATE photo_tags SET source = 'web' WHERE photo_id = 7").run()).toThrow(/CHECK/)

    const store = new XmpStore(db)
    const written = { subject: ['dog'], hierarchical: ['AI|dog'], tagsList: ['AI/dog'] }
    store.saveSidecar({ sidecarPath: '/photos/a.jpg.xmp', written, exportedTags: exportSignature(['dog'], 'AI'), sha256: 'f00' }, 7)
    expect(store.sidecar('/photos/a.jpg.xmp')).toEqual({ sidecarPath: '/photos/a.jpg.xmp', written, exportedTags: exportSignature(['dog'], 'AI'), sha256: 'f00' })
    // A photo leaving the library keeps the record of what was written to its sidecar.
    db.prepare('DELETE FROM photos WHERE id = 7').run()
    expect(store.sidecar('/photos/a.jpg.xmp')?.written).toEqual(written)
    expect(store.photos().map((p) => p.path)).toEqual(['/photos/b.jpg'])
    db.close()
  })
})
