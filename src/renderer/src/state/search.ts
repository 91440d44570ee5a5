import { reactive } from 'vue'
import type { ApiError, ApiSearchResponse } from '../../../shared/api'
import { api } from '../api/bridge'

/** The search the library view shows; an empty query shows the whole library instead. */
export const search = reactive({
  query: '',
  rankAll: false,
  running: false,
  response: null as ApiSearchResponse | null,
  error: null as ApiError | null,
  /** Request to results as the window saw it, for the status line and the benchmark. */
  roundTripMs: null as number | null
})

let latest = 0

export async function runSearch(query: string, rankAll = search.rankAll): Promise<void> {
  const text = query.trim()
  search.query = text
  search.rankAll = rankAll
  if (!text) return clearSearch()
  const ticket = ++latest
  search.running = true
  search.error = null
  const started = performance.now()
  performance.mark('sdl:search-start')
  const result = await api.search(text, rankAll ? { all: true, limit: 10_000 } : { limit: 500 })
  // A newer search was typed meanwhile: its answer is the one to show.
  if (ticket !== latest || (result.ok && result.value.superseded)) return
  search.running = false
  if (result.ok) {
    search.response = result.value
    search.roundTripMs = performance.now() - started
  } else {
    search.response = null
    search.error = result.error
  }
}

export function clearSearch(): void {
  latest++
  search.query = ''
  search.running = false
  search.response = null
  search.error = null
  search.roundTripMs = null
}
