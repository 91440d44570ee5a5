/**
 * Projection benchmark: how well GloVe-100d vectors map into the official SDL vocabulary's
 * fastText-300d space. For each method, 10-fold cross-validation over the official tags that GloVe
 * knows: the median cosine between projected and true vectors (with its 95% confidence interval,
 * to tell a real gain from the luck of the draw), and how often the true tag is the nearest of all
 * 1006 tags to the projection. Also times building and loading the GloVe cache. The methods tried
 * and dropped, with their figures, are listed in docs/projection-experiments.md.
 *
 *   npm run bench:projection -- [--data-dir DIR]   (default: a temporary folder, so a fresh build)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { sharedAnchors } from '../src/main/engine/lexicon/anchors'
import { loadGloveVectors } from '../src/main/engine/lexicon/gloveVectors'
import { forgetLoaded } from '../src/main/engine/lexicon/loadedVectors'
import { crossValidate, fitKernelRidge, fitNeighbourBlend, fitRidge, KERNEL_RIDGE_SETTINGS, type Anchors, type Projection } from '../src/main/engine/lexicon/projection'
import { vectorFilePath } from '../src/main/engine/lexicon/vectorFile'
import type { PackVocabulary } from '../src/main/engine/models/packManifest'

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } })
const work = values['data-dir'] ? null : mkdtempSync(join(tmpdir(), 'sdl-bench-'))
const dataDir = values['data-dir'] ?? work!
const nusWide = fileURLToPath(new URL('../../shared/sdl/nus-wide/', import.meta.url))

try {
  let started = performance.now()
  const glove = await loadGloveVectors(dataDir)
  console.log(`GloVe: first load ${seconds(started)} (includes building the cache if it was missing), peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`)
  forgetLoaded(vectorFilePath(dataDir, 'glove-6b-100d'))
  started = performance.now()
  await loadGloveVectors(dataDir)
  console.log(`GloVe: load from cache ${seconds(started)} (${glove.size} words)`)

  const { tags } = JSON.parse(readFileSync(join(nusWide, 'tags.json'), 'utf8')) as { tags: string[] }
  const raw = readFileSync(join(nusWide, 'wordvecs-1006x300-f32le.bin'))
  const vectors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
  const vocabulary: PackVocabulary = { tags, unseen: new Set(), dim: 300, vectors }
  const anchors = sharedAnchors(vocabulary, glove)
  console.log(`${anchors.count} of ${tags.length} tags are in GloVe; 10-fold cross-validation, nearest among all ${tags.length}\n`)

  const run = (name: string, fit: (a: Anchors) => Projection) => {
    const t = performance.now()
    const cv = crossValidate(anchors, fit, { folds: 10, candidates: vectors, candidateRow: anchors.tagRow })
    const [lo, hi] = cv.medianInterval
    console.log(
      `${name.padEnd(62)} median cos ${cv.medianCosine.toFixed(4)} (95% ${lo.toFixed(3)}-${hi.toFixed(3)})   nearest ${(cv.nearestAccuracy * 100).toFixed(1)}%   (${seconds(t)})`
    )
  }
  for (const lambda of [0.1, 0.3, 1, 3]) run(`ridge lambda=${lambda}`, (a) => fitRidge(a, lambda))
  for (const weight of [0.5, 0.7]) {
    for (const temperature of [0.05, 0.1]) {
      run(`ridge(1) + 20 nearest anchors, temp ${temperature}, ridge weight ${weight}`, (a) => fitNeighbourBlend(a, { lambda: 1, neighbours: 20, temperature, weight }))
    }
  }
  for (const tau of [0.3, 0.5, 1]) {
    for (const lambda of [0.03, 0.1, 0.3]) run(`kernel ridge tau=${tau} lambda=${lambda}`, (a) => fitKernelRidge(a, { tau, lambda, spelling: 0 }))
  }
  const { tau, lambda } = KERNEL_RIDGE_SETTINGS
  for (const spelling of [0.02, 0.05, 0.1, 0.2]) {
    const chosen = spelling === KERNEL_RIDGE_SETTINGS.spelling
    run(`kernel ridge tau=${tau} lambda=${lambda} spelling=${spelling}${chosen ? " (the lexicon's)" : ''}`, (a) => fitKernelRidge(a, { tau, lambda, spelling }))
  }
} finally {
  if (work) rmSync(work, { recursive: true, force: true })
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`
}
