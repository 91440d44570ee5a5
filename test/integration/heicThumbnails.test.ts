import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeHeicInWorker, HeicDecoderPool, spawnHeicDecoder, type HeicResult } from '../../src/main/engine/image/heicWorker'
import { decodeToModelInput, ImageDecodeError } from '../../src/main/engine/image/preprocess'
import { COCO_DIR, tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURES = join(ROOT, 'test/fixtures/heic')
/** Painted photo-like scenes as HEIC with a 320 x 240 thumbnail, scene-2 a portrait turned like an iPhone's (test/fixtures/README.md). */
const SCENES = readdirSync(FIXTURES).filter((f) => f.startsWith('scene-'))
/** 240 x 320 quadrants (red, green / blue, yellow) with a 120 x 160 thumbnail and an unturned 320 x 240 one. */
const THUMBNAILS = join(FIXTURES, 'thumbnails.heic')
const NO_THUMBNAIL = join(ROOT, 'test/fixtures/quadrants.heic')
const MAX_PIXELS = 0x3fff * 0x3fff

const tmp = tempDir('sdl-heic-thumbnails-test-')
afterAll(tmp.cleanup)

/** The model input of the photo itself: its full decode, through the same pipeline as any other photo. */
async function fullDecodeInput(bytes: Buffer): Promise<Float32Array> {
  const { width, height, data } = decoded(await decodeHeicInWorker(bytes, { maxPixels: MAX_PIXELS }))
  return decodeToModelInput(
    await sharp(data, { raw: { width, height, channels: 4 } })
      .png()
      .toBuffer()
  )
}

function decoded(result: HeicResult) {
  if (!result.ok) throw new Error(result.message)
  return result
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2
  return Math.sqrt(sum)
}

/** RGB of the pixel at (x, y) of a decoded RGBA image. */
function rgbAt({ width, data }: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const i = (y * width + x) * 4
  return [data[i], data[i + 1], data[i + 2]]
}

describe('the HEIC thumbnail as model input', () => {
  /** The model inputs of the COCO photos in ../shared and the full decodes of the HEIC fixtures, the scenes among them. */
  let photoInputs: { name: string; input: Float32Array }[] = []
  beforeAll(async () => {
    const coco = readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))
    const heics = [...readdirSync(FIXTURES).map((name) => join(FIXTURES, name)), NO_THUMBNAIL]
    photoInputs = [
      ...(await Promise.all(coco.map(async (name) => ({ name, input: await decodeToModelInput(join(COCO_DIR, name)) })))),
      ...(await Promise.all(heics.map(async (path) => ({ name: basename(path), input: await fullDecodeInput(readFileSync(path)) }))))
    ]
  })

  it('finds the scenes and the photos to compare with', () => {
    expect(SCENES.length).toBeGreaterThanOrEqual(4)
    expect(photoInputs.length).toBeGreaterThan(50 + SCENES.length)
  })

  // Measured 0.055 to 0.074 on these; the thumbnail turned a quarter is 0.9 to 1.2, another photo's 1 or more.
  it.each(SCENES)('%s: within 0.2x the distance to the nearest other photo of the full decode', async (name) => {
    const path = join(FIXTURES, name)
    const bytes = readFileSync(path)
    const thumbnail = decoded(await decodeHeicInWorker(bytes, { maxPixels: MAX_PIXELS, thumbnailAtLeast: 224 }))
    expect(thumbnail.fromThumbnail).toBe(true)
    expect(Math.min(thumbnail.width, thumbnail.height)).toBe(240)

    const fast = await decodeToModelInput(path)
    const full = await fullDecodeInput(bytes)
    const nearestOther = Math.min(...photoInputs.filter((o) => o.name !== name).map((o) => distance(full, o.input)))
    const own = distance(fast, full)
    console.log(`${name}: distance to the full decode / to the nearest other photo = ${(own / nearestOther).toFixed(3)}`)
    // Not the full decode itself: the thumbnail was used.
    expect(own).toBeGreaterThan(0)
    expect(own).toBeLessThan(0.2 * nearestOther)
  })
})

describe('choosing the thumbnail', () => {
  it('takes the smallest thumbnail at least the size asked for on each side, upright, and none shaped otherwise', async () => {
    const small = decoded(await decodeHeicInWorker(readFileSync(THUMBNAILS), { maxPixels: MAX_PIXELS, thumbnailAtLeast: 100 }))
    expect(small).toMatchObject({ fromThumbnail: true, width: 120, height: 160 })
    // Red top left, green top right, blue bottom left: turned upright like the photo.
    const near = (x: number, y: number, rgb: number[]) => rgbAt(small, x, y).every((v, c) => Math.abs(v - rgb[c]) <= 12)
    expect([near(30, 40, [255, 0, 0]), near(90, 40, [0, 255, 0]), near(30, 120, [0, 0, 255])]).toEqual([true, true, true])
  })

  it('falls back to the full decode when no thumbnail is large enough and shaped like the photo', async () => {
    const bytes = readFileSync(THUMBNAILS)
    const full = decoded(await decodeHeicInWorker(bytes, { maxPixels: MAX_PIXELS, thumbnailAtLeast: 224 }))
    expect(full).toMatchObject({ fromThumbnail: false, width: 240, height: 320 })
    expect(await decodeToModelInput(THUMBNAILS)).toEqual(await fullDecodeInput(bytes))
  })

  it('falls back to the full decode of a HEIC without thumbnails', async () => {
    const bytes = readFileSync(NO_THUMBNAIL)
    expect(decoded(await decodeHeicInWorker(bytes, { maxPixels: MAX_PIXELS, thumbnailAtLeast: 16 }))).toMatchObject({ fromThumbnail: false, width: 64, height: 48 })
    expect(await decodeToModelInput(NO_THUMBNAIL)).toEqual(await fullDecodeInput(bytes))
  })

  it('refuses a photo over the pixel limit even where its thumbnail would do', async () => {
    const result = await decodeHeicInWorker(readFileSync(THUMBNAILS), { maxPixels: 240 * 320 - 1, thumbnailAtLeast: 100 })
    expect(result).toEqual({ ok: false, tooLarge: { width: 240, height: 320 }, message: 'too large' })
  })
})

describe('a corrupt HEIC', () => {
  async function decodeError(path: string): Promise<ImageDecodeError> {
    const err = await decodeToModelInput(path).then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(ImageDecodeError)
    expect((err as ImageDecodeError).message).toContain(path)
    return err as ImageDecodeError
  }

  it('cut short, with a thumbnail, is an error with libheif’s reason, and the photos decoded with it are not affected', async () => {
    const whole = readFileSync(join(FIXTURES, SCENES[0]))
    const cut = join(tmp.dir, 'cut.heic')
    writeFileSync(cut, whole.subarray(0, whole.length >> 1))
    const [err, ...good] = await Promise.all([decodeError(cut), ...SCENES.map((name) => decodeToModelInput(join(FIXTURES, name)))])
    expect(err.reason).toBe('corrupt')
    expect(err.why).toMatch(/^the image is truncated or corrupt \(.*end of file/)
    for (const input of good) expect(input.length).toBe(3 * 224 * 224)
  })

  it('of garbage after a HEIC file type box is an error with a reason', async () => {
    const path = join(tmp.dir, 'garbage.heic')
    writeFileSync(path, Buffer.concat([readFileSync(NO_THUMBNAIL).subarray(0, 32), Buffer.alloc(4000, 0x5a)]))
    const err = await decodeError(path)
    expect(err.reason).toBe('corrupt')
    expect(err.why).toMatch(/^the image is truncated or corrupt \(not a readable HEIF file: \S+/)
  })
})

describe('the decoder pool', () => {
  /** A pool whose decoders are real, kept in `spawned` in the order they started. */
  function watchedPool(size: number, idleMs?: number) {
    const spawned: Worker[] = []
    const pool = new HeicDecoderPool(size, {
      idleMs,
      spawn: () => {
        const worker = spawnHeicDecoder()
        spawned.push(worker)
        return worker
      }
    })
    return { pool, spawned }
  }

  it('decodes on several threads at once, each photo on one', async () => {
    const { pool, spawned } = watchedPool(2)
    const bytes = SCENES.map((name) => readFileSync(join(FIXTURES, name)))
    const results = await Promise.all(bytes.map((b) => pool.decode(b, { maxPixels: MAX_PIXELS })))
    expect(results.map((r) => r.ok && [r.width * r.height, r.fromThumbnail])).toEqual(bytes.map(() => [640 * 480, false]))
    expect(spawned).toHaveLength(2)
    await Promise.all(spawned.map((w) => w.terminate()))
  })

  it('a decoder that crashes fails only the photo it was decoding; the photos waiting get a fresh one', async () => {
    const { pool, spawned } = watchedPool(1)
    const bytes = readFileSync(THUMBNAILS)
    const first = pool.decode(bytes, { maxPixels: MAX_PIXELS })
    const waiting = [pool.decode(bytes, { maxPixels: MAX_PIXELS }), pool.decode(bytes, { maxPixels: MAX_PIXELS })]
    expect(spawned).toHaveLength(1)
    await spawned[0].terminate()
    expect(await first).toMatchObject({ ok: false, message: expect.stringMatching(/the HEIC decoder stopped/) })
    for (const result of await Promise.all(waiting)) expect(result).toMatchObject({ ok: true, width: 240, height: 320 })
    expect(spawned).toHaveLength(2)
    await spawned[1].terminate()
  })

  it('an idle decoder ends, and a later photo starts another', async () => {
    const { pool, spawned } = watchedPool(1, 0)
    const bytes = readFileSync(THUMBNAILS)
    const decoding = pool.decode(bytes, { maxPixels: MAX_PIXELS })
    const exited = once(spawned[0], 'exit')
    expect(await decoding).toMatchObject({ ok: true })
    await exited
    expect(await pool.decode(bytes, { maxPixels: MAX_PIXELS })).toMatchObject({ ok: true })
    expect(spawned).toHaveLength(2)
    await spawned[1].terminate()
  })

  /** Runs `script` (TypeScript) in a child Node with tsx; its exit code and what it printed. */
  async function runChild(script: string): Promise<{ code: number; out: string }> {
    const path = join(tmp.dir, `child-${Math.random().toString(36).slice(2)}.mts`)
    writeFileSync(path, script)
    const child = spawn(process.execPath, ['--import', 'tsx', path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    const [code] = (await once(child, 'exit')) as [number]
    return { code, out: out.trim() }
  }

  it('keeps no process alive: a run that decoded HEIC photos ends by itself, its decoders still idle', async () => {
    const photos = [...SCENES.map((n) => join(FIXTURES, n)), THUMBNAILS]
    const run = await runChild(
      `import { readFileSync } from 'node:fs'\n` +
        `import { decodeToModelInput } from ${JSON.stringify(join(ROOT, 'src/main/engine/image/preprocess.ts'))}\n` +
        `import { HeicDecoderPool, spawnHeicDecoder } from ${JSON.stringify(join(ROOT, 'src/main/engine/image/heicWorker.ts'))}\n` +
        `const photos = ${JSON.stringify(photos)}\n` +
        `let ended = 0\n` +
        `const pool = new HeicDecoderPool(2, { spawn: () => spawnHeicDecoder().on('exit', () => ended++) })\n` +
        `const inputs = await Promise.all(photos.map((p) => decodeToModelInput(p)))\n` +
        `const decoded = await Promise.all(photos.map((p) => pool.decode(readFileSync(p), { maxPixels: 1e9 })))\n` +
        `// Fired once nothing is left to keep the process alive: had the decoders kept it, they would have ended first.\n` +
        `process.on('beforeExit', () => console.log(inputs.length, decoded.filter((d) => d.ok).length, 'decoders ended:', ended))\n`
    )
    expect(run).toEqual({ code: 0, out: `${photos.length} ${photos.length} decoders ended: 0` })
  })

  // Threads counted in /proc: Linux only.
  it.skipIf(!existsSync('/proc/self/task'))('decoders started on a worker thread (as the indexer is) end with it', async () => {
    // tsx's hooks do not reach worker threads: the worker registers them itself (as indexWorkerClient.ts does).
    const tsxManifest = createRequire(import.meta.url).resolve('tsx/package.json')
    const tsxApi = pathToFileURL(join(dirname(tsxManifest), JSON.parse(readFileSync(tsxManifest, 'utf8')).exports['./esm/api'].import.default)).href
    const inner = join(tmp.dir, 'decoding-thread.mts')
    writeFileSync(
      inner,
      `import { readFileSync } from 'node:fs'\n` +
        `import { parentPort } from 'node:worker_threads'\n` +
        `import { HeicDecoderPool } from ${JSON.stringify(join(ROOT, 'src/main/engine/image/heicWorker.ts'))}\n` +
        `const pool = new HeicDecoderPool(2)\n` +
        `const bytes = readFileSync(${JSON.stringify(THUMBNAILS)})\n` +
        `const results = await Promise.all([pool.decode(bytes, { maxPixels: 1e9 }), pool.decode(bytes, { maxPixels: 1e9 })])\n` +
        `parentPort.postMessage(results.every((r) => r.ok))\n`
    )
    const run = await runChild(
      `import { readdirSync } from 'node:fs'\n` +
        `import { readFile } from 'node:fs/promises'\n` +
        `import { once } from 'node:events'\n` +
        `import { Worker } from 'node:worker_threads'\n` +
        `const threads = () => readdirSync('/proc/self/task').length\n` +
        `// libuv's thread pool starts on first use: start it before counting.\n` +
        `await readFile(${JSON.stringify(inner)})\n` +
        `const before = threads()\n` +
        `const worker = new Worker(${JSON.stringify(`import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(pathToFileURL(inner).href)}))`)}, { eval: true })\n` +
        `const [decoded] = await once(worker, 'message')\n` +
        `const during = threads() - before\n` +
        `await once(worker, 'exit')\n` +
        `console.log(JSON.stringify({ decoded, during, after: threads() - before }))\n`
    )
    expect(run.code).toBe(0)
    const { decoded, during, after } = JSON.parse(run.out) as { decoded: boolean; during: number; after: number }
    expect(decoded).toBe(true)
    // The worker and its two decoders at least, then none of them.
    expect(during).toBeGreaterThanOrEqual(3)
    expect(after).toBe(0)
  })
})
