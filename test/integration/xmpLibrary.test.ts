import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { XmpExportSummary } from '../../src/shared/xmp'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { AutoTagger } from '../../src/main/engine/tagging/autoTagger'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir, cocoPhotoNames } from '../helpers/sharedData'
import { DIGIKAM_XMP, LIGHTROOM_XMP } from '../helpers/xmpFixtures'

// A library of four COCO photos with the ConSE pack: keywords users already have are imported,
// tags decided in the app are exported next to them, and a second export changes nothing.
describe('XMP sidecars of the library', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(4)
  const photo = (i: number) => join(folder, names[i])
  const stem = (i: number) => names[i].replace(/\.jpg$/, '')
  const lightroomSidecar = () => join(folder, `${stem(0)}.xmp`)
  const digikamSidecar = () => `${photo(1)}.xmp`
  const exiftool = new ExifToolRunner()
  let engine: Engine
  let tagger: AutoTagger

  const sidecarBytes = () =>
    Object.fromEntries(
      readdirSync(folder)
        .filter((f) => f.endsWith('.xmp'))
        .map((f) => [f, { bytes: readFileSync(join(folder, f)).toString('base64'), mtimeMs: statSync(join(folder, f)).mtimeMs }])
    )
  const keywords = async (path: string) => {
    const [{ tags }] = await exiftool.read([path])
    return {
      subject: (tags?.['XMP-dc:Subject'] as string[] | undefined) ?? [],
      hierarchical: (tags?.['XMP-lr:HierarchicalSubject'] as string[] | undefined) ?? [],
      tagsList: (tags?.['XMP-digiKam:TagsList'] as string[] | undefined) ?? []
    }
  }

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    writeFileSync(lightroomSidecar(), LIGHTROOM_XMP)
    writeFileSync(digikamSidecar(), DIGIKAM_XMP)
    // Photo 2 carries its keywords inside: IPTC only, as older cataloguers wrote them.
    const embedded = await exiftool.run(['-IPTC:Keywords+=Beach', '-IPTC:Keywords+=Grandma Rose', '-overwrite_original', photo(2)])
    expect(embedded.errors).toEqual([])
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    tagger = new AutoTagger({ ...(await engine.repositories()), pack: engine.pack })
  }, 300_000)
  afterAll(async () => {
    await exiftool.close()
    await engine.close()
    tmp.cleanup()
  })

  it('imports the keywords of every field, sidecar and embedded, as searchable user tags never suggested again', async () => {
    const xmp = await engine.xmp()
    const summary = await xmp.importKeywords({ folder })
    expect(summary).toMatchObject({ photos: 4, withKeywords: 4, skipped: [] })
    const byPhoto = Object.fromEntries(summary.tags.map((t) => [t.path.split('/').pop(), [...t.tags].sort()]))
    // Lightroom: dc:subject and the last level of lr:hierarchicalSubject (Places|Europe|Paris), as written.
    expect(byPhoto[names[0]]).toEqual(['Dog', 'Paris', 'holiday, summer'])
    // digiKam: TagsList, MicrosoftPhoto and lr, all naming the same two people and events.
    expect(byPhoto[names[1]]).toEqual(['Anna', 'Birthday'])
    expect(byPhoto[names[2]]).toEqual(['Beach', 'Grandma Rose'])
    // COCO's 000000000034.jpg came with IPTC and XMP keywords of its own.
    expect(byPhoto[names[3]]).toEqual(['Busch Gardens', 'Florida', 'zebra'])
    expect(summary.imported).toBe(10)

    const t = await tagger.tags(photo(1), { top: 10_000 })
    expect(t.user.sort()).toEqual(['Anna', 'Birthday'])
    expect(t.suggestions.map((s) => s.tag)).not.toContain('birthday')
    expect((await tagger.tags(photo(2), { top: 10_000 })).suggestions.map((s) => s.tag)).not.toContain('beach')
    const store = new TagStore((await engine.library()).store.db)
    expect(store.photosWithTag('paris').map((p) => p.path.split('/').pop())).toEqual([names[0]])
    expect(store.photosWithTag('beach')[0]).toMatchObject({ state: 'user', source: 'xmp' })
    // Each keyword keeps its place in the hierarchy it came from.
    expect(store.findKeyword('PARIS')).toEqual({ text: 'Paris', path: ['Places', 'Europe', 'Paris'] })
    expect(store.findKeyword('anna')).toEqual({ text: 'Anna', path: ['Family', 'Anna'] })

    // Importing again adds nothing.
    expect((await xmp.importKeywords({ folder })).imported).toBe(0)
  })

  it('exports accepted tags into the three fields, keeps user keywords, and re-exports nothing', async () => {
    const [a] = await tagger.suggestions(photo(1), { top: 1 })
    await tagger.accept(photo(1), a.tag)
    const [b] = await tagger.suggestions(photo(3), { top: 1 })
    await tagger.accept(photo(3), b.tag)
    const lightroomBefore = readFileSync(lightroomSidecar())
    const xmp = await engine.xmp()

    const dry = await xmp.exportSidecars({ folder, dryRun: true })
    expect(dry).toMatchObject({ written: 2, unchanged: 0, skipped: [], dryRun: true })
    expect(dry.changes).toEqual([
      { sidecar: digikamSidecar(), photos: [photo(1)], create: false, add: [a.tag], remove: [] },
      { sidecar: `${photo(3)}.xmp`, photos: [photo(3)], create: true, add: [b.tag], remove: [] }
    ])
    expect(
      readdirSync(folder)
        .filter((f) => f.endsWith('.xmp'))
        .sort()
    ).toEqual([`${names[1]}.xmp`, `${stem(0)}.xmp`].sort())

    const done = await xmp.exportSidecars({ folder })
    expect(done).toMatchObject({ written: 2, unchanged: 0, skipped: [], dryRun: false, cancelled: false })
    const k1 = await keywords(digikamSidecar())
    expect(k1.subject).toEqual(['Anna', 'Birthday', a.tag])
    expect(k1.hierarchical).toEqual(['Family|Anna', 'Events|Birthday', `AI|${a.tag}`])
    expect(k1.tagsList).toEqual(['Family/Anna', 'Events/Birthday', `AI/${a.tag}`])
    expect(await keywords(`${photo(3)}.xmp`)).toEqual({ subject: [b.tag], hierarchical: [`AI|${b.tag}`], tagsList: [`AI/${b.tag}`] })
    // Imported keywords are never written back; photo 0's Lightroom sidecar is photo.xmp, not ours under ext naming.
    expect(readFileSync(lightroomSidecar()).equals(lightroomBefore)).toBe(true)
    expect(readdirSync(folder).some((f) => f === `${names[0]}.xmp` || f === `${names[2]}.xmp`)).toBe(false)

    const before = sidecarBytes()
    const again = await xmp.exportSidecars({ folder })
    expect(again).toMatchObject({ written: 0, unchanged: 2, skipped: [], changes: [] })
    expect(sidecarBytes()).toEqual(before)
    // The user rates the photo in digiKam: the sidecar is read again, and still left as it is.
    expect((await exiftool.run(['-XMP-xmp:Rating=5', '-overwrite_original', digikamSidecar()])).errors).toEqual([])
    const edited = sidecarBytes()
    expect(await xmp.exportSidecars({ folder })).toMatchObject({ written: 0, unchanged: 2, skipped: [] })
    expect(sidecarBytes()).toEqual(edited)

    // Rejecting the tag in the app removes that keyword only.
    await tagger.reject(photo(1), a.tag)
    const removed = await xmp.exportSidecars({ folder })
    expect(removed.changes).toEqual([{ sidecar: digikamSidecar(), photos: [photo(1)], create: false, add: [], remove: [a.tag] }])
    const k2 = await keywords(digikamSidecar())
    expect(k2).toEqual({ subject: ['Anna', 'Birthday'], hierarchical: ['Family|Anna', 'Events|Birthday'], tagsList: ['Family/Anna', 'Events/Birthday'] })
  })

  it('writes suggestions above --min-score, Lightroom-style names, and warns about a shared photo.xmp', async () => {
    const xmp = await engine.xmp()
    const [top] = await tagger.suggestions(photo(0), { top: 1 })
    // Stopped before it started (Ctrl+C): nothing written, and the summary says so.
    const untouched = sidecarBytes()
    const stopped = await xmp.exportSidecars({ folder, for: 'lightroom', minScore: top.score, top: 1 }, { signal: AbortSignal.abort() })
    expect(stopped).toMatchObject({ written: 0, cancelled: true })
    expect(sidecarBytes()).toEqual(untouched)

    const result = await xmp.exportSidecars({ folder, for: 'lightroom', minScore: top.score, top: 1 })
    expect(result.skipped).toEqual([])
    const lightroom = result.changes.find((c) => c.sidecar === lightroomSidecar())!
    expect(lightroom).toMatchObject({ create: false, add: [top.tag], remove: [] })
    const k = await keywords(lightroomSidecar())
    expect(k.subject).toEqual(['Paris', 'holiday, summer', 'Dog', ...(top.tag === 'dog' ? [] : [top.tag])])
    expect(k.hierarchical).toEqual(['Places|Europe|Paris', `AI|${top.tag}`])

    // Two photos of one name share IMG.xmp under Lightroom naming (photo 2 has no sidecar of its own yet; photo 3's is photo.jpg.xmp).
    copyFileSync(photo(2), join(folder, `${stem(2)}.jpeg`))
    await (await engine.library()).index()
    const pair = await xmp.exportSidecars({ folder, for: 'lightroom', dryRun: true })
    expect(pair.warnings.some((w) => w.includes(`${stem(2)}.xmp`) && w.includes('share'))).toBe(true)
  })

  it('reports a malformed sidecar and a sidecar that is a folder, leaving them as they were, through the CLI', async () => {
    await engine.close()
    const broken = LIGHTROOM_XMP.replace('</rdf:Description>', '')
    writeFileSync(`${photo(3)}.xmp`, broken)
    mkdirSync(join(folder, `${stem(2)}.jpg.xmp`))
    const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])

    const run = await cli('--json', 'export-xmp', folder)
    expect(run.code).toBe(1)
    const summary = JSON.parse(run.stdout) as XmpExportSummary
    expect(summary.skipped).toEqual([{ path: `${photo(3)}.xmp`, reason: expect.stringMatching(/not well-formed XMP/) }])
    expect(readFileSync(`${photo(3)}.xmp`, 'utf8')).toBe(broken)
    expect(run.stderr).toContain(`${photo(3)}.xmp`)

    const imported = await cli('--json', 'import-xmp', folder)
    expect(imported.code).toBe(1)
    const importSummary = JSON.parse(imported.stdout)
    expect(importSummary.skipped.map((s: { path: string }) => s.path).sort()).toEqual([`${photo(2)}.xmp`, `${photo(3)}.xmp`].sort())

    const human = await cli('export-xmp', folder, '--dry-run')
    expect(human.stdout).toMatch(/sidecars would be written, \d+ unchanged, 1 skipped \(dry run/)
    const usage = await cli('export-xmp', '--naming', 'darktable')
    expect(usage.code).toBe(2)
    // The option --for replaced still works in scripts: adobe names sidecars as for Lightroom.
    const older = await cli('--json', 'export-xmp', folder, '--dry-run', '--naming', 'adobe')
    const lightroom = await cli('--json', 'export-xmp', folder, '--dry-run', '--for', 'lightroom')
    const darktable = await cli('--json', 'export-xmp', folder, '--dry-run', '--for', 'darktable')
    expect(older.stdout).toBe(lightroom.stdout)
    expect(older.stdout).not.toBe(darktable.stdout)
  })
})
