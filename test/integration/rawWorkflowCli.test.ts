import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeRawPreviewReader } from '../../src/main/engine/image/rawPreviewReader'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { writeTestRaw } from '../helpers/rawFiles'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'
import { LIGHTROOM_XMP } from '../helpers/xmpFixtures'

/**
 * Issue 15's workflow end to end through the CLI, as a photographer who shoots RAW would meet it:
 * a folder with a lone RAW that already has a Lightroom sidecar (`IMG_1.xmp`), a RAW+JPEG pair
 * (`IMG_2.NEF` + `IMG_2.jpg`) and a lone DNG; index, search, accept, export-xmp, import-xmp, and
 * the sidecars read back with ExifTool. The RAWs' main images are flat grey: only their previews
 * (COCO photos of dogs and others) can be found by "dog".
 */
const tmp = tempDir('sdl-raw-workflow-')
const folder = join(tmp.dir, 'shoot')
const dataDir = join(tmp.dir, 'data')
const file = (name: string) => join(folder, name)
const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
const json = async <T>(...args: string[]): Promise<T> => {
  const run = await cli('--json', ...args)
  if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout) as T
}
const exifTool = new ExifToolRunner()
const originals = new Map<string, Buffer>()

async function keywordsOf(sidecar: string): Promise<{ subject: string[]; hierarchical: string[] }> {
  const out = await exifTool.run(['-j', '-XMP-dc:Subject', '-XMP-lr:HierarchicalSubject', sidecar])
  const [tags] = JSON.parse(out.stdout) as Array<{ Subject?: string | string[]; HierarchicalSubject?: string | string[] }>
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(String)
  return { subject: list(tags.Subject), hierarchical: list(tags.HierarchicalSubject) }
}

beforeAll(async () => {
  mkdirSync(folder, { recursive: true })
  const preview = (coco: string) => sharp(join(COCO_DIR, coco)).resize(640).jpeg({ quality: 90 }).toBuffer()
  // COCO 42 and 74 show dogs; 34 does not.
  await writeTestRaw(exifTool, file('IMG_1.NEF'), { layout: 'nef', preview: await preview('000000000042.jpg') })
  writeFileSync(file('IMG_1.xmp'), LIGHTROOM_XMP)
  await writeTestRaw(exifTool, file('IMG_2.NEF'), { layout: 'nef', preview: await preview('000000000034.jpg') })
  copyFileSync(join(COCO_DIR, '000000000074.jpg'), file('IMG_2.jpg'))
  await writeTestRaw(exifTool, file('IMG_3.DNG'), { layout: 'dng', preview: await preview('000000000034.jpg') })
  for (const name of readdirSync(folder)) originals.set(name, readFileSync(file(name)))
  expect((await cli('model', 'add', CONSE_ONNX, '--name', 'conse')).code).toBe(0)
  expect((await cli('folders', 'add', folder)).code).toBe(0)
})

afterAll(async () => {
  await exifTool.close()
  await closeRawPreviewReader()
  tmp.cleanup()
})

describe('a RAW shoot through the command line', () => {
  it('indexes the RAWs by their previews and the pair as one photo', async () => {
    const indexed = await cli('index')
    expect(indexed.code).toBe(0)
    expect(indexed.stdout).toMatch(/^3 indexed\b/m)
    const status = await json<{ photos: number; errors: unknown[] }>('status')
    expect(status).toMatchObject({ photos: 3, errors: [] })
  })

  it('finds the dogs: the RAW by its preview, the pair by its JPEG, each named by its RAW', async () => {
    const hits = await json<Array<{ path: string }>>('search', 'dog')
    const found = hits.map((h) => h.path)
    expect(found).toEqual(expect.arrayContaining([file('IMG_1.NEF'), file('IMG_2.NEF')]))
    expect(found).not.toContain(file('IMG_2.jpg'))
    expect(found).not.toContain(file('IMG_3.DNG'))
  })

  it('decides for the pair through either of its files, exports into the sidecars the editors read, and imports only the user’s keywords back', async () => {
    const accepted = await cli('accept', file('IMG_1.NEF'), file('IMG_2.jpg'), '--tag', 'dog')
    expect(accepted.stderr).toBe('')
    expect(accepted.code).toBe(0)
    const pair = await json<{ accepted: string[] }>('tags', file('IMG_2.NEF'))
    expect(pair.accepted).toEqual(['dog'])

    const exported = await cli('--json', 'export-xmp', folder)
    expect(exported.code).toBe(0)
    // The Lightroom sidecar IMG_1 had is updated, no IMG_1.NEF.xmp beside it; the pair's new one
    // follows the folder's Lightroom naming and the RAW's name.
    expect(existsSync(file('IMG_1.NEF.xmp'))).toBe(false)
    expect(existsSync(file('IMG_2.xmp'))).toBe(true)
    expect(existsSync(file('IMG_2.jpg.xmp'))).toBe(false)
    const one = await keywordsOf(file('IMG_1.xmp'))
    expect(one.subject).toEqual(['Paris', 'holiday, summer', 'Dog'])
    expect(one.hierarchical).toEqual(['Places|Europe|Paris', 'AI|dog'])
    expect(await keywordsOf(file('IMG_2.xmp'))).toEqual({ subject: ['dog'], hierarchical: ['AI|dog'] })
    // No original was touched.
    for (const [name, bytes] of originals) if (!name.endsWith('.xmp')) expect(readFileSync(file(name)).equals(bytes), name).toBe(true)

    expect((await cli('import-xmp', folder)).code).toBe(0)
    const keywords = await json<Array<{ keyword: string; path: string[] }>>('keywords', 'list')
    const byName = new Map(keywords.map((k) => [k.keyword.toLowerCase(), k]))
    expect(byName.get('paris')?.path).toEqual(['Places', 'Europe', 'Paris'])
    expect(byName.has('holiday, summer')).toBe(true)
    // The app's own AI|dog is not taken for a keyword of the user's.
    expect(keywords.some((k) => k.path[0] === 'AI')).toBe(false)
  })
})
