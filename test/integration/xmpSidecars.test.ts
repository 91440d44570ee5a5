import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ExifToolRunner, type ExifToolTags } from '../../src/main/engine/xmp/exifToolRunner'
import { MANAGED_FIELDS, emptyEntries, importableKeywords, planKeywordChanges } from '../../src/main/engine/xmp/keywordFields'
import { readSidecars, writeSidecars } from '../../src/main/engine/xmp/sidecarFile'
import { tempDir } from '../helpers/sharedData'
import { DARKTABLE_XMP, DIGIKAM_XMP, LIGHTROOM_XMP } from '../helpers/xmpFixtures'

// Real ExifTool on both sides: the sidecars are written through writeSidecars and read back
// with ExifTool's own full property listing (-G1 -a -struct), never with our parsing alone.
/** Makes a folder unwritable, for root too where the file system allows; returns the undo, or null. */
function lockFolder(dir: string): (() => void) | null {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555)
    return () => chmodSync(dir, 0o755)
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' })
    return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' })
  } catch {
    return null
  }
}

describe('XMP sidecars written through ExifTool', () => {
  const tmp = tempDir()
  const exiftool = new ExifToolRunner()
  afterAll(async () => {
    await exiftool.close()
    tmp.cleanup()
  })

  const fixture = (name: string, text: string) => {
    const path = join(tmp.dir, name)
    writeFileSync(path, text)
    return path
  }
  const readAll = async (path: string): Promise<ExifToolTags> => {
    const [{ tags }] = await exiftool.read([path])
    expect(tags).not.toBeNull()
    return tags!
  }
  /** Every metadata property except the keyword fields export manages and xmp:MetadataDate. */
  const otherProperties = (tags: ExifToolTags) => {
    const managed = new Set<string>([...Object.values(MANAGED_FIELDS), 'XMP-xmp:MetadataDate'])
    return Object.fromEntries(Object.entries(tags).filter(([k]) => !/^(SourceFile|System:|File:|ExifTool:)/.test(k) && !managed.has(k)))
  }
  const exportTags = async (path: string, tags: string[], ours = emptyEntries()) => {
    const [state] = await readSidecars(exiftool, [path])
    if (state.kind === 'unusable') throw new Error(state.reason)
    const plan = planKeywordChanges(state.kind === 'file' ? state.entries : emptyEntries(), tags, 'AI', ours)
    const [result] = await writeSidecars(exiftool, [{ state, add: plan.add, remove: plan.remove }])
    return { plan, result }
  }

  it('writes new sidecars that ExifTool reads back in all three fields', async () => {
    const path = join(tmp.dir, 'new.jpg.xmp')
    const { result } = await exportTags(path, ['dog', 'beach'])
    expect(result.ok).toBe(true)
    const tags = await readAll(path)
    expect(tags['XMP-dc:Subject']).toEqual(['dog', 'beach'])
    expect(tags['XMP-lr:HierarchicalSubject']).toEqual(['AI|dog', 'AI|beach'])
    expect(tags['XMP-digiKam:TagsList']).toEqual(['AI/dog', 'AI/beach'])
    expect(tags['XMP-xmp:MetadataDate']).toMatch(/^\d{4}:/)
  })

  for (const [style, name, text, dropped] of [
    ['Lightroom (crs: develop settings, user keywords)', 'IMG_1.xmp', LIGHTROOM_XMP, []],
    ['darktable (history, darktable tags)', 'IMG_2.CR2.xmp', DARKTABLE_XMP, ['XMP-darktable:Masks_history']],
    ['digiKam (TagsList, MicrosoftPhoto, labels)', 'IMG_3.jpg.xmp', DIGIKAM_XMP, []]
  ] as const) {
    it(`keeps every other property and user keyword of a ${style} sidecar`, async () => {
      const path = fixture(name, text)
      const before = await readAll(path)
      const { result, plan } = await exportTags(path, ['dog', 'sunset'])
      expect(result.ok).toBe(true)
      const after = await readAll(path)
      // The only property lost is an empty list ExifTool cannot write (darktable's masks_history
      // without masks), and the export says so.
      const expected = otherProperties(before)
      for (const key of dropped) {
        expect(expected[key]).toBe('')
        delete expected[key]
      }
      expect(otherProperties(after)).toEqual(expected)
      if (result.ok) expect(result.notes.map((n) => n.split(' ')[0])).toEqual([...dropped])
      for (const field of Object.values(MANAGED_FIELDS)) {
        const was = (before[field] as string[] | undefined) ?? []
        const now = after[field] as string[]
        // The user's entries are all still there, in their order, followed by ours.
        expect(now.slice(0, was.length)).toEqual(was)
      }
      expect(after['XMP-lr:HierarchicalSubject']).toEqual(expect.arrayContaining(['AI|dog', 'AI|sunset']))
      expect(after['XMP-digiKam:TagsList']).toEqual(expect.arrayContaining(['AI/dog', 'AI/sunset']))

      // Removing a tag in the app removes only that keyword; the user's `sunset` (darktable's) stays.
      const bytesBefore = readFileSync(path)
      const second = await exportTags(path, ['sunset'], plan.ours)
      expect(second.result.ok).toBe(true)
      expect(readFileSync(path).equals(bytesBefore)).toBe(false)
      const third = await readAll(path)
      expect(third['XMP-dc:Subject']).not.toContain('dog')
      expect(third['XMP-lr:HierarchicalSubject']).not.toContain('AI|dog')
      expect(third['XMP-digiKam:TagsList']).not.toContain('AI/dog')
      for (const field of Object.values(MANAGED_FIELDS)) expect(third[field] ?? []).toEqual(expect.arrayContaining((before[field] as string[] | undefined) ?? []))
      expect(otherProperties(third)).toEqual(expected)
    })
  }

  it('round-trips keywords with | / , quotes <&> and unicode, escaping only the hierarchy separators', async () => {
    const tricky = ['a|b', 'AC/DC', 'salt, pepper', 'say "cheese"', "o'neill", '<&>', 'café ☕ 東京', '2019', '1.50']
    const path = join(tmp.dir, 'tricky.jpg.xmp')
    expect((await exportTags(path, tricky)).result.ok).toBe(true)
    const tags = await readAll(path)
    expect(tags['XMP-dc:Subject']).toEqual(tricky)
    expect(tags['XMP-lr:HierarchicalSubject']).toContain('AI|a\u00a6b')
    expect(tags['XMP-lr:HierarchicalSubject']).toContain('AI|AC/DC')
    expect(tags['XMP-digiKam:TagsList']).toContain('AI/AC\u2215DC')
    expect(tags['XMP-digiKam:TagsList']).toContain('AI/a|b')
    expect((tags['XMP-lr:HierarchicalSubject'] as string[]).every((e) => e.split('|').length === 2)).toBe(true)
    expect((tags['XMP-digiKam:TagsList'] as string[]).every((e) => e.split('/').length === 2)).toBe(true)
    // Read back as keywords, our own entries are recognised as ours and nothing is imported.
    expect(importableKeywords([tags], 'AI')).toEqual({ keywords: [], refused: [] })
  })

  it('writes and reads back 10,000 keywords', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `keyword ${i}`)
    const path = join(tmp.dir, 'many.jpg.xmp')
    const { result, plan } = await exportTags(path, many)
    expect(result).toEqual({ ok: true, sha256: expect.any(String), notes: [] })
    const tags = await readAll(path)
    expect(tags['XMP-dc:Subject']).toEqual(many)
    expect((tags['XMP-digiKam:TagsList'] as string[]).length).toBe(10_000)
    // And one of them removed again: the other 9,999 stay.
    const second = await exportTags(path, many.slice(1), plan.ours)
    expect(second.result).toEqual({ ok: true, sha256: expect.any(String), notes: [] })
    expect(second.plan.removedTags).toEqual(['keyword 0'])
    expect((await readAll(path))['XMP-dc:Subject']).toEqual(many.slice(1))
  }, 300_000)

  it('leaves a malformed sidecar, a non-XMP file and a folder untouched, naming the reason', async () => {
    const malformed = fixture('bad.jpg.xmp', LIGHTROOM_XMP.replace('</rdf:Description>', ''))
    const text = fixture('text.jpg.xmp', 'these are not the keywords you are looking for')
    const folder = join(tmp.dir, 'folder.jpg.xmp')
    mkdirSync(folder)
    const states = await readSidecars(exiftool, [malformed, text, folder])
    expect(states.map((s) => s.kind)).toEqual(['unusable', 'unusable', 'unusable'])
    const reasons = states.map((s) => (s.kind === 'unusable' ? s.reason : ''))
    expect(reasons[0]).toMatch(/not well-formed XMP/)
    expect(reasons[1]).toMatch(/not an XMP file/)
    expect(reasons[2]).toMatch(/is a folder/)
    expect(readFileSync(malformed, 'utf8')).toBe(LIGHTROOM_XMP.replace('</rdf:Description>', ''))
  })

  it('leaves a read-only sidecar and a linked one as they are', async () => {
    const readOnly = fixture('locked.xmp', LIGHTROOM_XMP)
    chmodSync(readOnly, 0o444)
    const target = fixture('target.xmp', DIGIKAM_XMP)
    const linked = join(tmp.dir, 'linked.jpg.xmp')
    symlinkSync(target, linked)
    const states = await readSidecars(exiftool, [readOnly, linked])
    expect(states.map((s) => (s.kind === 'unusable' ? s.reason : s.kind))).toEqual(['is read-only; left as it is', 'is a symbolic link; left as it is'])
  })

  it('reports a read-only folder and leaves its sidecar as it was', async (ctx) => {
    const dir = join(tmp.dir, 'readonly')
    mkdirSync(dir)
    const existing = join(dir, 'IMG_5.xmp')
    writeFileSync(existing, LIGHTROOM_XMP)
    const unlock = lockFolder(dir)
    // Root writes anywhere permissions say no; only an immutable folder (chattr +i) stops it.
    if (!unlock) return ctx.skip()
    try {
      const states = await readSidecars(exiftool, [existing, join(dir, 'IMG_6.jpg.xmp')])
      const results = await writeSidecars(
        exiftool,
        states.map((state) => {
          if (state.kind === 'unusable') throw new Error(state.reason)
          return { state, ...planKeywordChanges(state.kind === 'file' ? state.entries : emptyEntries(), ['dog'], 'AI', emptyEntries()) }
        })
      )
      for (const r of results) {
        expect(r.ok).toBe(false)
        if (!r.ok) expect(r.reason).toMatch(/could not write/i)
      }
      expect(readFileSync(existing, 'utf8')).toBe(LIGHTROOM_XMP)
      expect(readdirSync(dir)).toEqual(['IMG_5.xmp'])
    } finally {
      unlock()
    }
  })

  it('skips a sidecar that changed on disk between reading and replacing it', async () => {
    const path = fixture('race.xmp', LIGHTROOM_XMP)
    const [state] = await readSidecars(exiftool, [path])
    if (state.kind !== 'file') throw new Error('expected a sidecar')
    const edited = LIGHTROOM_XMP.replace('xmp:Rating="3"', 'xmp:Rating="5"')
    writeFileSync(path, edited)
    const plan = planKeywordChanges(state.entries, ['dog'], 'AI', emptyEntries())
    const [result] = await writeSidecars(exiftool, [{ state, add: plan.add, remove: plan.remove }])
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/changed on disk/) })
    expect(readFileSync(path, 'utf8')).toBe(edited)
  })
})
