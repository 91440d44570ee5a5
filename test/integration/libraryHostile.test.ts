import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, lchownSync, lstatSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const HEIC = fileURLToPath(new URL('../fixtures/quadrants.heic', import.meta.url))
// Root reads every file whatever its mode, so the CLI runs as `nobody` when the tests run as root
// (and `nobody` can reach the checkout): then a file without read permission really cannot be read.
const NOBODY = 65534
const asNobody = process.getuid?.() === 0 && nobodyCanRead(join(ROOT, 'src/main/cli/main.ts'))
// Where permissions cannot be denied (root, with the checkout out of nobody's reach), that file is just a photo.
const permissionCanBeDenied = process.getuid?.() !== 0 || asNobody

function nobodyCanRead(file: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(file)}, require('fs').constants.R_OK)`], {
    uid: NOBODY,
    gid: NOBODY
  })
  return probe.status === 0
}

function cli(dataDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli/main.ts'), '--data-dir', dataDir, '--ep', 'cpu', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {})
  })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

function chownTree(path: string): void {
  lchownSync(path, NOBODY, NOBODY)
  if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry))
}

/** A PNG signature and an IHDR chunk claiming 30000 x 30000 RGB pixels, then junk. */
function hugePngHeader(): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(30000, 0)
  ihdr.writeUInt32BE(30000, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const type = Buffer.from('IHDR')
  const crc = crc32(Buffer.concat([type, ihdr]))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(13)
  const crcBytes = Buffer.alloc(4)
  crcBytes.writeUInt32BE(crc)
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), length, type, ihdr, crcBytes, Buffer.alloc(64, 7)])
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

describe('indexing a hostile corpus', () => {
  const tmp = tempDir()
  const corpus = join(tmp.dir, 'corpus')
  const dataDir = join(tmp.dir, 'data')
  const bad = ['zero-bytes.jpg', 'truncated.jpg', 'text.jpg', 'huge-header.png', 'loop.jpg']
  const valid = ['alpha.png', 'cmyk.jpg', 'sixteen-bit.png', 'rotated.jpg', 'animated.gif', 'iphone.heic', 'with space.jpg', 'café.jpg', '写真.jpg', '🎉 party.jpg']
  ;(permissionCanBeDenied ? bad : valid).push('no-permission.jpg')

  beforeAll(async () => {
    await writeTestPhoto(join(corpus, 'with space.jpg'), 1)
    await writeTestPhoto(join(corpus, 'café.jpg'), 2)
    await writeTestPhoto(join(corpus, '写真.jpg'), 3)
    await writeTestPhoto(join(corpus, '🎉 party.jpg'), 4)
    await writeTestPhoto(join(corpus, 'source.jpg'), 5, { width: 300, height: 200 })
    const source = readFileSync(join(corpus, 'source.jpg'))
    rmSync(join(corpus, 'source.jpg'))
    writeFileSync(join(corpus, 'zero-bytes.jpg'), '')
    writeFileSync(join(corpus, 'truncated.jpg'), source.subarray(0, source.length / 2))
    writeFileSync(join(corpus, 'text.jpg'), 'Dear diary, today I renamed a text file.\n')
    writeFileSync(join(corpus, 'huge-header.png'), hugePngHeader())
    writeFileSync(join(corpus, 'no-permission.jpg'), source)
    symlinkSync('loop.jpg', join(corpus, 'loop.jpg'))
    const rgba = { width: 40, height: 30, channels: 4 as const, background: { r: 200, g: 10, b: 10, alpha: 0.4 } }
    await sharp({ create: rgba }).png().toFile(join(corpus, 'alpha.png'))
    await sharp(source).toColourspace('cmyk').jpeg().toFile(join(corpus, 'cmyk.jpg'))
    await sharp(source).toColourspace('rgb16').png().toFile(join(corpus, 'sixteen-bit.png'))
    await sharp(source).withMetadata({ orientation: 6 }).jpeg().toFile(join(corpus, 'rotated.jpg'))
    const frame = (colour: string) =>
      sharp({ create: { width: 20, height: 10, channels: 3, background: colour } })
        .png()
        .toBuffer()
    await sharp([await frame('white'), await frame('black')], { join: { animated: true } })
      .gif()
      .toFile(join(corpus, 'animated.gif'))
    copyFileSync(HEIC, join(corpus, 'iphone.heic'))

    const engine = new Engine({ dataDir })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    ;(await engine.library()).addFolder(corpus)
    await engine.close()
    if (asNobody) chownTree(tmp.dir)
    chmodSync(join(corpus, 'no-permission.jpg'), 0o000)
  })
  afterAll(() => tmp.cleanup())

  it('records each bad file as an error with a plain reason, indexes every valid oddity, and finishes', () => {
    const index = cli(dataDir, '--json', 'index')
    expect(index.stderr).not.toMatch(/^error/m)
    // Exit 1: the run finished, and some photos could not be read.
    expect(index.code).toBe(1)
    expect(JSON.parse(index.stdout)).toMatchObject({ indexed: valid.length, failed: bad.length, cancelled: false })

    const status = cli(dataDir, '--json', 'status')
    const report = JSON.parse(status.stdout) as { photos: number; indexed: number; errors: Array<{ path: string; reason: string }> }
    expect(report.photos).toBe(valid.length + bad.length)
    expect(report.indexed).toBe(valid.length)
    const reasons = Object.fromEntries(report.errors.map((e) => [e.path.slice(corpus.length + 1), e.reason]))
    expect(Object.keys(reasons).sort()).toEqual([...bad].sort())
    expect(reasons['zero-bytes.jpg']).toMatch(/empty/)
    expect(reasons['truncated.jpg']).toMatch(/truncated or corrupt/)
    expect(reasons['text.jpg']).toMatch(/not an image/)
    expect(reasons['huge-header.png']).toMatch(/corrupt|too large/)
    if (permissionCanBeDenied) expect(reasons['no-permission.jpg']).toMatch(/permission denied/)
    expect(reasons['loop.jpg']).toMatch(/link/)
    for (const reason of Object.values(reasons)) expect(reason).not.toMatch(/^Error|vips_|\bat \//)

    // A second run finds nothing new: bad files are not retried (nor forgotten) until they change.
    const again = cli(dataDir, '--json', 'index')
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ indexed: 0, failed: 0, removed: 0, unchanged: valid.length + bad.length })
  })

  it('stores what each valid oddity really is', () => {
    const db = new Database(join(dataDir, 'library.sqlite'), { readonly: true })
    const row = (name: string) => db.prepare('SELECT status, format, width, height FROM photos WHERE path = ?').get(join(corpus, name)) as Record<string, unknown>
    for (const name of valid) expect(row(name).status, name).toBe('ok')
    // EXIF orientation 6: stored 300x200, displayed 200x300.
    expect(row('rotated.jpg')).toMatchObject({ width: 200, height: 300 })
    expect(row('animated.gif')).toMatchObject({ format: 'gif', width: 20, height: 10 })
    expect(row('iphone.heic')).toMatchObject({ format: 'heic', width: 64, height: 48 })
    db.close()
  })

  it('lets a photo deleted between listing and decoding go without an error', async () => {
    const folder = join(tmp.dir, 'vanishing')
    await writeTestPhoto(join(folder, 'stays.jpg'), 10)
    await writeTestPhoto(join(folder, 'goes.jpg'), 11)
    // In this thread: the indexer's progress callback then runs before it reads a photo, which the
    // test needs to delete one at exactly that moment (from the index worker, the message arrives
    // while the worker goes on reading).
    const engine = new Engine({ dataDir: join(tmp.dir, 'data-vanishing'), executionProvider: 'cpu', indexing: 'this-thread' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    // The first progress event comes after the listing and before any photo is read.
    const summary = await library.index(undefined, { onProgress: (p) => p.done === 0 && rmSync(join(folder, 'goes.jpg'), { force: true }) })
    expect(summary).toMatchObject({ indexed: 1, failed: 0 })
    expect(await library.status()).toMatchObject({ photos: 1, errors: [] })
    await engine.close()
  })
})
