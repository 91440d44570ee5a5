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

  it('lets writes happen between the photos it yields, across pages', () => {
    const store = new LibraryStore(openLibraryDatabase(join(tmp.dir, 'library.sqlite')))
    const modelId = store.modelId({ name: 'm', modelSha256: 'x', dim: 2, rows: 1 } as PackManifest)
    const folderId = store.addFolder(tmp.dir).id
    const outcome = (i: number): PhotoOutcome => ({
      kind: 'indexed',
      facts: { path: join(tmp.dir, `${i}.jpg`), folderId, size: 1, mtimeMs: 0, fingerprint: String(i) },
      details: { format: 'jpeg', width: 1, height: 1, orientation: null, takenAt: null, camera: null },
      vectors: Float32Array.of(i, 1)
    })
    store.writeOutcomes(Array.from({ length: 2500 }, (_, i) => outcome(i)), modelId)
    store.putVocabularyScores(modelId, 'v', [{ photoId: 1, tags: Uint16Array.of(0), scores: Float32Array.of(1) }])

    const seen: number[] = []
    let written = 2500
    for (const photo of store.embeddedPhotos(modelId)) {
      seen.push(photo.vectors[0])
      // New photos arrive while the walk is under way; they come after it in id order.
      if (seen.length % 1000 === 1) store.writeOutcomes([outcome(written++)], modelId)
      if (seen.length === 1) for (const s of store.vocabularyScores(modelId, 'v')) store.putVocabularyScores(modelId, 'v', [{ photoId: s.photoId, tags: s.tags, scores: s.scores }])
    }
    expect(seen.slice(0, 2500)).toEqual(Array.from({ length: 2500 }, (_, i) => i))
    expect(seen.length).toBe(written)
    store.db.close()
  })
})
