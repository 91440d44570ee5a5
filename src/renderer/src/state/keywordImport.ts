import { reactive, watch } from 'vue'
import type { ApiError, KeywordImportReport } from '../../../shared/api'
import { api } from '../api/bridge'
import { plural } from '../lib/format'
import { indexingRunning, showNotice, store } from './store'

/** The import of the keywords the photos already have (XMP sidecars, embedded metadata): its last outcome. */
export const keywordImport = reactive({
  running: false,
  /** Asked for at first run: it starts once the indexing run has put the new folder's photos in the library. */
  waitingForIndexing: false,
  report: null as KeywordImportReport | null,
  error: null as ApiError | null
})

export async function importKeywords(): Promise<void> {
  keywordImport.running = true
  keywordImport.error = null
  const result = await api.importKeywords()
  keywordImport.running = false
  if (!result.ok) {
    keywordImport.error = result.error
    return
  }
  keywordImport.report = result.value
  const { imported, withKeywords } = result.value
  showNotice(
    imported ? `Imported ${plural(imported, 'keyword')} your photos already had (${plural(withKeywords, 'photo')} with keywords).` : 'Your photos had no keywords to import.'
  )
}

/** Imports the keywords once the indexing run has ended (its photos are in the library then), or now when it already has. */
export function importKeywordsAfterIndexing(): void {
  if (indexingRunning()) keywordImport.waitingForIndexing = true
  else void importKeywords()
}

watch(
  () => store.indexing?.phase,
  (phase) => {
    if (!keywordImport.waitingForIndexing || !phase || phase === 'starting' || phase === 'indexing') return
    keywordImport.waitingForIndexing = false
    void importKeywords()
  }
)
