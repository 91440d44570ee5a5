/**
 * Auto-tagging benchmark: a library of random principal vectors (D=300, K=7, as SDL) stored the
 * way the indexer stores them, scored against a 1,006-tag vocabulary (SDL's NUS-WIDE size) by
 * what the indexer and `autotag` run: VocabularyScorer.scoreMissing reads each photo's float16
 * vectors from SQLite, scores every tag in float32 and stores its best STORED_TOP. Then the
 * suggestions of every photo are read back as `autotag` does.
 *
 *   npm run bench:autotag -- [--photos 100000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { openLibraryDatabase } from '../src/main/engine/library/database'
import { LibraryStore, type PhotoOutcome } from '../src/main/engine/library/libraryStore'
import type { PackManifest } from '../src/main/engine/models/packManifest'
import { baseVocabulary, VocabularyScorer } from '../src/main/engine/tagging/vocabularyScores'
import { prng } from '../test/helpers/prng'

const { values } = parseArgs({ options: { photos: { type: 'string', default: '100000' }, tags: { type: 'string', default: '1006' } } })
const PHOTOS = Number(values.photos)
const TAGS = Number(values.tags)
const DIM = 300
const ROWS = 7

const dir = mkdtempSync(join(tmpdir(), 'sdl-bench-autotag-'))
try {
  const store = new LibraryStore(openLibraryDatabase(join(dir, 'library.sqlite')))
  const manifest = { name: 'bench', modelSha256: 'bench', dim: DIM, rows: ROWS } as PackManifest
  const modelId = store.modelId(manifest)
  const folder = store.addFolder('/bench')
  const random = prng(1)
  let started = performance.now()
  for (let first = 0; first < PHOTOS; first += 1000) {
    const outcomes: PhotoOutcome[] = []
    for (let p = first; p < Math.min(PHOTOS, first + 1000); p++) {
      outcomes.push({
        kind: 'indexed',
        facts: { path: `/bench/${p}.jpg`, folderId: folder.id, size: 1, mtimeMs: 0, fingerprint: String(p) },
        details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
        vectors: Float32Array.from({ length: DIM * ROWS }, () => random() - 0.5)
      })
    }
    store.writeOutcomes(outcomes, modelId)
  }
  console.log(`stored ${PHOTOS} photos' vectors in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const vectors = new Float32Array(TAGS * DIM)
  for (let t = 0; t < TAGS; t++) {
    const w = Float32Array.from({ length: DIM }, () => random() - 0.5)
    const norm = Math.hypot(...w)
    vectors.set(
      w.map((v) => v / norm),
      t * DIM
    )
  }
  const pack = { tags: Array.from({ length: TAGS }, (_, t) => `tag${t}`), unseen: new Set<string>(), dim: DIM, vectors }
  // A pack with its own tags never consults the lexicon.
  const vocabulary = baseVocabulary(manifest, pack, null)
  const scorer = await VocabularyScorer.open(vocabulary, ROWS)

  started = performance.now()
  const scored = await VocabularyScorer.scoreMissing(store, modelId, vocabulary, async () => scorer)
  const scoreSeconds = (performance.now() - started) / 1000
  started = performance.now()
  let read = 0
  for (const s of store.vocabularyScores(modelId, vocabulary.id)) read += s.tags.length > 0 ? 1 : 0
  const readSeconds = (performance.now() - started) / 1000
  console.log(
    `auto-tagged ${scored} photos against ${TAGS} tags in ${scoreSeconds.toFixed(1)} s (${(scored / scoreSeconds).toFixed(0)} photos/s, goal <= 30 s for 100k); ` +
      `read back every photo's suggestions in ${readSeconds.toFixed(2)} s (${read} photos)`
  )
  store.db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
