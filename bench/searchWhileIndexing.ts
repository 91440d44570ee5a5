/**
 * A query typed while indexing runs: a library of `--library` photos of random principal vectors
 * (in the ConSE test pack's space, D=100, K=7) is searched every 100 ms while `--photos` new
 * JPEGs are indexed into it with the real model. Prints the query latency before and
 * during indexing, and how many of the new photos the index had caught up with at the end.
 * The new photos are camera-sized JPEGs (`--size`, default 4000x3000) made from the COCO photos in
 * ../shared, so decoding weighs as it does on a real import; `--size 96x64` gives tiny ones.
 * `--indexing this-thread` indexes in the thread that searches, as before the index worker.
 *
 *   npm run bench:search-while-indexing -- [--library 100000] [--photos 300] [--size 4000x3000] [--indexing worker|this-thread]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { Engine } from '../src/main/engine/engine'
import type { PhotoOutcome } from '../src/main/engine/library/libraryStore'
import { addOnnxModel } from '../src/main/engine/models/packBuilders'
import { DEFAULT_VOCABULARY } from '../src/main/engine/search/defaultVocabulary'
import { prng } from '../test/helpers/prng'
import { COCO_DIR, CONSE_ONNX } from '../test/helpers/sharedData'

const { values } = parseArgs({
  options: {
    library: { type: 'string', default: '100000' },
    photos: { type: 'string', default: '300' },
    size: { type: 'string', default: '4000x3000' },
    indexing: { type: 'string', default: 'worker' }
  }
})
if (values.indexing !== 'worker' && values.indexing !== 'this-thread') throw new Error(`--indexing must be worker or this-thread, not ${values.indexing}`)
const LIBRARY = Number(values.library)
const PHOTOS = Number(values.photos)
const [WIDTH, HEIGHT] = values.size.split('x').map(Number)
// A different word each query (about 300 of them), so no query finds the pages of one before it cached.
const WORDS = DEFAULT_VOCABULARY

const dir = mkdtempSync(join(tmpdir(), 'sdl-bench-live-'))
const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]
let started: number
try {
  const engine = new Engine({ dataDir: join(dir, 'data'), executionProvider: 'cpu', indexing: values.indexing })
  await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
  const manifest = await engine.manifest()
  const library = await engine.library()
  mkdirSync(join(dir, 'Archive'))
  const old = library.addFolder(join(dir, 'Archive'))
  const fresh = join(dir, 'Imported')
  const coco = readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))
  mkdirSync(fresh)
  started = performance.now()
  const sources: Buffer[] = []
  for (const file of coco.slice(0, Math.min(PHOTOS, 24))) {
    sources.push(await sharp(join(COCO_DIR, file)).resize(WIDTH, HEIGHT, { fit: 'fill' }).jpeg({ quality: 88 }).toBuffer())
  }
  // Bytes after a JPEG's end marker are ignored by decoders: each copy is a file of its own (its own fingerprint), decoded in full.
  for (let i = 0; i < PHOTOS; i++) writeFileSync(join(fresh, `${i}.jpg`), Buffer.concat([sources[i % sources.length], Buffer.from(`copy ${i}`)]))
  console.log(`${PHOTOS} new photos of ${WIDTH}x${HEIGHT} written in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  library.addFolder(fresh)

  // The existing library, written as the indexer writes it (its files are never read: only the new folder is indexed).
  const modelId = library.store.modelId(manifest)
  const folderId = library.store.folder(old.path)!.id
  const random = prng(3)
  for (let first = 0; first < LIBRARY; first += 1000) {
    const outcomes: PhotoOutcome[] = []
    for (let p = first; p < Math.min(LIBRARY, first + 1000); p++) {
      outcomes.push({
        kind: 'indexed',
        facts: { path: join(old.path, `${p}.jpg`), folderId, size: 1, mtimeMs: 0, fingerprint: `old${p}` },
        details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
        vectors: Float32Array.from({ length: manifest.dim * manifest.rows }, () => random() - 0.5)
      })
    }
    library.store.writeOutcomes(outcomes, modelId)
  }
  const search = await engine.search()
  started = performance.now()
  await search.search('dog')
  console.log(`${LIBRARY} photos: first query (loads the lexicon, scores missing suggestions, builds the index) ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const query = async (i: number) => {
    const t = performance.now()
    const response = await search.search(WORDS[i % WORDS.length], { all: true, limit: 20 })
    return { ms: performance.now() - t, photos: response.photos }
  }
  const idle: number[] = []
  for (let i = 0; i < 20; i++) idle.push((await query(WORDS.length - 1 - i)).ms)

  const during: number[] = []
  let inIndex = 0
  let indexing = true
  started = performance.now()
  // How long the searching thread's event loop was held up: what the window and web API feel.
  const stalls = monitorEventLoopDelay({ resolution: 10 })
  stalls.enable()
  const run = library.index(fresh).finally(() => (indexing = false))
  for (let i = 0; indexing; i++) {
    const r = await query(i)
    during.push(r.ms)
    inIndex = r.photos
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const summary = await run
  stalls.disable()
  const seconds = (performance.now() - started) / 1000
  const after = await query(0)
  console.log(`indexing in ${values.indexing === 'worker' ? 'the index worker' : 'the thread that searches'}`)
  console.log(`idle: one-word query p50 ${percentile(idle, 0.5).toFixed(1)} ms, p95 ${percentile(idle, 0.95).toFixed(1)} ms`)
  console.log(
    `while indexing ${summary.indexed} photos (${seconds.toFixed(1)} s): ${during.length} queries, p50 ${percentile(during, 0.5).toFixed(1)} ms, ` +
      `p95 ${percentile(during, 0.95).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms; the last one saw ${inIndex - LIBRARY} new photos, the next ${after.photos - LIBRARY}`
  )
  const ms = (ns: number) => (ns / 1e6).toFixed(1)
  console.log(`event loop delay while indexing: p50 ${ms(stalls.percentile(50))} ms, p99 ${ms(stalls.percentile(99))} ms, max ${ms(stalls.max)} ms`)
  await engine.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
