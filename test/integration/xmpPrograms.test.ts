import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { XmpExportSummary } from '../../src/shared/xmp'
import { createEngineApi } from '../../src/main/engine/api/engineApi'
import { SettingsStore } from '../../src/main/engine/api/settingsStore'
import { Engine } from '../../src/main/engine/engine'
import { ExifToolRunner, type ExifToolTags } from '../../src/main/engine/xmp/exifToolRunner'
import { writeTestRaw } from '../helpers/rawFiles'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, cocoPhotoNames, tempDir } from '../helpers/sharedData'
import { DARKTABLE_XMP, DIGIKAM_XMP, LIGHTROOM_XMP } from '../helpers/xmpFixtures'

const HEIC_FIXTURE = fileURLToPath(new URL('../fixtures/quadrants.heic', import.meta.url))

/** A sidecar holding only what an earlier version of this app wrote beside the user's own. */
const APP_ONLY_XMP = `<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/">
   <dc:subject><rdf:Bag><rdf:li>dog</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>AI|dog</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <digiKam:TagsList><rdf:Seq><rdf:li>AI/dog</rdf:li></rdf:Seq></digiKam:TagsList>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`

/** A Lightroom sidecar with "Kenya 2023" and Family, as in the issue. */
const KENYA_XMP = `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4">
   <dc:subject><rdf:Bag><rdf:li>Kenya 2023</rdf:li><rdf:li>Family</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>People|Family</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`

const MANAGED = ['XMP-dc:Subject', 'XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList', 'XMP-xmp:MetadataDate']
/** Where image data sits in a file: it moves when the metadata before it grows (the data is compared by its hash). */
const LAYOUT = /:(StripOffsets|PreviewImageStart|JpgFromRawStart|MediaDataOffset|MediaDataSize)$/

// Real ExifTool on both sides, through the engine (and the CLI and API where the output is what
// is tested): files are made here, in a temporary folder, and read back with ExifTool.
describe('which sidecar, for whom, and keywords inside the files', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const exiftool = new ExifToolRunner()
  const [jpegName, otherJpegName] = cocoPhotoNames(2)
  let engine: Engine
  let folderCount = 0
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])

  /** A library folder of the given files (made by `make`), each photo accepted with `tags`. */
  async function library(
    files: Record<string, (path: string) => Promise<unknown> | unknown>,
    tags: Record<string, string[]> = {}
  ): Promise<{ folder: string; path: (name: string) => string; id: (name: string) => number }> {
    const folder = join(tmp.dir, `photos-${++folderCount}`)
    mkdirSync(folder)
    const path = (name: string) => join(folder, name)
    for (const [name, make] of Object.entries(files)) await make(path(name))
    const { photos: store, tags: tagStore } = await engine.repositories()
    const now = new Date().toISOString()
    const folderId = store.db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?)').run(folder, now).lastInsertRowid
    const ids = new Map<string, number>()
    for (const name of Object.keys(files)) {
      if (name.toLowerCase().endsWith('.xmp')) continue
      const id = Number(
        store.db
          .prepare("INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (?, ?, 1, 1, ?, 'ok', ?)")
          .run(folderId, path(name), `${folder}/${name}`, now).lastInsertRowid
      )
      ids.set(name, id)
      for (const tag of tags[name] ?? []) tagStore.setPhotoTag(id, tag, 'accepted')
    }
    return { folder, path, id: (name) => ids.get(name)! }
  }
  /** A copy of a COCO photo, writable (the shared originals are read-only). */
  const jpeg = (path: string) => {
    copyFileSync(join(COCO_DIR, jpegName), path)
    chmodSync(path, 0o644)
  }
  const text = (content: string) => (path: string) => writeFileSync(path, content)
  const read = async (path: string, extra: string[] = []): Promise<ExifToolTags> => {
    const [{ tags, errors }] = await exiftool.read([path], extra)
    if (!tags) throw new Error(`ExifTool could not read ${path}: ${errors.join('; ')}`)
    return tags
  }
  const keywords = async (path: string) => {
    const tags = await read(path)
    const list = (key: string) => (tags[key] === undefined ? [] : ([] as unknown[]).concat(tags[key]))
    return { subject: list('XMP-dc:Subject'), hierarchical: list('XMP-lr:HierarchicalSubject'), tagsList: list('XMP-digiKam:TagsList') }
  }
  const sidecars = (folder: string) =>
    readdirSync(folder)
      .filter((f) => f.toLowerCase().endsWith('.xmp'))
      .sort()

  beforeAll(() => {
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
  })
  afterAll(async () => {
    await exiftool.close()
    await engine.close()
    tmp.cleanup()
  })

  it('updates the sidecar a photo has under either name and in any case, never making a second beside it', async () => {
    const { folder, path } = await library(
      {
        'kenya.jpg': jpeg,
        'kenya.xmp': text(KENYA_XMP),
        'upper.jpg': jpeg,
        'UPPER.XMP': text(LIGHTROOM_XMP),
        'dark.jpg': jpeg,
        'dark.jpg.xmp': text(DARKTABLE_XMP),
        'folder.jpg': jpeg,
        'folder.xmp': (p: string) => mkdirSync(p),
        'locked.jpg': jpeg,
        'locked.xmp': (p: string) => {
          writeFileSync(p, KENYA_XMP)
          chmodSync(p, 0o444)
        }
      },
      { 'kenya.jpg': ['horse'], 'upper.jpg': ['horse'], 'dark.jpg': ['horse'], 'folder.jpg': ['horse'], 'locked.jpg': ['horse'] }
    )
    // Asked for darktable's names, existing Lightroom sidecars are still the ones updated; one that cannot be is named, with why.
    const summary = await (await engine.xmp()).exportSidecars({ folder, for: 'darktable' })
    expect(summary).toMatchObject({ written: 3, choices: [] })
    expect(summary.skipped).toEqual([
      { path: path('folder.xmp'), reason: 'is a folder, not a sidecar file' },
      { path: path('locked.xmp'), reason: 'is read-only; left as it is' }
    ])
    expect(sidecars(folder)).toEqual(['UPPER.XMP', 'dark.jpg.xmp', 'folder.xmp', 'kenya.xmp', 'locked.xmp'])
    expect(readFileSync(path('locked.xmp'), 'utf8')).toBe(KENYA_XMP)
    expect(await keywords(path('kenya.xmp'))).toMatchObject({ subject: ['Kenya 2023', 'Family', 'horse'], hierarchical: ['People|Family', 'AI|horse'] })
    expect((await keywords(path('UPPER.XMP'))).subject).toContain('horse')
  })

  it('with both names present, uses the one holding the user keywords (or the one --for names) and says which and why in the summary, CLI and API', async () => {
    const { folder, path } = await library(
      {
        'IMG_1.jpg': jpeg,
        'IMG_1.xmp': text(KENYA_XMP),
        'IMG_1.jpg.xmp': text(APP_ONLY_XMP),
        'IMG_2.jpg': jpeg,
        'IMG_2.xmp': text(KENYA_XMP),
        'IMG_2.jpg.xmp': text(DARKTABLE_XMP)
      },
      { 'IMG_1.jpg': ['horse'], 'IMG_2.jpg': ['horse'] }
    )
    const appOnly = readFileSync(path('IMG_1.jpg.xmp'))
    const dry = await (await engine.xmp()).exportSidecars({ folder, dryRun: true })
    expect(dry.choices).toEqual([
      { photo: path('IMG_1.jpg'), used: path('IMG_1.xmp'), notUsed: path('IMG_1.jpg.xmp'), why: "it holds your keywords, the other only SDL Tagger's" },
      // Both hold the user's keywords: the default name, as the folder has as many of each.
      { photo: path('IMG_2.jpg'), used: path('IMG_2.jpg.xmp'), notUsed: path('IMG_2.xmp'), why: 'photo.ext.xmp is the default' }
    ])

    const run = await cli('export-xmp', folder, '--for', 'lightroom')
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(
      `note: ${path('IMG_2.jpg')} has two sidecars: ${path('IMG_2.xmp')} is the one updated, not ${path('IMG_2.jpg.xmp')}, because sidecars are for Lightroom`
    )
    expect((await keywords(path('IMG_1.xmp'))).subject).toContain('horse')
    expect((await keywords(path('IMG_2.xmp'))).subject).toContain('horse')
    expect(readFileSync(path('IMG_1.jpg.xmp')).equals(appOnly)).toBe(true)
    expect((await keywords(path('IMG_2.jpg.xmp'))).subject).toEqual(['sunset'])

    const api = await createEngineApi(engine).exportXmp({ dryRun: true, for: 'darktable' })
    if (!api.ok) throw new Error(api.error.message)
    expect(api.value.choices).toContainEqual({ photo: path('IMG_2.jpg'), used: path('IMG_2.jpg.xmp'), notUsed: path('IMG_2.xmp'), why: 'sidecars are for darktable' })
    expect(api.value.warnings).toContain(
      `${path('IMG_1.jpg')} has two sidecars: ${path('IMG_1.jpg.xmp')} is the one updated, not ${path('IMG_1.xmp')}, because sidecars are for darktable`
    )
  })

  it('names new sidecars for --for, the setting, or else the folder, and tells Lightroom users once which photos it will not read', async () => {
    const raw = (path: string) => writeTestRaw(exiftool, path, { layout: 'nef', preview: readFileSync(join(COCO_DIR, otherJpegName)) })
    const png = (path: string) => sharp(join(COCO_DIR, jpegName)).png().toFile(path)
    const { folder, path } = await library(
      { 'old.jpg': jpeg, 'old.xmp': text(KENYA_XMP), 'new.jpg': jpeg, 'shot.cr2': raw, 'screen.png': png },
      { 'new.jpg': ['horse'], 'shot.cr2': ['horse'], 'screen.png': ['horse'] }
    )
    const xmp = await engine.xmp()
    // The folder's one sidecar is Lightroom's: new ones follow it.
    expect((await xmp.exportSidecars({ folder, dryRun: true })).changes.map((c) => c.sidecar)).toEqual([path('new.xmp'), path('screen.xmp'), path('shot.xmp')])
    expect((await xmp.exportSidecars({ folder, dryRun: true, for: 'digikam' })).changes.map((c) => c.sidecar)).toEqual([
      path('new.jpg.xmp'),
      path('screen.png.xmp'),
      path('shot.cr2.xmp')
    ])
    const forLightroom = await xmp.exportSidecars({ folder, dryRun: true, for: 'lightroom' })
    const notes = forLightroom.warnings.filter((w) => w.startsWith('Lightroom'))
    // One note for the run, counting the JPEGs and the PNG (old.jpg's sidecar has no tags to write); the RAW is read from its sidecar.
    expect(notes).toEqual([expect.stringMatching(/^Lightroom reads the keywords of JPEG, TIFF, PNG, HEIC and DNG photos from inside the file.*of 2 photos .*--embed/)])
    expect((await xmp.exportSidecars({ folder, dryRun: true, for: 'lightroom', embed: true })).warnings.filter((w) => w.startsWith('Lightroom'))).toEqual([
      `Lightroom reads the keywords of PNG photos from inside the file, which export does not write into: 1 photo will not show their keywords there (e.g. ${path('screen.png')})`
    ])
    expect((await xmp.exportSidecars({ folder, dryRun: true, for: 'darktable' })).warnings).toEqual([])

    // The setting, through the CLI: digiKam's names; --for wins over it.
    await engine.settings.update({ xmpFor: 'digikam' })
    const bySetting = JSON.parse((await cli('--json', 'export-xmp', folder, '--dry-run')).stdout) as XmpExportSummary
    expect(bySetting.changes.map((c) => c.sidecar)).toContain(path('new.jpg.xmp'))
    const byOption = JSON.parse((await cli('--json', 'export-xmp', folder, '--dry-run', '--for', 'capture-one')).stdout) as XmpExportSummary
    expect(byOption.changes.map((c) => c.sidecar)).toContain(path('new.xmp'))
    expect(byOption.warnings.filter((w) => w.startsWith('Capture One'))).toHaveLength(1)
    await engine.settings.update({ xmpFor: 'auto' })
    expect((await cli('export-xmp', folder, '--for', 'bridge')).code).toBe(2)
  })

  it('loads settings stored before xmpFor: photo.xmp as Lightroom, photo.jpg.xmp as auto', async () => {
    for (const [stored, expected] of [
      ['photo.xmp', 'lightroom'],
      ['photo.jpg.xmp', 'auto']
    ] as const) {
      const dir = join(tmp.dir, `settings-${stored}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'app-settings.json'), JSON.stringify({ theme: 'dark', xmpRoot: 'Tagger', xmpNaming: stored, watchFolders: true }))
      expect(await new SettingsStore(dir).get()).toMatchObject({ theme: 'dark', xmpRoot: 'Tagger', watchFolders: true, xmpFor: expected, xmpEmbed: false, xmpKeepModified: false })
    }
  })

  it('starts a keyword field the sidecar lacked with the keywords it already had, in that field’s form, so digiKam still shows them', async () => {
    const digikamOnly = DIGIKAM_XMP.replace(/<MicrosoftPhoto:LastKeywordXMP>[\s\S]*<\/dc:subject>/, '')
    const { path } = await library(
      { 'dt.cr2.jpg': jpeg, 'dt.cr2.jpg.xmp': text(KENYA_XMP.replace('<rdf:li>Kenya 2023</rdf:li>', '')), 'dk.jpg': jpeg, 'dk.jpg.xmp': text(digikamOnly) },
      { 'dt.cr2.jpg': ['horse'], 'dk.jpg': ['horse'] }
    )
    expect((await keywords(path('dk.jpg.xmp'))).subject).toEqual([])
    const summary = await (await engine.xmp()).exportSidecars({ folder: join(path('dk.jpg'), '..') })
    expect(summary).toMatchObject({ written: 2, skipped: [] })
    // darktable's sidecar had lr:hierarchicalSubject People|Family: the new TagsList starts with People/Family.
    expect(await keywords(path('dt.cr2.jpg.xmp'))).toEqual({ subject: ['Family', 'horse'], hierarchical: ['People|Family', 'AI|horse'], tagsList: ['People/Family', 'AI/horse'] })
    // digiKam's had only its TagsList: the new dc:subject and lr:hierarchicalSubject start with its keywords.
    expect(await keywords(path('dk.jpg.xmp'))).toEqual({
      subject: ['Anna', 'Birthday', 'horse'],
      hierarchical: ['Family|Anna', 'Events|Birthday', 'AI|horse'],
      tagsList: ['Family/Anna', 'Events/Birthday', 'AI/horse']
    })
    expect(summary.warnings).toContainEqual(expect.stringMatching(/^digiKam:TagsList was new in 1 file: it starts with the keywords each already had \(People\/Family in /))
    expect(summary.changes.map((c) => c.add)).toEqual([['horse'], ['horse']])
  })

  it('writes the keywords into JPEG, TIFF, DNG and HEIC files only with --embed, image data and other metadata unchanged, keeping the time when asked', async () => {
    const tiff = (path: string) => sharp(join(COCO_DIR, jpegName)).tiff({ compression: 'lzw' }).toFile(path)
    const dng = (path: string) => writeTestRaw(exiftool, path, { layout: 'dng', preview: readFileSync(join(COCO_DIR, otherJpegName)), tags: ['-DNGVersion=1.4.0.0'] })
    const iptc = async (path: string) => {
      jpeg(path)
      expect((await exiftool.run(['-IPTC:Keywords+=Beach', '-XMP-dc:Title=Evening', '-overwrite_original', path])).errors).toEqual([])
    }
    const files = ['a.jpg', 'b.tif', 'c.dng', 'd.heic', 'locked.jpg']
    const { folder, path, id } = await library(
      { 'a.jpg': iptc, 'b.tif': tiff, 'c.dng': dng, 'd.heic': (p: string) => (copyFileSync(HEIC_FIXTURE, p), chmodSync(p, 0o644)), 'locked.jpg': jpeg },
      Object.fromEntries(files.map((f) => [f, ['horse', 'Kenya 2023']]))
    )
    const old = new Date('2001-02-03T04:05:06Z')
    for (const f of files) utimesSync(path(f), old, old)
    chmodSync(path('locked.jpg'), 0o444)
    const hashArgs = ['-all', '-api', 'ImageHashType=SHA256', '-ImageDataHash']
    const before = Object.fromEntries(await Promise.all(files.map(async (f) => [f, { bytes: readFileSync(path(f)), tags: await read(path(f), hashArgs) }])))
    const xmp = await engine.xmp()

    // Without --embed no photo is touched, whatever happens to its sidecar.
    const sidecarsOnly = await xmp.exportSidecars({ folder })
    expect(sidecarsOnly).toMatchObject({ written: 5, skipped: [], embedded: { written: 0, unchanged: 0, changes: [] } })
    for (const f of files) expect(readFileSync(path(f)).equals(before[f].bytes)).toBe(true)

    const embedded = await xmp.exportSidecars({ folder, embed: true, keepModified: true })
    expect(embedded.skipped).toEqual([{ path: path('locked.jpg'), reason: 'is read-only; nothing was written into it' }])
    expect(embedded.embedded).toMatchObject({ written: 4, unchanged: 0 })
    expect(embedded.embedded.changes.map((c) => c.file)).toEqual(files.slice(0, 4).map(path))
    for (const f of files.slice(0, 4)) {
      const after = await read(path(f), hashArgs)
      expect(after['File:ImageDataHash'], f).toBe(before[f].tags['File:ImageDataHash'])
      expect(after['XMP-lr:HierarchicalSubject'], f).toEqual([...(f === 'a.jpg' ? ['Beach'] : []), 'AI|horse', 'AI|Kenya 2023'])
      const others = (tags: ExifToolTags) =>
        Object.fromEntries(Object.entries(tags).filter(([k]) => !/^(SourceFile|System:|File:|ExifTool:|XMP-x:)/.test(k) && !MANAGED.includes(k) && !LAYOUT.test(k)))
      expect(others(after), f).toEqual(others(before[f].tags))
      expect(statSync(path(f)).mtime.toISOString(), f).toBe(old.toISOString())
    }
    // The JPEG's IPTC keyword, which digiKam would no longer see behind a new TagsList, leads each new field.
    expect(await keywords(path('a.jpg'))).toEqual({
      subject: ['Beach', 'horse', 'Kenya 2023'],
      hierarchical: ['Beach', 'AI|horse', 'AI|Kenya 2023'],
      tagsList: ['Beach', 'AI/horse', 'AI/Kenya 2023']
    })
    expect(readFileSync(path('locked.jpg')).equals(before['locked.jpg'].bytes)).toBe(true)
    expect(readdirSync(folder).filter((f) => f.includes('sdl-tagger'))).toEqual([])

    // Again: nothing to do. Then through the CLI without --keep-mtime, after a tag is rejected: it leaves the files, and the time is the write's.
    expect((await xmp.exportSidecars({ folder, embed: true })).embedded).toMatchObject({ written: 0, unchanged: 4 })
    const { tags: tagStore } = await engine.repositories()
    for (const f of files.slice(0, 4)) tagStore.setPhotoTag(id(f), 'horse', 'rejected')
    const run = await cli('export-xmp', folder, '--embed')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`warning: ${path('locked.jpg')}: is read-only; nothing was written into it`)
    expect(run.stdout).toContain(`${path('c.dng')} (in the file): - horse`)
    expect(run.stdout).toMatch(/4 photo files written, 0 unchanged/)
    for (const f of files.slice(0, 4)) {
      expect((await keywords(path(f))).hierarchical, f).not.toContain('AI|horse')
      expect(statSync(path(f)).mtime.toISOString(), f).not.toBe(old.toISOString())
    }
  })

  it('imports both sidecars and the keywords inside the file, merged by identity in any case, never the entries the app wrote', async () => {
    const darktable = KENYA_XMP.replace('<rdf:li>Kenya 2023</rdf:li><rdf:li>Family</rdf:li>', '<rdf:li>family</rdf:li><rdf:li>Safari</rdf:li>').replace(
      'People|Family',
      'Trips|Safari'
    )
    const withBeach = async (path: string) => {
      jpeg(path)
      expect((await exiftool.run(['-IPTC:Keywords+=Beach', '-overwrite_original', path])).errors).toEqual([])
    }
    const { folder, path } = await library({ 'fam.jpg': withBeach, 'fam.xmp': text(KENYA_XMP), 'fam.jpg.xmp': text(darktable) }, { 'fam.jpg': ['horse'] })
    const xmp = await engine.xmp()
    const exported = await xmp.exportSidecars({ folder, embed: true })
    expect(exported).toMatchObject({ written: 1, skipped: [], embedded: { written: 1 } })
    expect((await keywords(path('fam.jpg'))).hierarchical).toContain('AI|horse')

    // Under another root, the app's AI| entries are recognised by the record of what it wrote, in the sidecar and in the photo.
    const imported = await xmp.importKeywords({ folder, root: 'Tagger' })
    expect(imported.skipped).toEqual([])
    expect(imported.tags).toEqual([{ path: path('fam.jpg'), tags: expect.any(Array) }])
    expect(imported.tags[0].tags.sort()).toEqual(['Beach', 'Family', 'Kenya 2023', 'Safari'])
    const { tags: tagStore } = await engine.repositories()
    // `family` (darktable's flat keyword) and People|Family are one keyword, spelled and placed as the user's hierarchy has it.
    expect(tagStore.findKeyword('FAMILY')).toEqual({ text: 'Family', path: ['People', 'Family'] })
    expect(tagStore.findKeyword('safari')).toEqual({ text: 'Safari', path: ['Trips', 'Safari'] })
    expect(tagStore.findKeyword('horse')?.path).toEqual(['horse'])
  })
})
