/**
 * Search benchmark on random principal vectors (D=300, K=7, as SDL): build time, memory per
 * photo, p50/p95 of a one-word query, and recall@100 of the int8 index against exact float32
 * scoring.
 *
 *   npm run bench:search -- [--photos 100000,1000000] [--queries 40]
 */
import { parseArgs } from 'node:util'
import { evaluateQuery } from '../src/main/engine/search/evaluateQuery'
import { parseQuery } from '../src/main/engine/search/queryParser'
import { VectorMatrix } from '../src/main/engine/search/vectorMatrix'

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '100000,1000000' },
    queries: { type: 'string', default: '40' },
    bits: { type: 'string', default: '4' },
    rerank: { type: 'string', default: '300' }
  }
})
const BITS = Number(values.bits) as 4 | 8
const RERANK = Number(values.rerank)
const DIM = 300
const ROWS = 7

/** Deterministic pseudo-random vectors, regenerated on demand (1M photos would be 8.4 GB as float32). */
function photoVectors(p: number, out = new Float32Array(DIM * ROWS)): Float32Array {
  let s = (p + 1) * 2654435761
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out[i] = s / 2 ** 31 - 1
  }
  return out
}

function randomUnit(seed: number): Float32Array {
  const w = photoVectors(1e9 + seed).subarray(0, DIM)
  const norm = Math.hypot(...w)
  return w.map((v) => v / norm)
}

const TERM = parseQuery('term')

/** The `n` best photos, selected as search selects them. */
function topIndices(scores: Float32Array, n: number): Set<number> {
  const terms = new Map([['term', { score: scores, applies: new Uint8Array(scores.length) }]])
  return new Set(evaluateQuery(TERM, terms, scores.length, { all: true, limit: n }).matches)
}

function exactScore(a: Float32Array, w: Float32Array): number {
  let best = -Infinity
  for (let k = 0; k < ROWS; k++) {
    let dot = 0
    for (let d = 0; d < DIM; d++) dot += a[d * ROWS + k] * w[d]
    best = Math.max(best, dot)
  }
  return best
}

function exactScores(photoCount: number, w: Float32Array): Float32Array {
  const out = new Float32Array(photoCount)
  const buffer = new Float32Array(DIM * ROWS)
  for (let p = 0; p < photoCount; p++) out[p] = exactScore(photoVectors(p, buffer), w)
  return out
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/** RSS once the garbage collector (run with --expose-gc) and the allocator have settled. */
async function settledRss(): Promise<number> {
  globalThis.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 200))
  globalThis.gc?.()
  return process.memoryUsage().rss
}

// onnxruntime's own start-up (library, thread pools) is not the index's memory: pay it first.
const warmUp = await VectorMatrix.build([new Float32Array(DIM * ROWS)], 1, DIM, ROWS, { bits: BITS })
await warmUp.scores(new Float32Array(DIM))
await warmUp.release()

for (const photoCount of values.photos!.split(',').map(Number)) {
  const rssBefore = await settledRss()
  let started = performance.now()
  const matrix = await VectorMatrix.build(
    (function* () {
      const b = new Float32Array(DIM * ROWS)
      for (let p = 0; p < photoCount; p++) yield photoVectors(p, b)
    })(),
    photoCount,
    DIM,
    ROWS,
    { bits: BITS }
  )
  /** The quantised scores, then the best RERANK rescored exactly, as search does (it reads their vectors from the store). */
  const query = async (w: Float32Array): Promise<Float32Array> => {
    const scores = await matrix.scores(w)
    if (!RERANK) return scores
    const buffer = new Float32Array(DIM * ROWS)
    const reranked = new Float32Array(scores.length).fill(-Infinity)
    for (const p of topIndices(scores, RERANK)) reranked[p] = exactScore(photoVectors(p, buffer), w)
    return reranked
  }
  const buildSeconds = (performance.now() - started) / 1000
  const times: number[] = []
  for (let q = 0; q < Number(values.queries); q++) {
    const w = randomUnit(q)
    started = performance.now()
    await query(w)
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  // What the index keeps, once building it is over (run with --expose-gc).
  const rssGrowth = ((await settledRss()) - rssBefore) / photoCount
  const recallQueries = photoCount > 200_000 ? 2 : 5
  let recall = 0
  for (let q = 0; q < recallQueries; q++) {
    const w = randomUnit(1000 + q)
    const exact = topIndices(exactScores(photoCount, w), 100)
    const approx = topIndices(await query(w), 100)
    recall += [...approx].filter((i) => exact.has(i)).length / 100 / recallQueries
  }
  await matrix.release()
  console.log(
    `${photoCount} photos: build ${buildSeconds.toFixed(1)} s, ${matrix.bytesPerPhoto} B/photo held (RSS growth ${rssGrowth.toFixed(0)} B/photo), ` +
      `${BITS}-bit${RERANK ? `, best ${RERANK} rescored exactly` : ''}: one-word query p50 ${percentile(times, 0.5).toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms, recall@100 vs float32 ${recall.toFixed(3)}`
  )
}
