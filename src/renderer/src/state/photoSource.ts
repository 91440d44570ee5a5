import { reactive } from 'vue'
import type { ApiSearchHit, ApiSearchResponse, PhotoId, PhotoSummary } from '../../../shared/api'
import { api } from '../api/bridge'
import { showError, store } from './store'

/** What a grid cell shows. `score` and `match` only for search results. */
export interface GridItem {
  id: PhotoId
  name: string
  path: string
  offline: boolean
  failed: boolean
  score?: number
  match?: ApiSearchHit['match']
}

/** A list the grid scrolls through without holding all of it: items are fetched as they come into view. */
export interface PhotoSource {
  readonly count: number
  item(index: number): GridItem | null
  /** Asks for the items [start, end) to be loaded; the grid calls it for what it is about to show. */
  ensure(start: number, end: number): void
}

const PAGE = 240

function fromSummary(p: PhotoSummary): GridItem {
  return { id: p.id, name: p.name, path: p.path, offline: p.offline, failed: p.status === 'error' }
}

/**
 * The whole library in path order, fetched page by page as the grid scrolls, so a library of
 * 100k photos costs the window a few pages, not 100k rows.
 */
export function createLibrarySource() {
  const pages = new Map<number, GridItem[]>()
  const inFlight = new Set<number>()
  const state = reactive({ total: null as number | null, version: 0 })
  let generation = 0
  // The library's change counter when these pages were asked for: older pages may be out of date.
  let asOfPhotosVersion = store.photosVersion

  async function load(page: number, gen: number): Promise<void> {
    inFlight.add(page)
    const result = await api.listPhotos({ offset: page * PAGE, limit: PAGE })
    if (gen !== generation) return
    inFlight.delete(page)
    if (!result.ok) {
      showError('Reading the library', result.error)
      return
    }
    pages.set(page, result.value.photos.map(fromSummary))
    state.total = result.value.total
    state.version++
  }

  const source = {
    get count() {
      return state.total ?? 0
    },
    get loaded() {
      return state.total !== null
    },
    item(index: number): GridItem | null {
      void state.version // a dependency, so cells re-render when their page arrives
      return pages.get(Math.floor(index / PAGE))?.[index % PAGE] ?? null
    },
    ensure(start: number, end: number) {
      const gen = generation
      for (let page = Math.floor(start / PAGE); page <= Math.floor(Math.max(start, end - 1) / PAGE); page++) {
        if (!pages.has(page) && !inFlight.has(page)) void load(page, gen)
      }
    },
    /**
     * The library changed: fetch again what is on screen, keeping the old pages until the new ones
     * arrive so the grid does not flash empty.
     */
    /** Whether the library changed since these pages were fetched (e.g. while another screen was shown). */
    get stale() {
      return asOfPhotosVersion !== store.photosVersion
    },
    reload(start: number, end: number) {
      asOfPhotosVersion = store.photosVersion
      generation++
      inFlight.clear()
      const keep = new Set<number>()
      for (let page = Math.floor(start / PAGE); page <= Math.floor(Math.max(start, end - 1) / PAGE); page++) keep.add(page)
      for (const page of [...pages.keys()]) if (!keep.has(page)) pages.delete(page)
      const gen = generation
      if (!keep.size) keep.add(0)
      for (const page of keep) void load(page, gen)
    }
  }
  return source
}

/** The window's one view of the whole library, kept while other sections are shown. */
export const librarySource = createLibrarySource()

/** A search's ranked hits: all of them arrive at once, best first. */
export function searchSource(response: ApiSearchResponse): PhotoSource {
  const items: GridItem[] = response.hits.map((h) => ({
    id: h.photoId,
    name: h.name,
    path: h.path,
    offline: h.offline,
    failed: false,
    score: h.score,
    match: h.match
  }))
  return {
    count: items.length,
    item: (index) => items[index] ?? null,
    ensure: () => {}
  }
}
