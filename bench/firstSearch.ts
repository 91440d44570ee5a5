/**
 * The first search after a start: how long a fresh process takes to answer a one-word query, on
 * the 64 COCO test photos with the ConSE pack (no tag list of its own, so the search needs the
 * GloVe word vectors: the default vocabulary and the query word come from them).
 *
 *   npm run bench:first-search -- [--runs 5] [--cold-runs 3] [--query dog]
 *
 * Each run is a new process, on a data folder indexed once beforehand:
 * - engine: `new Engine` to the search's answer (engine.search() then search.search(query)),
 *   timed inside the process, so module loading is left out;
 * - cli: `node bin/sdl-tagger.js --data-dir D search <query>` end to end, from spawn to exit
 *   (needs `npm run build` first; skipped with a note if out/main/cli.js is missing).
 * Warm runs find the GloVe cache (<data>/lexicon/glove-6b-100d.bin) in place; cold runs remove it
 * first, so they include building it from the npm package, as the first start ever does. Prints the
 * median and the range of each; it never fails on a timing. The data folder is removed at the end.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Engine } from '../src/main/engine/engine'
import { addOnnxModel } from '../src/main/engine/models/packBuilders'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'cold-runs': { type: 'string', default: '3' },
    query: { type: 'string', default: 'dog' },
    // Internal: `--child engine --data <dir>` searches once and prints one JSON line.
    child: { type: 'string' },
    data: { type: 'string' }
  }
})

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCRIPT = fileURLToPath(import.meta.url)
const CLI = join(ROOT, 'bin', 'sdl-tagger.js')
const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url))
const CONSE_ONNX = join(SHARED, 'models/conse-mobilenetv2-glove100/conse-mobilenetv2-glove100.onnx')
const COCO_DIR = join(SHARED, 'photos/coco-dev')

type Mode = 'engine' | 'cli'

if (values.child === 'engine') {
  const started = performance.now()
  const engine = new Engine({ dataDir: values.data!, executionProvider: 'cpu' })
  const { hits } = await (await engine.search()).search(values.query)
  const ms = performance.now() - started
  await engine.close()
  console.log(JSON.stringify({ ms, hits: hits.length }))
} else {
  await main()
}

async function main(): Promise<void> {
  const runs = Number(values.runs)
  const coldRuns = Number(values['cold-runs'])
  const work = mkdtempSync(join(tmpdir(), 'sdl-bench-first-search-'))
  const dataDir = join(work, 'data')
  try {
    console.log(`first search for '${values.query}' | ${cpus().length} cores (${cpus()[0]?.model}), load ${loadavg()[0].toFixed(1)}`)
    const photos = await prepare(dataDir)
    console.log(`data folder: ConSE pack, ${photos} COCO photos indexed\n`)
    const modes: Mode[] = existsSync(join(ROOT, 'out', 'main', 'cli.js')) ? ['engine', 'cli'] : ['engine']
    if (modes.length === 1) console.log('(cli skipped: run `npm run build` first)\n')
    console.log(`${'case'.padEnd(16)}${'median'.padEnd(12)}${'range'.padEnd(22)}runs`)
    for (const mode of modes) {
      for (const cache of ['warm', 'cold'] as const) {
        const times: number[] = []
        for (let i = 0; i < (cache === 'warm' ? runs : coldRuns); i++) {
          if (cache === 'cold') rmSync(join(dataDir, 'lexicon'), { recursive: true, force: true })
          times.push(await timed(mode, dataDir))
        }
        const sorted = [...times].sort((a, b) => a - b)
        const range = `${ms(sorted[0])} - ${ms(sorted.at(-1)!)}`
        console.log(`${`${mode}, ${cache}`.padEnd(16)}${ms(median(sorted)).padEnd(12)}${range.padEnd(22)}${times.length}`)
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** A data folder with the ConSE pack and the COCO photos indexed (which builds the GloVe cache too). */
async function prepare(dataDir: string): Promise<number> {
  const engine = new Engine({ dataDir, executionProvider: 'cpu' })
  try {
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(COCO_DIR)
    const summary = await library.index()
    if (summary.failed) throw new Error(`${summary.failed} COCO photos failed to index`)
    return summary.indexed
  } finally {
    await engine.close()
  }
}

/** One first search in a fresh process, in ms. */
async function timed(mode: Mode, dataDir: string): Promise<number> {
  const args =
    mode === 'engine' ? ['--import', 'tsx', SCRIPT, '--child', 'engine', '--data', dataDir, '--query', values.query] : [CLI, '--data-dir', dataDir, 'search', values.query]
  const started = performance.now()
  const stdout = await run(args)
  const wall = performance.now() - started
  if (mode === 'cli') return wall
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; hits: number }
  if (!result.hits) throw new Error(`the search for '${values.query}' found nothing`)
  return result.ms
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} exited with ${signal ?? code}: ${stderr.slice(-2000)}`))))
  })
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`
}
