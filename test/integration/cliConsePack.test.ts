import { copyFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSE_ONNX, COCO_DIR, tempDir } from '../helpers/sharedData'
import { runCliCaptured } from '../helpers/runCliCaptured'

// The ConSE test pack is a real ImageNet model in the SDL output contract (D=100, K=7, GloVe),
// small enough to run through the whole CLI here.
describe('CLI with an added ONNX pack (ConSE, D=100)', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  const photos = readdirSync(COCO_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .slice(0, 3)
    .map((f) => join(COCO_DIR, f))

  beforeAll(async () => {
    const added = await cli('model', 'add', CONSE_ONNX, '--name', 'conse')
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
  })
  afterAll(() => tmp.cleanup())

  it('lists the pack with the dimensions its metadata declares', async () => {
    const run = await cli('--json', 'model', 'list')
    expect(run.code).toBe(0)
    const [pack] = JSON.parse(run.stdout)
    expect(pack).toMatchObject({ name: 'conse', dim: 100, rows: 7, wordSpace: 'glove-6b-100d', active: true, tagCount: 0 })
  })

  it('embeds photos as D*K numbers, the same in a batch as one by one', async () => {
    const batch = await cli('--json', 'embed', ...photos, '--batch', '3')
    expect(batch.code).toBe(0)
    const results = JSON.parse(batch.stdout) as Array<{ path: string; output: number[] }>
    expect(results.map((r) => r.path)).toEqual(photos)
    for (const r of results) expect(r.output).toHaveLength(700)
    const single = JSON.parse((await cli('--json', 'embed', photos[1], '--batch', '1')).stdout)
    const diff = Math.max(...single[0].output.map((v: number, i: number) => Math.abs(v - results[1].output[i])))
    expect(diff).toBeLessThan(1e-5)
  })

  it('reports an unreadable photo by name, still embeds the others, and exits non-zero', async () => {
    const bad = join(tmp.dir, 'not-a-photo.jpg')
    writeFileSync(bad, 'this is text')
    const run = await cli('--json', 'embed', photos[0], bad, photos[1])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('not-a-photo.jpg')
    const results = JSON.parse(run.stdout)
    expect(results).toHaveLength(3)
    expect(results[0].output).toHaveLength(700)
    expect(results[1]).toMatchObject({ path: bad })
    expect(results[1].error).toContain('not-a-photo.jpg')
    expect(results[2].output).toHaveLength(700)
  })

  it('says plainly that tagging needs a vocabulary this pack lacks', async () => {
    const run = await cli('tag', photos[0])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/no tag vocabulary/)
  })

  it('refuses an ONNX file without the SDL metadata and leaves no pack behind', async () => {
    const plain = join(tmp.dir, 'plain.onnx')
    // A valid protobuf with only ir_version set: an ONNX model that declares nothing.
    writeFileSync(plain, Buffer.from([0x08, 0x07]))
    const run = await cli('model', 'add', plain, '--name', 'plain')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/lacks the SDL metadata sdl\.dim/)
    expect(readdirSync(join(dataDir, 'models'))).toEqual(['conse'])
  })

  it('falls back to the CPU under --ep auto and fails clearly when a missing provider is forced', async () => {
    const auto = await runCliCaptured(['--data-dir', dataDir, '--json', 'embed', photos[0]])
    expect(auto.code).toBe(0)
    // No CUDA provider library and no GPU here: each skipped provider is named with its reason.
    expect(auto.stderr).toMatch(/cuda execution provider not used: the CUDA provider library is not installed/)
    expect(auto.stderr).toMatch(/Model conse on the cpu execution provider/)
    const forced = await cli('--ep', 'cuda', 'embed', photos[0])
    expect(forced.code).toBe(1)
    expect(forced.stderr).toMatch(/cuda/)
  })

  it('switches, removes and reports packs', async () => {
    copyFileSync(CONSE_ONNX, join(tmp.dir, 'copy.onnx'))
    expect((await cli('model', 'add', join(tmp.dir, 'copy.onnx'), '--name', 'conse-copy')).code).toBe(0)
    expect((await cli('model', 'use', 'conse-copy')).code).toBe(0)
    const status = JSON.parse((await cli('--json', 'status')).stdout)
    expect(status.activeModel.name).toBe('conse-copy')
    expect((await cli('model', 'remove', 'conse-copy')).code).toBe(0)
    const after = JSON.parse((await cli('--json', 'model', 'list')).stdout)
    expect(after.map((m: { name: string; active: boolean }) => [m.name, m.active])).toEqual([['conse', true]])
    const missing = await cli('model', 'use', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/No model pack named 'nope'.*\n.*hint: Installed packs: conse/)
  })
})

describe('lexicon import', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('refuses to import over the built-in GloVe space (the import itself is tested in lexiconImport.test.ts)', async () => {
    const dataDir = join(tmp.dir, 'data')
    const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, ...args])
    // ConSE's word space is GloVe 6B 100-d, which ships with the app.
    expect((await cli('model', 'add', CONSE_ONNX, '--name', 'conse')).code).toBe(0)
    const vec = join(tmp.dir, 'words.vec')
    writeFileSync(vec, '2 3\nsun 1 0 0\nmoon 0 1 0\n')
    const glove = await cli('lexicon', 'import', vec)
    expect(glove.code).toBe(1)
    expect(glove.stderr).toMatch(/glove-6b-100d word space is built in/)
  })
})
