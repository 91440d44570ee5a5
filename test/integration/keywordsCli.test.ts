import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SearchApi } from '../../src/main/engine/api/searchApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir, cocoPhotoNames } from '../helpers/sharedData'

/** A sidecar holding the given keywords, as digiKam and Lightroom write them. */
function sidecarWith(fields: { subject?: string[]; hierarchical?: string[]; tagsList?: string[] }): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const bag = (name: string, values: string[] = []) => (values.length ? `<${name}><rdf:Bag>${values.map((v) => `<rdf:li>${escape(v)}</rdf:li>`).join('')}</rdf:Bag></${name}>` : '')
  return `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/">
${bag('dc:subject', fields.subject)}${bag('lr:hierarchicalSubject', fields.hierarchical)}${bag('digiKam:TagsList', fields.tagsList)}
</rdf:Description></rdf:RDF></x:xmpmeta>
`
}

// The user's own keywords through the command line, on three COCO photos with the ConSE pack:
// kept as written, one per case-insensitive identity, searchable, renamed and merged, and
// written to sidecars under their own hierarchy.
describe('keywords of your own', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(3)
  const photo = (i: number) => join(folder, names[i])
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await cli('--json', ...args)
    expect(run.stderr).not.toMatch(/error|warning/i)
    expect(run.code).toBe(0)
    return JSON.parse(run.stdout) as T
  }
  const userTags = async (i: number) => (await json<{ user: string[] }>('tags', photo(i))).user.sort()
  const searchPaths = async (query: string) => (await json<Array<{ path: string }>>('search', query)).map((h) => h.path).sort()
  const exiftool = new ExifToolRunner()

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    // COCO photos carry keywords of their own; these three start clean, so only ours are seen.
    for (const name of names) expect((await exiftool.run(['-all=', '-overwrite_original', join(folder, name)])).errors).toEqual([])
    const engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    await engine.close()
  }, 300_000)
  afterAll(async () => {
    await exiftool.close()
    tmp.cleanup()
  })

  it('adds names the lexicon does not know, as written, one keyword whatever the case', async () => {
    expect((await cli('add-tag', photo(0), 'Smyrnakis')).stdout).toContain(`Tagged ${photo(0)} 'Smyrnakis'`)
    expect(await json('add-tag', photo(0), 'Client-ACME-2024')).toEqual({ path: photo(0), tag: 'Client-ACME-2024', state: 'user' })
    expect((await json<{ tag: string }>('add-tag', photo(1), '  Grandma   Rose ')).tag).toBe('Grandma Rose')
    expect((await json<{ tag: string }>('add-tag', photo(1), 'Kenya 2023')).tag).toBe('Kenya 2023')
    // The first spelling given is kept.
    expect((await json<{ tag: string }>('add-tag', photo(2), 'KENYA 2023')).tag).toBe('Kenya 2023')
    expect(await userTags(0)).toEqual(['Client-ACME-2024', 'Smyrnakis'])
    expect(await userTags(1)).toEqual(['Grandma Rose', 'Kenya 2023'])
    expect(await userTags(2)).toEqual(['Kenya 2023'])
    expect(await json('keywords', 'list')).toEqual([
      { keyword: 'Kenya 2023', path: ['Kenya 2023'], photos: 2, learned: null },
      { keyword: 'Client-ACME-2024', path: ['Client-ACME-2024'], photos: 1, learned: null },
      { keyword: 'Grandma Rose', path: ['Grandma Rose'], photos: 1, learned: null },
      { keyword: 'Smyrnakis', path: ['Smyrnakis'], photos: 1, learned: null }
    ])
  })

  it('finds the photos that carry a keyword: a quoted phrase or a word the lexicon lacks, in any case', async () => {
    expect(await searchPaths('"kenya 2023"')).toEqual(expect.arrayContaining([photo(1), photo(2)]))
    const hits = await json<Array<{ path: string; match: { tagged: boolean } }>>('search', '"Kenya 2023"')
    expect(
      hits
        .filter((h) => h.match.tagged)
        .map((h) => h.path)
        .sort()
    ).toEqual([photo(1), photo(2)])
    expect(await searchPaths('SMYRNAKIS')).toEqual([photo(0)])
    expect(await searchPaths('smyrnakis | "grandma rose"')).toEqual([photo(0), photo(1)])
    const unknown = await cli('search', 'qzxnothing')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/Unknown word 'qzxnothing'/)
  })

  it('refuses a keyword it cannot keep, with the reason, and keeps the photo’s others', async () => {
    for (const [bad, reason] of [
      ['', 'a keyword cannot be empty'],
      ['  \t ', 'a keyword cannot be empty'],
      ['ring\u0007bell', 'it contains the control character U+0007'],
      ['x'.repeat(201), 'it is 201 characters long, more than 200']
    ]) {
      const run = await cli('add-tag', photo(0), bad)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(reason)
    }
    expect(await userTags(0)).toEqual(['Client-ACME-2024', 'Smyrnakis'])
    const vocab = await cli('--json', 'vocab', 'add', 'Kayak', '', 'Smyrnakis', 'tab\u0000')
    expect(vocab.code).toBe(1)
    expect(JSON.parse(vocab.stdout)).toEqual({
      added: ['Kayak', 'Smyrnakis'],
      already: [],
      refused: [
        { word: '', reason: 'a keyword cannot be empty' },
        { word: 'tab\u0000', reason: 'it contains the control character U+0000' }
      ]
    })
    expect(await json('vocab', 'list')).toEqual(['Kayak', 'Smyrnakis'])
  })

  it('renames and merges keywords on every photo', async () => {
    expect((await cli('keywords', 'rename', 'kenya 2023', 'Kenya Safari 2023')).stdout).toContain("Renamed 'kenya 2023' to 'Kenya Safari 2023'")
    expect(await userTags(2)).toEqual(['Kenya Safari 2023'])
    expect((await json<Array<{ path: string; match: { tagged: boolean } }>>('search', '"kenya safari 2023"')).filter((h) => h.match.tagged).length).toBe(2)
    // merge a b: b's photos get a, b goes.
    expect(await json('keywords', 'merge', 'Smyrnakis', 'client-acme-2024')).toEqual({ into: 'Smyrnakis', merged: 'client-acme-2024' })
    expect(await userTags(0)).toEqual(['Smyrnakis'])
    // Renaming onto an existing keyword merges the two, under the new spelling.
    await json('keywords', 'rename', 'Grandma Rose', 'smyrnakis')
    expect(await userTags(1)).toEqual(['Kenya Safari 2023', 'smyrnakis'])
    expect((await json<Array<{ keyword: string; photos: number }>>('keywords', 'list')).map((k) => [k.keyword, k.photos])).toEqual([
      ['Kenya Safari 2023', 2],
      ['smyrnakis', 2],
      ['Kayak', 0]
    ])
    const missing = await cli('keywords', 'merge', 'smyrnakis', 'nobody')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("No keyword 'nobody'")
    expect((await cli('keywords', 'list')).stdout).toContain('Kenya Safari 2023  (2 photos)')
  })

  it('imports hierarchical keywords and exports the user’s back under their own hierarchy, the app’s under its root', async () => {
    writeFileSync(`${photo(2)}.xmp`, sidecarWith({ subject: ['Kenya', 'Nana'], hierarchical: ['Places|Africa|Kenya'], tagsList: ['Places/Africa/Kenya', 'People/Family/Nana'] }))
    const imported = await json<{ imported: number; tags: Array<{ tags: string[] }> }>('import-xmp')
    expect(imported.imported).toBe(2)
    expect(imported.tags[0].tags.sort()).toEqual(['Kenya', 'Nana'])
    const listed = await json<Array<{ keyword: string; path: string[] }>>('keywords', 'list')
    expect(listed.find((k) => k.keyword === 'Kenya')?.path).toEqual(['Places', 'Africa', 'Kenya'])
    expect(listed.find((k) => k.keyword === 'Nana')?.path).toEqual(['People', 'Family', 'Nana'])

    // Photo 0 gets Kenya (known in its hierarchy), tricky keywords and an accepted suggestion.
    expect((await json<{ tag: string }>('add-tag', photo(0), 'kenya')).tag).toBe('Kenya')
    const tricky = ['AC/DC', 'a|b', 'salt, pepper', 'say "cheese" <&>']
    for (const t of tricky) expect((await cli('add-tag', photo(0), t)).code).toBe(0)
    const [best] = (await json<{ suggestions: Array<{ tag: string }> }>('tags', photo(0))).suggestions
    expect((await cli('accept', photo(0), best.tag)).code).toBe(0)
    expect(await json('export-xmp')).toMatchObject({ skipped: [] })

    const [{ tags }] = await exiftool.read([`${photo(0)}.xmp`])
    expect([...(tags!['XMP-dc:Subject'] as string[])].sort()).toEqual(['Kenya', 'smyrnakis', best.tag, ...tricky].sort())
    expect([...(tags!['XMP-lr:HierarchicalSubject'] as string[])].sort()).toEqual(
      ['Places|Africa|Kenya', 'smyrnakis', `AI|${best.tag}`, 'AC/DC', 'a\u00a6b', 'salt, pepper', 'say "cheese" <&>'].sort()
    )
    expect([...(tags!['XMP-digiKam:TagsList'] as string[])].sort()).toEqual(
      ['Places/Africa/Kenya', 'smyrnakis', `AI/${best.tag}`, 'AC\u2215DC', 'a|b', 'salt, pepper', 'say "cheese" <&>'].sort()
    )
    // Photo 2's own sidecar keeps the user's keywords; the renamed keyword is added beside them.
    const [{ tags: two }] = await exiftool.read([`${photo(2)}.xmp`])
    expect(two!['XMP-lr:HierarchicalSubject']).toEqual(['Places|Africa|Kenya', 'Kenya Safari 2023'])
    expect(two!['XMP-digiKam:TagsList']).toEqual(['Places/Africa/Kenya', 'People/Family/Nana', 'Kenya Safari 2023'])

    // Read back, nothing new: the app's own entries are recognised, the tricky keywords come back whole.
    expect((await json<{ imported: number }>('import-xmp')).imported).toBe(0)
    expect((await json<unknown[]>('keywords', 'list')).length).toBe(listed.length + tricky.length)
    expect(await json('export-xmp')).toMatchObject({ written: 0 })
  })

  it('holds 10,000 keywords on one photo: imported, exported beside a new one, none lost', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `Kw ${i}`)
    writeFileSync(`${photo(1)}.xmp`, sidecarWith({ subject: many }))
    expect((await json<{ imported: number }>('import-xmp', folder)).imported).toBe(10_000)
    expect((await json<{ tag: string }>('add-tag', photo(1), 'One More')).tag).toBe('One More')
    expect(await json('export-xmp')).toMatchObject({ written: 1, skipped: [] })
    const [{ tags }] = await exiftool.read([`${photo(1)}.xmp`])
    const subject = tags!['XMP-dc:Subject'] as string[]
    // The user's 10,000 first, as they were; then the photo's keywords from the app (this sidecar was replaced since the last export).
    expect(subject.slice(0, 10_000)).toEqual(many)
    expect(subject.slice(10_000).sort()).toEqual(['Kenya Safari 2023', 'One More', 'smyrnakis'])
    expect(readFileSync(`${photo(1)}.xmp`, 'utf8')).toContain('<rdf:li>Kw 9999</rdf:li>')
  }, 120_000)

  it('completes the word being typed with the user’s keywords first, quoted when they have several words', async () => {
    const engine = new Engine({ dataDir, executionProvider: 'cpu' })
    try {
      const api = new SearchApi(engine)
      const completions = await api.complete('dog ken')
      if (!completions.ok) throw new Error(completions.error.message)
      // Most carried first (two photos each here), then by name.
      expect(completions.value.slice(0, 2)).toEqual([
        { word: 'Kenya', query: 'dog Kenya' },
        { word: 'Kenya Safari 2023', query: 'dog "Kenya Safari 2023"' }
      ])
      // The lexicon's words follow, without a second Kenya.
      expect(completions.value.length).toBeGreaterThan(2)
      expect(completions.value.slice(2).map((c) => c.word.toLowerCase())).not.toContain('kenya')
      const quoted = await api.complete('"kenya s')
      expect(quoted.ok && quoted.value[0]).toEqual({ word: 'Kenya Safari 2023', query: '"Kenya Safari 2023"' })
    } finally {
      await engine.close()
    }
  })
})
