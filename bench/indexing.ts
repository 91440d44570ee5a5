/**
 * Indexing benchmark, with the ConSE test pack (cheap inference, D=100, K=7) on the cpu provider,
 * so what it measures is the library's own work: reading, fingerprinting, decoding, writing.
 *
 *   npm run bench:indexing -- [--photos 500] [--library 10000] [--skip-memory] [--raw 100 [--raw-main-mb 18] [--raw-only]]
 *
 * 1. `--photos` generated 12-megapixel JPEGs: the decode + resize ceiling (read and
 *    decodeToModelInput with the indexer's in-flight concurrency: batches of 16, one batch of
 *    lookahead), then `library.index()` end to end on a fresh data folder, and their ratio.
 * 2. `--library` small distinct JPEGs (64x48): the first index, then a re-index with nothing
 *    changed, which must read no photo again.
 * 3. The peak RSS of both first indexings, each run in a child process so the figure is its own.
 *    `--skip-memory` runs them in this process instead and prints no RSS.
 * 4. With `--raw N`: N camera RAWs (DNG layout: a grey main image of `--raw-main-mb` megabytes, the
 *    sensor data's stand-in, which is read and fingerprinted like a real RAW's, and one of the
 *    12-MP JPEGs embedded as its preview by ExifTool), indexed end to end against the same N
 *    JPEGs on their own, and their ratio. `--raw-only` skips sections 1-3.
 *
 * Prints figures only; it never fails on a timing. Generated photos are kept between runs in
 * sdl-bench-corpus-* folders under the temporary directory (generating 500 12-MP JPEGs takes a
 * while); the data folders are removed at the end.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { Engine } from '../src/main/engine/engine'
import { decodeToModelInput } from '../src/main/engine/image/preprocess'
import { preparedBatches } from '../src/main/engine/inference/preparedBatches'
import type { IndexSummary } from '../src/main/engine/library/indexer'
import { GLOVE_WORD_SPACE, loadGloveVectors } from '../src/main/engine/lexicon/gloveVectors'
import { forgetLoaded } from '../src/main/engine/lexicon/loadedVectors'
import { vectorFilePath } from '../src/main/engine/lexicon/vectorFile'
import { addOnnxModel } from '../src/main/engine/models/packBuilders'
import { ExifToolRunner } from '../src/main/engine/xmp/exifToolRunner'
import { prng as mulberry32 } from '../test/helpers/prng'
import { writeTestRaw } from '../test/helpers/rawFiles'

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '500' },
    library: { type: 'string', default: '10000' },
    'skip-memory': { type: 'boolean', default: false },
    raw: { type: 'string', default: '0' },
    'raw-main-mb': { type: 'string', default: '18' },
    'raw-only': { type: 'boolean', default: false },
    // Internal: `--child index --data <dir>` indexes that data folder and prints one JSON line.
    child: { type: 'string' },
    data: { type: 'string' }
  }
})

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCRIPT = fileURLToPath(import.meta.url)
const CONSE_ONNX = fileURLToPath(new URL('../../shared/models/conse-mobilenetv2-glove100/conse-mobilenetv2-glove100.onnx', import.meta.url))
/** The indexer's default batch size; preparedBatches decodes up to two batches ahead. */
const INDEXER_BATCH = 16
const CORES = availableParallelism()

interface IndexRun {
  seconds: number
  summary: IndexSummary
  /** KiB, only when the run had a process of its own. */
  maxRssKb?: number
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`
const rate = (count: number, seconds: number) => `${(count / seconds).toFixed(1)} photos/s`
const since = (started: number) => (performance.now() - started) / 1000
const cpuMsPerPhoto = (from: NodeJS.CpuUsage, photos: number) => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000 / photos
}

if (values.child === 'index') {
  const run = await indexOnce(values.data!)
  process.stdout.write(JSON.stringify({ ...run, maxRssKb: process.resourceUsage().maxRSS }) + '\n')
} else {
  await main()
}

async function main(): Promise<void> {
  const photoCount = Number(values.photos)
  const libraryCount = Number(values.library)
  const measureMemory = !values['skip-memory']
  console.log(
    `machine: ${CORES} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadavg()[0].toFixed(2)} (other work skews the figures)`
  )
  console.log(
    `node ${process.version}, sharp threads ${sharp.concurrency()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '(default 4)'}, execution provider cpu, ConSE pack`
  )

  const work = mkdtempSync(join(tmpdir(), 'sdl-bench-indexing-'))
  try {
    if (values['raw-only']) return await rawVersusJpeg(work)
    // 1. 12-MP photos: decode + resize ceiling against the indexer end to end.
    console.log(`\n[1] ${photoCount} 12-MP JPEGs`)
    const big = await ensureCorpus('sdl-bench-corpus-12mp-v1', photoCount, 4000, 3000)
    const bigFolder = linkCorpus(big, join(work, 'photos-12mp'), photoCount)
    for (const file of big) await readFile(file) // into the page cache, so both runs read from memory
    await decodeToModelInput(await readFile(big[0])) // loads libvips before anything is timed

    // Both timed runs happen in this process, one after the other, so JIT warm-up and the page
    // cache treat them alike; CPU time per photo is printed too, being less sensitive than wall
    // time to other work on the machine. Peak memory is measured by a separate run in a child.
    const started = performance.now()
    let cpu = process.cpuUsage()
    let decoded = 0
    const decodeFile = async (file: string) => decodeToModelInput(await readFile(file))
    for await (const batch of preparedBatches(big, INDEXER_BATCH, decodeFile)) decoded += batch.length
    const ceilingSeconds = since(started)
    const ceilingCpuMs = cpuMsPerPhoto(cpu, decoded)
    const ceiling = decoded / ceilingSeconds
    console.log(`decode+resize ceiling: ${ceilingSeconds.toFixed(2)} s, ${rate(decoded, ceilingSeconds)}, ${ceilingCpuMs.toFixed(1)} ms CPU per photo`)

    const bigData = join(work, 'data-12mp')
    await prepareDataDir(bigData, bigFolder)
    cpu = process.cpuUsage()
    const e2e = await indexOnce(bigData)
    const e2eCpuMs = cpuMsPerPhoto(cpu, photoCount)
    const endToEnd = photoCount / e2e.seconds
    console.log(`end to end: ${e2e.seconds.toFixed(2)} s, ${rate(photoCount, e2e.seconds)}, ${e2eCpuMs.toFixed(1)} ms CPU per photo, ${describe(e2e.summary)}`)
    console.log(`end to end / ceiling: ${(endToEnd / ceiling).toFixed(3)} (CPU time per photo: ${(ceilingCpuMs / e2eCpuMs).toFixed(3)})`)
    rmSync(bigData, { recursive: true, force: true })
    if (measureMemory) {
      await prepareDataDir(bigData, bigFolder)
      e2e.maxRssKb = (await indexInChild(bigData)).maxRssKb
      console.log(`peak RSS of an end-to-end index in its own process: ${mb(e2e.maxRssKb!)}`)
      rmSync(bigData, { recursive: true, force: true })
    }

    // 2 and 3. A library of small photos: first index (in a child, for its peak RSS), then a re-index.
    console.log(`\n[2] library of ${libraryCount} 64x48 JPEGs`)
    const small = await ensureCorpus('sdl-bench-corpus-64x48-v1', libraryCount, 64, 48)
    const smallFolder = linkCorpus(small, join(work, 'photos-small'), 250)
    const smallData = join(work, 'data-small')
    await prepareDataDir(smallData, smallFolder)
    const first = measureMemory ? await indexInChild(smallData) : await indexOnce(smallData)
    console.log(`first index: ${first.seconds.toFixed(2)} s, ${rate(libraryCount, first.seconds)}, ${describe(first.summary)}`)
    const again = await indexOnce(smallData)
    console.log(`re-index, nothing changed: ${again.seconds.toFixed(3)} s, ${describe(again.summary)}`)
    if (again.summary.unchanged !== libraryCount) console.log(`  NOTE: unchanged is ${again.summary.unchanged}, expected ${libraryCount}`)
    if (first.maxRssKb !== undefined) console.log(`\n[3] peak RSS of the first index of ${libraryCount} photos: ${mb(first.maxRssKb)}`)

    const rows: Row[] = [
      ['decode+resize ceiling, 12 MP', rate(decoded, ceilingSeconds), '', null],
      ['end to end, 12 MP', rate(photoCount, e2e.seconds), '', null],
      ['end to end / ceiling', (endToEnd / ceiling).toFixed(3), '>= 0.9', endToEnd / ceiling >= 0.9],
      ['peak RSS, end to end 12 MP', e2e.maxRssKb === undefined ? 'skipped' : mb(e2e.maxRssKb), '', null],
      [`first index, ${libraryCount} x 64x48`, rate(libraryCount, first.seconds), '', null],
      [`re-index unchanged, ${libraryCount} photos`, `${again.seconds.toFixed(3)} s`, '< 5 s', again.seconds < 5 && again.summary.unchanged === libraryCount],
      [
        `peak RSS, first index ${libraryCount}`,
        first.maxRssKb === undefined ? 'skipped' : mb(first.maxRssKb),
        '< 1 GB',
        first.maxRssKb === undefined ? null : first.maxRssKb * 1024 < 1e9
      ]
    ]
    printRows(rows)
    if (Number(values.raw) > 0) await rawVersusJpeg(work)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

type Row = [string, string, string, boolean | null]

function printRows(rows: readonly Row[]): void {
  console.log(`\n${'figure'.padEnd(38)}${'value'.padEnd(18)}${'goal'.padEnd(10)}met`)
  for (const [name, value, goal, met] of rows) {
    console.log(`${name.padEnd(38)}${value.padEnd(18)}${goal.padEnd(10)}${met === null ? '' : met ? 'yes' : 'NO'}`)
  }
}

/**
 * 4. RAW photos/s against JPEGs of the same preview size: each timed end to end (index worker,
 * ExifTool, fingerprinting, decoding, inference, writing) on a fresh data folder, JPEGs first,
 * then RAWs, then JPEGs again, so that a change in the machine's load between runs shows.
 */
async function rawVersusJpeg(work: string): Promise<void> {
  const count = Number(values.raw)
  const mainMb = Number(values['raw-main-mb'])
  console.log(`\n[4] ${count} RAWs (DNG, ${mainMb} MB main image, 12-MP JPEG preview) against the same ${count} 12-MP JPEGs`)
  const jpegs = await ensureCorpus('sdl-bench-corpus-12mp-v1', count, 4000, 3000)
  const raws = await ensureRawCorpus(jpegs, mainMb)
  for (const file of [...jpegs, ...raws]) await readFile(file)
  const run = async (name: string, files: string[]) => {
    const dataDir = join(work, `data-${name}`)
    await prepareDataDir(dataDir, linkCorpus(files, join(work, `photos-${name}`), files.length))
    const cpu = process.cpuUsage()
    const result = await indexOnce(dataDir)
    const cpuMs = cpuMsPerPhoto(cpu, count)
    console.log(`${name}: ${result.seconds.toFixed(2)} s, ${rate(count, result.seconds)}, ${cpuMs.toFixed(1)} ms CPU per photo in this thread, ${describe(result.summary)}`)
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(join(work, `photos-${name}`), { recursive: true, force: true })
    return count / result.seconds
  }
  const jpegRate = await run('jpeg', jpegs)
  const rawRate = await run('raw', raws)
  const jpegAgain = await run('jpeg-again', jpegs)
  const ratio = rawRate / ((jpegRate + jpegAgain) / 2)
  printRows([
    ['JPEG end to end, 12 MP', `${jpegRate.toFixed(1)} photos/s`, '', null],
    ['RAW end to end, 12-MP preview', `${rawRate.toFixed(1)} photos/s`, '', null],
    ['JPEG end to end again', `${jpegAgain.toFixed(1)} photos/s`, '', null],
    ['RAW / JPEG', ratio.toFixed(3), '>= 0.8', ratio >= 0.8]
  ])
}

/** One DNG per JPEG, cached beside the JPEG corpus (made through ExifTool, about 0.2 s each). */
async function ensureRawCorpus(jpegs: readonly string[], mainMb: number): Promise<string[]> {
  const dir = join(tmpdir(), `sdl-bench-corpus-raw-v1-${mainMb}mb`)
  mkdirSync(dir, { recursive: true })
  const present = new Set(readdirSync(dir))
  const files = jpegs.map((jpeg) => join(dir, basename(jpeg).replace(/\.jpg$/, '.dng')))
  const missing = files.map((file, i) => ({ file, jpeg: jpegs[i] })).filter(({ file }) => !present.has(basename(file)))
  if (missing.length) {
    const started = performance.now()
    // A 3:2 main image of about mainMb megabytes of 8-bit RGB.
    const height = Math.round(Math.sqrt((mainMb * 1e6) / 3 / 1.5))
    const main = { width: Math.round(height * 1.5), height }
    const exifTool = new ExifToolRunner()
    try {
      for (const { file, jpeg } of missing) {
        await writeTestRaw(exifTool, `${file}.part`, { layout: 'dng', preview: await readFile(jpeg), main })
        renameSync(`${file}.part`, file)
      }
    } finally {
      await exifTool.close()
    }
    console.log(`generated ${missing.length} RAWs in ${since(started).toFixed(1)} s (cached in ${dir})`)
  }
  return files
}

/**
 * A fresh data folder with the ConSE pack and one library folder, closed again. Its GloVe cache is
 * built here too, untimed: auto-tagging a ConSE library needs the word vectors, and the cache is
 * made once per data folder (~3 s), not once per indexing run.
 */
async function prepareDataDir(dataDir: string, folder: string): Promise<void> {
  const engine = new Engine({ dataDir, executionProvider: 'cpu' })
  try {
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    ;(await engine.library()).addFolder(folder)
    await loadGloveVectors(dataDir)
    forgetLoaded(vectorFilePath(dataDir, GLOVE_WORD_SPACE))
  } finally {
    await engine.close()
  }
}

/** One `library.index()` of every folder, timed from the call (model session open included). */
async function indexOnce(dataDir: string): Promise<IndexRun> {
  const engine = new Engine({ dataDir, executionProvider: 'cpu' })
  try {
    const library = await engine.library()
    const onProgress = process.stderr.isTTY
      ? (p: { done: number; total: number | null; ratePerSecond: number }) => process.stderr.write(`\r  ${p.done}/${p.total ?? '?'} (${p.ratePerSecond.toFixed(1)}/s)   `)
      : undefined
    const started = performance.now()
    const summary = await library.index(undefined, { onProgress })
    const seconds = since(started)
    if (onProgress) process.stderr.write('\r\x1b[K')
    return { seconds, summary }
  } finally {
    await engine.close()
  }
}

/** indexOnce in a child process, so the peak RSS it reports is that of the indexing alone. */
function indexInChild(dataDir: string): Promise<IndexRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--child', 'index', '--data', dataDir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? ''
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`indexing child exited with ${signal ?? code}: ${stdout.slice(-2000)}`))
      resolve(JSON.parse(last) as IndexRun)
    })
  })
}

function describe(s: IndexSummary): string {
  return `seen ${s.seen}, indexed ${s.indexed}, unchanged ${s.unchanged}, moved ${s.moved}, failed ${s.failed}, removed ${s.removed}`
}

/**
 * The first `count` photos of a cached corpus under the temporary directory, generating the ones
 * missing (in parallel, up to the core count). Each is written under a temporary name and renamed,
 * so an interrupted run never leaves a truncated photo behind.
 */
async function ensureCorpus(name: string, count: number, width: number, height: number): Promise<string[]> {
  const dir = join(tmpdir(), name)
  mkdirSync(dir, { recursive: true })
  const present = new Set(readdirSync(dir))
  for (const leftover of [...present].filter((f) => f.endsWith('.part'))) rmSync(join(dir, leftover), { force: true })
  const files = Array.from({ length: count }, (_, i) => join(dir, `photo-${String(i).padStart(6, '0')}.jpg`))
  const missing = files.map((file, seed) => ({ file, seed })).filter(({ file }) => !present.has(basename(file)))
  if (missing.length) {
    const started = performance.now()
    let next = 0
    const worker = async () => {
      while (next < missing.length) {
        const { file, seed } = missing[next++]
        const jpeg = await sharp(photoPixels(width, height, seed + 1), { raw: { width, height, channels: 3 } })
          .jpeg({ quality: 90 })
          .toBuffer()
        await writeFile(`${file}.part`, jpeg)
        renameSync(`${file}.part`, file)
      }
    }
    await Promise.all(Array.from({ length: Math.min(CORES, missing.length) }, worker))
    console.log(`generated ${missing.length} ${width}x${height} JPEGs in ${since(started).toFixed(1)} s (cached in ${dir})`)
  }
  return files
}

/** Hard links to the corpus files in `dest`, `perFolder` to a sub-folder (copies across devices). */
function linkCorpus(files: readonly string[], dest: string, perFolder: number): string {
  files.forEach((file, i) => {
    const folder = join(dest, `folder-${String(Math.floor(i / perFolder)).padStart(3, '0')}`)
    if (i % perFolder === 0) mkdirSync(folder, { recursive: true })
    try {
      linkSync(file, join(folder, basename(file)))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
      copyFileSync(file, join(folder, basename(file)))
    }
  })
  return dest
}

/**
 * RGB pixels that compress like a photo: smooth colour gradients (a coarse random grid,
 * interpolated), a few soft-edged rectangles and discs, and luminance plus chroma noise.
 * Everything follows from `seed`, so every seed gives different content and fingerprint.
 */
function photoPixels(width: number, height: number, seed: number): Buffer {
  const rand = mulberry32(seed)
  const px = new Uint8ClampedArray(width * height * 3)
  const gw = 6
  const gh = 5
  const grid = Float32Array.from({ length: gw * gh * 3 }, () => 25 + rand() * 205)
  const ix = new Int32Array(width)
  const tx = new Float32Array(width)
  for (let x = 0; x < width; x++) {
    const f = (x * (gw - 1)) / Math.max(1, width - 1)
    ix[x] = Math.min(Math.floor(f), gw - 2) * 3
    tx[x] = f - ix[x] / 3
  }
  const row = new Float32Array(gw * 3)
  for (let y = 0; y < height; y++) {
    const fy = (y * (gh - 1)) / Math.max(1, height - 1)
    const iy = Math.min(Math.floor(fy), gh - 2)
    const ty = fy - iy
    for (let g = 0; g < gw * 3; g++) row[g] = grid[iy * gw * 3 + g] * (1 - ty) + grid[(iy + 1) * gw * 3 + g] * ty
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      const a = ix[x]
      const t = tx[x]
      px[o] = row[a] + (row[a + 3] - row[a]) * t
      px[o + 1] = row[a + 1] + (row[a + 4] - row[a + 1]) * t
      px[o + 2] = row[a + 2] + (row[a + 5] - row[a + 2]) * t
    }
  }
  for (let s = 0; s < 12; s++) {
    const colour = [rand() * 255, rand() * 255, rand() * 255]
    const alpha = 0.4 + rand() * 0.5
    const cx = rand() * width
    const cy = rand() * height
    const r = (0.03 + rand() * 0.15) * width
    const disc = rand() < 0.5
    const y0 = Math.max(0, Math.floor(cy - r))
    const y1 = Math.min(height, Math.ceil(cy + r))
    for (let y = y0; y < y1; y++) {
      const half = disc ? Math.sqrt(Math.max(0, r * r - (y - cy) * (y - cy))) : r * 0.8
      const x0 = Math.max(0, Math.floor(cx - half))
      const x1 = Math.min(width, Math.ceil(cx + half))
      for (let x = x0, o = (y * width + x0) * 3; x < x1; x++, o += 3) {
        for (let c = 0; c < 3; c++) px[o + c] = px[o + c] * (1 - alpha) + colour[c] * alpha
      }
    }
  }
  let state = (seed * 2654435761) >>> 0 || 1
  for (let o = 0; o < px.length; o += 3) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    // Triangular luminance noise (about +-8 levels) and a little independent chroma noise.
    const lum = ((state & 0xff) + ((state >>> 8) & 0xff) - 255) / 16
    px[o] += lum + ((state >>> 16) & 3) - 1.5
    px[o + 1] += lum + ((state >>> 20) & 3) - 1.5
    px[o + 2] += lum + ((state >>> 24) & 3) - 1.5
  }
  return Buffer.from(px.buffer, px.byteOffset, px.byteLength)
}
