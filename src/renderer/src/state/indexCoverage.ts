import { computed } from 'vue'
import { api } from '../api/bridge'
import { attempt, indexingStarted, store } from './store'

export interface IndexCoverage {
  /** The active model's name; null without one. */
  model: string | null
  /** Photos that can be indexed: readable ones (an unreadable file has nothing to index). */
  photos: number
  /** Of those, photos the active model has indexed. */
  indexed: number
  /** Photos still to index with the active model. */
  pending: number
}

/**
 * How much of the library the active model has indexed, from the folders' counts (which follow
 * the active model): what the header, the model panel and an empty search say, so that none of
 * them reads "Indexed" while the model in use has indexed nothing.
 */
export const indexCoverage = computed<IndexCoverage>(() => {
  const model = store.status?.activeModel?.name ?? null
  const photos = store.folders.reduce((n, f) => n + f.photos - f.errors.length, 0)
  const indexed = store.folders.reduce((n, f) => n + f.indexed, 0)
  return { model, photos, indexed, pending: model ? Math.max(0, photos - indexed) : 0 }
})

/** Indexes every library folder with the active model (a run already going is joined). */
export async function indexLibrary(): Promise<void> {
  const progress = await attempt('Starting the indexing', api.startIndexing())
  if (progress) indexingStarted(progress)
}
