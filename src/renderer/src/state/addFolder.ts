import type { ApiError, FolderState } from '../../../shared/api'
import { api } from '../api/bridge'
import { indexingStarted, refreshFolders, store } from './store'

/**
 * Adds a folder to the library and starts indexing it straight away (a folder is only useful once
 * indexed; without a model there is nothing to index it with yet). The one way every window part
 * adds a folder: the form, the pickers and a folder dropped onto the window.
 */
export async function addFolderAndIndex(path: string): Promise<{ folder: FolderState | null; error: ApiError | null }> {
  const added = await api.addFolder(path)
  if (!added.ok) return { folder: null, error: added.error }
  await refreshFolders()
  if (!store.status?.activeModel) return { folder: added.value, error: null }
  const started = await api.startIndexing({ folder: added.value.path })
  if (!started.ok) return { folder: added.value, error: started.error }
  indexingStarted(started.value)
  return { folder: added.value, error: null }
}
