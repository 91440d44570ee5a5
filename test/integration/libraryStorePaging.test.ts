import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openLibraryDatabase } from '../../src/main/engine/library/database'
import { LibraryStore, type PhotoOutcome } from '../../src/main/engine/library/libraryStore'
import type { PackManifest } from '../../src/main/engine/models/packManifest'
import { tempDir } from '../helpers/sharedData'

// Building the search index walks every photo with awaits in between, while the indexer keeps
// writing through the same connection: an open cursor there made its transactions fail with
// "This database connection is busy executing a query".
describe('LibraryStore walks many photos without holding the connection', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('lets writes happen between the rows it yields', () => {
    const store = new LibraryStore(openLibraryDatabase(join(tmp.dir, 'library.sqlite')))
    const modelId = store.modelId({ name: 'm', modelSha256: 'x', dim: 2, rows: 1 } as PackManifest)
    const folderId = store.addFolder(tmp.dir).id
    const outcome = (i: number): PhotoOutcome => ({
      kind: 'indexed',
      facts: { path: join(tmp.dir, `${i}.jpg`), folderId, size: 1, mtimeMs: 0, fingerprint: String(i) },
      details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
      vectors: Float32Array.of(i, 1)
    })
    store.writeOutcomes(
      Array.from({ length: 2500 }, (_, i) => outcome(i)),
      modelId
    )
    store.putVocabularyScores(modelId, 'v', [{ photoId: 1, tags: Uint16Array.of(0), scores: Float32Array.of(1) }])

    const seen: number[] = []
    let written = 2500
    for (const stored of store.vocabularyScores(modelId, 'v')) {
      seen.push(stored.photoId)
      // Written while the walk is under way.
      store.writeOutcomes([outcome(written++)], modelId)
      store.putVocabularyScores(modelId, 'v', [{ photoId: written, tags: stored.tags, scores: stored.scores }])
    }
    expect(seen).toEqual([1])
    const listed = store.embeddedPhotoList(modelId)
    expect(listed).toHaveLength(written)
    const vectors = store.photosVectors(
      listed.slice(0, 3).map((p) => p.id),
      modelId
    )
    expect(listed.slice(0, 3).map((p) => vectors.get(p.id)![0])).toEqual([0, 1, 2])
    store.db.close()
  })

  // The count is kept between queries; it must move with writes from either connection.
  it('counts embedded photos anew after this connection or another one writes', () => {
    const path = join(tmp.dir, 'counted.sqlite')
    const search = new LibraryStore(openLibraryDatabase(path))
    const worker = new LibraryStore(openLibraryDatabase(path))
    const manifest = { name: 'm', modelSha256: 'x', dim: 2, rows: 1 } as PackManifest
    const modelId = search.modelId(manifest)
    const folderId = search.addFolder(tmp.dir).id
    const outcome = (i: number): PhotoOutcome => ({
      kind: 'indexed',
      facts: { path: join(tmp.dir, `c${i}.jpg`), folderId, size: 1, mtimeMs: 0, fingerprint: `c${i}` },
      details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
      vectors: Float32Array.of(i, 1)
    })
    expect(search.embeddedCount(modelId)).toBe(0)
    worker.writeOutcomes([outcome(0), outcome(1)], modelId)
    expect(search.embeddedCount(modelId)).toBe(2)
    search.writeOutcomes([outcome(2)], modelId)
    expect(search.embeddedCount(modelId)).toBe(3)
    search.markMissing([search.photoByPath(search.embeddedPhotoList(modelId)[0].path)!])
    expect(search.embeddedCount(modelId)).toBe(2)
    expect(search.embeddedCount(search.modelId({ ...manifest, modelSha256: 'y' }))).toBe(0)
    expect(search.embeddedCount(modelId)).toBe(2)
    search.db.close()
    worker.db.close()
  })
})
