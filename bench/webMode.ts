/**
 * Web mode latency, as the browser sees it: HTTP round trips of `search` and `listPhotos` to
 * `sdl-tagger serve`'s server on 127.0.0.1 (engine in its own process, as serve runs it), over the test library (the ConSE pack on the COCO dev
 * photos), both again while an indexing run embeds new 12 MP photos in the same process, then
 * `listPhotos` with 100,000 photos in the library (rows added directly; the
 * grid only pages through them).
 *
 *   npm run bench:web -- [--calls 200]
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EngineProcess } from '../src/main/host/engineProcess'
import { Engine } from '../src/main/engine/engine'
import { addOnnxModel } from '../src/main/engine/models/packBuilders'
import { forkEngine } from '../src/main/host/engineFork'
import { startWebServer } from '../src/main/server/webServer'
import { createHttpApi } from '../src/shared/httpApi'
import { writeTestPhoto } from '../test/helpers/generatedPhotos'

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200' } } })
const CALLS = Number(values.calls)
const SHARED = new URL('../../shared/', import.meta.url).pathname
const COCO_DIR = join(SHARED, 'photos/coco-dev')
const CONSE_ONNX = join(SHARED, 'models/conse-mobilenetv2-glove100/conse-mobilenetv2-glove100.onnx')
const QUERIES = ['dog', 'person', 'car | truck', 'pizza -table', '"teddy bear"', 'cat | dog', 'beach', 'kitchen']

const tmp = mkdtempSync(join(tmpdir(), 'sdl-tagger-bench-web-'))
const folder = join(tmp, 'Photos')
mkdirSync(folder)
const names = readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))
for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
const engine = new Engine({ dataDir: join(tmp, 'data'), executionProvider: 'cpu' })
await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
const library = await engine.library()
library.addFolder(folder)
await library.index()

await engine.close()

// As `serve` runs it: the engine in its own process, the HTTP server in this one.
const remote = new EngineProcess(() => forkEngine({ dataDir: join(tmp, 'data'), executionProvider: 'cpu' }))
const server = await startWebServer({
  api: remote.api,
  subscribe: (l) => remote.subscribe(l),
  resolveMedia: (r) => remote.resolveMedia(r),
  rendererDir: tmp,
  host: '127.0.0.1',
  port: 0
})
const client = createHttpApi({ baseUrl: server.url.replace(/\/$/, '') })

async function measure(label: string, call: (i: number) => Promise<{ ok: boolean }>): Promise<void> {
  for (let i = 0; i < 10; i++) await call(i) // warm-up: index load, JIT
  const ms: number[] = []
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now()
    const result = await call(i)
    ms.push(performance.now() - started)
    if (!result.ok) throw new Error(`${label}: ${JSON.stringify(result)}`)
  }
  ms.sort((a, b) => a - b)
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2)
  console.log(`${label.padEnd(44)} median ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${ms.at(-1)!.toFixed(2)} ms  (${CALLS} calls)`)
}

console.log(`web mode on 127.0.0.1, ${names.length} COCO photos indexed with the ConSE pack`)
await measure('search (50 hits)', (i) => client.search(QUERIES[i % QUERIES.length]))
await measure('search --all (every photo ranked)', (i) => client.search(QUERIES[i % QUERIES.length], { all: true, limit: names.length }))
await measure('listPhotos 200 per page', (i) => client.listPhotos({ offset: (i * 7) % names.length, limit: 200 }))

// While an indexing run decodes and embeds new 12 MP photos in the same process.
const NEW_PHOTOS = 48
for (let i = 0; i < NEW_PHOTOS; i++) await writeTestPhoto(join(folder, 'new', `new-${i}.jpg`), 1000 + i, { width: 4000, height: 3000 })
const finished = new Promise<void>((resolve) => remote.subscribe((e) => e.type === 'indexing' && e.progress.phase !== 'indexing' && e.progress.phase !== 'starting' && resolve()))
const run = await client.startIndexing()
if (!run.ok) throw new Error(run.error.message)
const during: { search: number[]; page: number[] } = { search: [], page: [] }
let indexing = true
void finished.then(() => (indexing = false))
for (let i = 0; indexing; i++) {
  let started = performance.now()
  await client.search(QUERIES[i % QUERIES.length])
  during.search.push(performance.now() - started)
  started = performance.now()
  await client.listPhotos({ offset: 0, limit: 200 })
  during.page.push(performance.now() - started)
}
for (const [label, ms] of Object.entries(during)) {
  ms.sort((a, b) => a - b)
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2)
  console.log(
    `${`${label === 'search' ? 'search' : 'listPhotos 200'} while indexing ${NEW_PHOTOS} 12 MP photos`.padEnd(44)} median ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${ms.at(-1)!.toFixed(2)} ms  (${ms.length} calls)`
  )
}

// 100k photos in the library: pages from anywhere in it.
const TOTAL = 100_000
const writer = new Engine({ dataDir: join(tmp, 'data') })
const store = (await writer.library()).store
const db = store.db
const folderId = store.folders()[0].id
const insert = db.prepare(
  `INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, width, height, status, offline, indexed_at)
   VALUES (?, ?, 1000, 0, ?, 4000, 3000, 'ok', 0, '2026-01-01T00:00:00Z')`
)
db.transaction(() => {
  for (let i = names.length; i < TOTAL; i++) insert.run(folderId, join(folder, `bulk`, `IMG_${String(i).padStart(6, '0')}.jpg`), `bulk${i}`)
})()
await writer.close()
console.log(`\nlibrary grown to ${TOTAL} photos`)
await measure('listPhotos 200 per page, random offset', (i) => client.listPhotos({ offset: ((i * 7919) % (TOTAL / 200)) * 200, limit: 200 }))
await measure('listPhotos 200 per page, last page', () => client.listPhotos({ offset: TOTAL - 200, limit: 200 }))

await server.close()
await remote.stop()
rmSync(tmp, { recursive: true, force: true })
