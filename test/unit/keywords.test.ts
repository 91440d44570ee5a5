import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { MIGRATIONS } from '../../src/main/engine/library/migrations'
import { KeywordBook } from '../../src/main/engine/tagging/keywordBook'
import { MAX_KEYWORD_LENGTH, checkKeyword, keywordKey, keywordText } from '../../src/main/engine/tagging/keywordText'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { entriesForKeyword, importableKeywords, planKeywordChanges } from '../../src/main/engine/xmp/keywordFields'
import { tempDir } from '../helpers/sharedData'

describe('keyword text and identity', () => {
  it('keeps a keyword as written: NFC, trimmed, inner whitespace one space, case and punctuation kept', () => {
    expect(keywordText('  Kenya\t 2023\n')).toBe('Kenya 2023')
    expect(keywordText('Cafe\u0301')).toBe('Café')
    expect(keywordText('Client-ACME-2024')).toBe('Client-ACME-2024')
    for (const kept of ['AC/DC', 'a|b', 'salt, pepper', 'say "cheese"', "o'neill", '<&>', '東京 ☕', '👩‍👩‍👧']) expect(keywordText(kept)).toBe(kept)
    expect(keywordText('x'.repeat(MAX_KEYWORD_LENGTH))).toHaveLength(MAX_KEYWORD_LENGTH)
    // Counted in characters, not UTF-16 units.
    expect(checkKeyword('😀'.repeat(MAX_KEYWORD_LENGTH)).ok).toBe(true)
  })

  it('refuses empty, control characters and overlong keywords, naming the reason', () => {
    expect(checkKeyword(' \t\n ')).toEqual({ ok: false, reason: 'a keyword cannot be empty' })
    expect(checkKeyword('bell\u0007')).toEqual({ ok: false, reason: 'it contains the control character U+0007' })
    expect(checkKeyword('nul\u0000')).toEqual({ ok: false, reason: 'it contains the control character U+0000' })
    expect(checkKeyword('half \ud800')).toEqual({ ok: false, reason: 'it contains the control character U+D800' })
    expect(checkKeyword('x'.repeat(MAX_KEYWORD_LENGTH + 1))).toEqual({ ok: false, reason: `it is ${MAX_KEYWORD_LENGTH + 1} characters long, more than ${MAX_KEYWORD_LENGTH}` })
    const err = (() => {
      try {
        return keywordText('\u0001')
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(SdlError)
    expect((err as SdlError).message).toBe('Keyword "\\u0001" refused: it contains the control character U+0001')
  })

  it('makes keywords differing in case, spacing or Unicode form one identity', () => {
    expect(keywordKey('Kenya')).toBe(keywordKey('kenya'))
    expect(keywordKey(' Kenya  2023 ')).toBe(keywordKey('KENYA 2023'))
    expect(keywordKey('Cafe\u0301')).toBe(keywordKey('CAFÉ'))
    expect(keywordKey('Kenya')).not.toBe(keywordKey('Kenia'))
  })
})

describe('keywords in the library', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  let n = 0
  const library = () => {
    const db = openLibraryDatabase(join(tmp.dir, `library-${++n}.sqlite`))
    const now = new Date().toISOString()
    db.prepare('INSERT INTO folders (id, path, added_at) VALUES (1, ?, ?)').run('/photos', now)
    for (const id of [1, 2, 3]) {
      db.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (?, 1, ?, 1, 1, ?, 'ok', ?)").run(
        id,
        `/photos/${id}.jpg`,
        `f${id}`,
        now
      )
    }
    return { db, tags: new TagStore(db) }
  }

  it('keeps the first spelling, finds a keyword in any case, and places a flat one in a hierarchy found later', () => {
    const { db, tags } = library()
    expect(tags.setPhotoTag(1, 'Kenya', 'user')).toBe('Kenya')
    expect(tags.setPhotoTag(2, 'kenya', 'user')).toBe('Kenya')
    expect(tags.photoTags(2)).toEqual([{ tag: 'Kenya', state: 'user' }])
    expect(tags.photosWithTag('KENYA').map((p) => p.id)).toEqual([1, 2])
    expect(tags.importPhotoTags(3, [{ text: 'KENYA', path: ['Places', 'Africa', 'KENYA'] }])).toEqual(['Kenya'])
    expect(tags.findKeyword('kenya')).toEqual({ text: 'Kenya', path: ['Places', 'Africa', 'KENYA'] })
    // A hierarchy, once known, is not replaced by a flat mention.
    tags.keyword('kenya')
    expect(tags.findKeyword('kenya')?.path).toEqual(['Places', 'Africa', 'KENYA'])
    expect(tags.tagDecisions('kenya')).toEqual({ tagged: [1, 2, 3], rejected: [] })
    expect(tags.tagDecisions('never used')).toBeNull()
    db.close()
  })

  it('lists, renames and merges keywords, keeping every photo tagged', () => {
    const { db, tags } = library()
    const book = new KeywordBook(tags)
    tags.importPhotoTags(1, [
      { text: 'Africa', path: ['Places', 'Africa'] },
      { text: 'Kenya', path: ['Places', 'Africa', 'Kenya'] }
    ])
    tags.setPhotoTag(2, 'Kenya', 'user')
    tags.setPhotoTag(2, 'grandma rose', 'user')
    tags.setPhotoTag(3, 'Nana', 'user')
    tags.setPhotoTag(3, 'dog', 'accepted')
    tags.setPhotoTag(1, 'Grandma Rose', 'rejected')
    tags.addCustomWords(['Nana'])
    expect(book.list()).toEqual([
      { keyword: 'Kenya', path: ['Places', 'Africa', 'Kenya'], photos: 2, learned: null },
      { keyword: 'Africa', path: ['Places', 'Africa'], photos: 1, learned: null },
      { keyword: 'grandma rose', path: ['grandma rose'], photos: 1, learned: null },
      { keyword: 'Nana', path: ['Nana'], photos: 1, learned: null }
    ])

    // A change of case respells it; a new name moves what is below it in the hierarchy.
    expect(book.rename('GRANDMA ROSE', 'Grandma Rose')).toBe('Grandma Rose')
    expect(
      tags
        .photoTags(2)
        .map((t) => t.tag)
        .sort()
    ).toEqual(['Grandma Rose', 'Kenya'])
    book.rename('africa', 'Afrika')
    expect(tags.findKeyword('kenya')?.path).toEqual(['Places', 'Afrika', 'Kenya'])
    expect(tags.photosWithTag('afrika').map((p) => p.id)).toEqual([1])
    expect(tags.findKeyword('africa')).toBeUndefined()

    // Renaming onto another keyword merges them: photo 1 had Grandma Rose rejected, Nana's tag wins there.
    tags.setPhotoTag(1, 'Nana', 'user')
    expect(book.rename('nana', 'grandma rose')).toBe('grandma rose')
    expect(tags.findKeyword('nana')).toBeUndefined()
    expect(tags.photosWithTag('Grandma Rose').map((p) => [p.id, p.state])).toEqual([
      [1, 'user'],
      [2, 'user'],
      [3, 'user']
    ])
    expect(tags.customWords()).toEqual(['grandma rose'])

    // merge a b: b's photos get a, b goes.
    expect(book.merge('Kenya', 'grandma rose')).toBe('Kenya')
    expect(tags.photosWithTag('kenya').map((p) => p.id)).toEqual([1, 2, 3])
    expect(tags.findKeyword('grandma rose')).toBeUndefined()
    expect(tags.customWords()).toEqual(['Kenya'])
    // In the order of their decisions, which may fall in the same millisecond: compared as a set.
    expect(tags.photoTags(3).sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
      { tag: 'dog', state: 'accepted' },
      { tag: 'Kenya', state: 'user' }
    ])
    expect(() => book.merge('Kenya', 'KENYA')).toThrow(/same keyword/)
    expect(() => book.rename('nowhere', 'x')).toThrow(/No keyword 'nowhere'/)
    expect(() => book.rename('Kenya', '\u0000')).toThrow(/control character/)
    expect(tags.findKeyword('kenya')?.text).toBe('Kenya')
    db.close()
  })

  it('holds 10,000 keywords on one photo, and tricky ones beside them, without losing any', () => {
    const { db, tags } = library()
    const tricky = ['a|b', 'AC/DC', 'salt, pepper', 'say "cheese"', '<&>']
    const many = Array.from({ length: 10_000 }, (_, i) => ({ text: `Keyword ${i}`, path: [`Keyword ${i}`] }))
    expect(tags.importPhotoTags(1, many)).toHaveLength(10_000)
    for (const t of tricky) tags.setPhotoTag(1, t, 'user')
    const onPhoto = tags.photoTags(1)
    expect(onPhoto).toHaveLength(10_005)
    expect(
      onPhoto
        .filter((t) => !t.tag.startsWith('Keyword '))
        .map((t) => t.tag)
        .sort()
    ).toEqual([...tricky].sort())
    expect(
      tags
        .exportableTags()
        .get(1)
        ?.sort((a, b) => a.tag.localeCompare(b.tag))
    ).toEqual([...tricky].sort((a, b) => a.localeCompare(b)).map((tag) => ({ tag, own: true, path: [tag] })))
    db.close()
  })
})

describe('the user’s keywords in XMP fields', () => {
  it('writes an own keyword under its own hierarchy, separators in a level replaced by look-alikes, and reads it back the same', () => {
    expect(entriesForKeyword({ tag: 'Kenya', path: ['Places', 'Africa', 'Kenya'] }, 'AI')).toEqual({
      subject: 'Kenya',
      hierarchical: 'Places|Africa|Kenya',
      tagsList: 'Places/Africa/Kenya'
    })
    expect(entriesForKeyword({ tag: 'Smyrnakis', path: ['Smyrnakis'] }, 'AI')).toEqual({ subject: 'Smyrnakis', hierarchical: 'Smyrnakis', tagsList: 'Smyrnakis' })
    const acdc = entriesForKeyword({ tag: 'AC/DC', path: ['Music', 'AC/DC'] }, 'AI')
    const pipe = entriesForKeyword({ tag: 'a|b', path: ['a|b'] }, 'AI')
    expect([acdc.hierarchical, acdc.tagsList, pipe.hierarchical, pipe.tagsList]).toEqual(['Music|AC/DC', 'Music/AC\u2215DC', 'a\u00a6b', 'a|b'])
    const read = importableKeywords(
      [{ 'XMP-lr:HierarchicalSubject': [acdc.hierarchical, pipe.hierarchical], 'XMP-digiKam:TagsList': [acdc.tagsList, pipe.tagsList], 'XMP-dc:Subject': ['AC/DC', 'a|b'] }],
      'AI'
    )
    expect(read).toEqual({
      keywords: [
        { text: 'AC/DC', path: ['Music', 'AC/DC'] },
        { text: 'a|b', path: ['a|b'] }
      ],
      refused: []
    })
  })

  it('plans the app’s tags under the root and the user’s under their hierarchy, leaving the user’s entries alone', () => {
    const current = { subject: ['Paris'], hierarchical: ['Places|Europe|Paris'], tagsList: [] }
    const plan = planKeywordChanges(current, ['dog', { tag: 'Kenya', path: ['Places', 'Africa', 'Kenya'] }, { tag: 'paris', path: ['Places', 'Europe', 'paris'] }], 'AI', {
      subject: [],
      hierarchical: [],
      tagsList: []
    })
    expect(plan.add).toEqual({
      subject: ['dog', 'Kenya'],
      hierarchical: ['AI|dog', 'Places|Africa|Kenya'],
      // A new TagsList starts with the keywords the file had (Places/Europe/Paris), so the app's `paris` is already there.
      tagsList: ['Places/Europe/Paris', 'AI/dog', 'Places/Africa/Kenya']
    })
    expect(plan.addedTags.sort()).toEqual(['Kenya', 'dog'])
  })

  it('leaves out a keyword it cannot hold, naming it, and imports the others', () => {
    const read = importableKeywords([{ 'XMP-dc:Subject': ['Good', 'bad\u0007', ' '], 'XMP-lr:HierarchicalSubject': ['Places||Kenya|'] }], 'AI')
    expect(read.keywords).toEqual([
      { text: 'Kenya', path: ['Places', 'Kenya'] },
      { text: 'Good', path: ['Good'] }
    ])
    expect(read.refused).toEqual([
      { keyword: 'bad\u0007', reason: 'it contains the control character U+0007' },
      { keyword: ' ', reason: 'a keyword cannot be empty' }
    ])
  })
})

describe('migration 6: keywords as written', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('upgrades a version 5 library, keeping every tag, its state and source, and the custom words', () => {
    const path = join(tmp.dir, 'v5.sqlite')
    const v5 = openLibraryDatabase(path, MIGRATIONS.slice(0, 5))
    const now = new Date().toISOString()
    v5.prepare('INSERT INTO folders (id, path, added_at) VALUES (1, ?, ?)').run('/photos', now)
    for (const id of [7, 8]) {
      v5.prepare("INSERT INTO photos (id, folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (?, 1, ?, 1, 1, ?, 'ok', ?)").run(
        id,
        `/photos/${id}.jpg`,
        `f${id}`,
        now
      )
    }
    const insert = v5.prepare('INSERT INTO photo_tags (photo_id, tag, state, created_at, source) VALUES (?, ?, ?, ?, ?)')
    insert.run(7, 'dog', 'accepted', '2024-01-01T00:00:00.000Z', 'app')
    insert.run(7, 'grandma rose', 'user', '2024-01-02T00:00:00.000Z', 'app')
    insert.run(8, 'grandma rose', 'user', '2024-01-03T00:00:00.000Z', 'xmp')
    insert.run(8, 'cat', 'rejected', '2024-01-04T00:00:00.000Z', 'app')
    v5.prepare("INSERT INTO custom_vocabulary (tag, added_at) VALUES ('kayak', ?), ('grandma rose', ?)").run(now, now)
    v5.close()

    const db = openLibraryDatabase(path)
    const tags = new TagStore(db)
    expect(tags.photoTags(7)).toEqual([
      { tag: 'dog', state: 'accepted' },
      { tag: 'grandma rose', state: 'user' }
    ])
    expect(tags.photoTags(8)).toEqual([
      { tag: 'grandma rose', state: 'user' },
      { tag: 'cat', state: 'rejected' }
    ])
    expect(tags.photosWithTag('Grandma Rose').map((p) => [p.id, p.source])).toEqual([
      [7, 'app'],
      [8, 'xmp']
    ])
    expect(tags.customWords().sort()).toEqual(['grandma rose', 'kayak'])
    expect(tags.findKeyword('grandma rose')).toEqual({ text: 'grandma rose', path: ['grandma rose'] })
    expect(db.pragma('foreign_key_check')).toEqual([])
    // A tag now names a keyword: a rename follows into every tag and word.
    expect(() => db.prepare("INSERT INTO photo_tags (photo_id, tag, state, created_at) VALUES (7, 'nothing', 'user', ?)").run(now)).toThrow(/FOREIGN KEY/)
    new KeywordBook(tags).rename('grandma rose', 'Grandma Rose')
    expect(tags.photoTags(8)[0]).toEqual({ tag: 'Grandma Rose', state: 'user' })
    expect(tags.customWords().sort()).toEqual(['Grandma Rose', 'kayak'])
    db.close()
  })
})
