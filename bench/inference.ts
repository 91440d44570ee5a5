/**
 * Inference benchmark: imports the SDL fixture checkpoint (time and peak memory), then measures
 * images/s of the TResNet-M SDL graph at several batch sizes, network only (pre-decoded inputs)
 * and end to end (decode + resize + network) on the sample photos.
 *
 *   npm run bench:inference -- [--ep cpu] [--batches 1,16] [--images 32]
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createGunzip } from 'node:zlib'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { Engine } from '../src/main/engine/engine'
import { decodeToModelInput } from '../src/main/engine/image/preprocess'
import type { ExecutionProviderChoice } from '../src/main/engine/inference/executionProviders'
import { importSdlCheckpoint } from '../src/main/engine/models/packBuilders'

const { values } = parseArgs({
  options: {
    ep: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,16' },
    images: { type: 'string', default: '32' }
  }
})
const sdl = fileURLToPath(new URL('../../shared/sdl/', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'sdl-bench-'))
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`

try {
  const checkpoint = join(work, 'fixture.pth')
  await pipeline(createReadStream(join(sdl, 'fixtures/sdl_fixture_zip.pth.gz')), createGunzip(), createWriteStream(checkpoint))
  const engine = new Engine({ dataDir: join(work, 'data'), executionProvider: values.ep as ExecutionProviderChoice })

  const rssBefore = process.resourceUsage().maxRSS
  let started = performance.now()
  await importSdlCheckpoint(engine.packs, { checkpointPath: checkpoint, vocabDir: join(sdl, 'nus-wide/original-pickles'), name: 'bench' })
  const importSeconds = (performance.now() - started) / 1000
  console.log(`import: ${importSeconds.toFixed(2)} s, peak RSS ${mb(process.resourceUsage().maxRSS)} (before: ${mb(rssBefore)})`)

  const { session } = await engine.session()
  console.log(`execution provider: ${session.provider}`)
  const photos = readdirSync(join(sdl, 'sample-photos')).map((f) => join(sdl, 'sample-photos', f))
  const decoded = await Promise.all(photos.map((p) => decodeToModelInput(p)))
  const count = Number(values.images)

  for (const batch of values.batches!.split(',').map(Number)) {
    const input = new Float32Array(batch * decoded[0].length)
    for (let i = 0; i < batch; i++) input.set(decoded[i % decoded.length], i * decoded[0].length)
    await session.run(input, batch) // warm-up: the first run plans memory and picks kernels
    const runs = Math.max(1, Math.round(count / batch))
    started = performance.now()
    for (let r = 0; r < runs; r++) await session.run(input, batch)
    const network = (runs * batch) / ((performance.now() - started) / 1000)

    const paths = Array.from({ length: runs * batch }, (_, i) => photos[i % photos.length])
    started = performance.now()
    let done = 0
    for await (const result of engine.embed(paths, { batchSize: batch })) if ('output' in result) done++
    const endToEnd = done / ((performance.now() - started) / 1000)
    console.log(`batch ${batch}: network ${network.toFixed(2)} images/s, end to end ${endToEnd.toFixed(2)} images/s (${runs * batch} images)`)
  }
  console.log(`peak RSS overall: ${mb(process.resourceUsage().maxRSS)}`)
  await engine.close()
} finally {
  rmSync(work, { recursive: true, force: true })
}
