import { reactive } from 'vue'
import type { ApiSearchHit, ApiSearchResponse, PhotoId, PhotoSection, PhotoSort, PhotoSummary } from '../../../shared/api'
import { type Confidence, confidenceOf } from '../../../shared/confidence'
import { api } from '../api/bridge'
import type { Ranges } from '../lib/gridSelection'
import { showError, store } from './store'

/** What a grid cell shows. `score` for search results and review, `match` for search results. */
export interface GridItem {
  id: PhotoId
  name: string
  path: string
  offline: boolean
  failed: boolean
  score?: number
  /** The score in words, on the model's scale ("very likely"); absent where there is no scale yet. */
  confidence?: Confidence
  match?: ApiSearchHit['match']
}

/** A list the grid scrolls through without holding all of it: items are fetched as they come into view. */
export interface PhotoSource {
  readonly count: number
  item(index: number): GridItem | null
  /** Asks for the items [start, end) to be loaded; the grid calls it for what it is about to show. */
  ensure(start: number, end: number): void
  /** The ids of the photos at these positions (a selection), or null after the error was shown. */
  idsOf(ranges: Ranges): Promise<PhotoId[] | null>
  /** Months of a list in date order: the grid shows each under its header. */
  readonly sections?: PhotoSection[] | null
}

const PAGE = 240
/** The most photos one request resolves when a selection's ids are needed (the API's largest page). */
const ID_CHUNK = 2000

function fromSummary(p: PhotoSummary): GridItem {
  return { id: p.id, name: p.name, path: p.path, offline: p.offline, failed: p.status === 'error' }
}

/** A page of a list, or null after its error was shown. */
type FetchPage = (offset: number, limit: number) => Promise<{ total: number; items: GridItem[]; sections?: PhotoSection[] } | null>

/**
 * A list fetched page by page as the grid scrolls, so a list of 100k photos costs the window a few
 * pages, not 100k rows.
 */
function createPagedSource(fetchPage: FetchPage, version?: { stale: () => boolean; reloaded: () => void }) {
  const pages = new Map<number, GridItem[]>()
  const inFlight = new Set<number>()
  const state = reactive({ total: null as number | null, version: 0, sections: null as PhotoSection[] | null })
  let generation = 0

  async function load(page: number, gen: number): Promise<void> {
    inFlight.add(page)
    const answer = await fetchPage(page * PAGE, PAGE)
    if (gen !== generation) return
    inFlight.delete(page)
    if (!answer) return
    pages.set(page, answer.items)
    state.total = answer.total
    state.sections = answer.sections ?? null
    state.version++
  }

  return {
    get count() {
      return state.total ?? 0
    },
    get sections() {
      return state.sections
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
     * The list changed: fetch again what is on screen, keeping the old pages until the new ones
     * arrive so the grid does not flash empty.
     */
    /** Whether the list changed since these pages were fetched (e.g. while another screen was shown). */
    get stale() {
      return version?.stale() ?? false
    },
    /** Settles once the pages on screen have arrived (or a newer reload took over). */
    async reload(start: number, end: number): Promise<void> {
      version?.reloaded()
      generation++
      inFlight.clear()
      const keep = new Set<number>()
      for (let page = Math.floor(start / PAGE); page <= Math.floor(Math.max(start, end - 1) / PAGE); page++) keep.add(page)
      for (const page of [...pages.keys()]) if (!keep.has(page)) pages.delete(page)
      const gen = generation
      if (!keep.size) keep.add(0)
      await Promise.all([...keep].map((page) => load(page, gen)))
    },
    /** The photos at these positions: from the pages loaded, the rest asked for in large chunks (a whole library may be selected). */
    async idsOf(ranges: Ranges): Promise<PhotoId[] | null> {
      const ids: PhotoId[] = []
      for (const [start, end] of ranges) {
        let index = start
        while (index < end) {
          const loaded = pages.get(Math.floor(index / PAGE))
          if (loaded) {
            const upTo = Math.min(end, (Math.floor(index / PAGE) + 1) * PAGE)
            for (; index < upTo; index++) if (loaded[index % PAGE]) ids.push(loaded[index % PAGE].id)
            continue
          }
          const answer = await fetchPage(index, Math.min(ID_CHUNK, end - index))
          if (!answer) return null
          ids.push(...answer.items.map((item) => item.id))
          if (answer.items.length < Math.min(ID_CHUNK, end - index)) break
          index += answer.items.length
        }
      }
      return ids
    }
  }
}

/** How the library view lists photos: newest capture first under month headers, or by path. */
export const libraryListing = reactive({ sort: 'date' as PhotoSort })

/** The whole library in the order of `libraryListing`, or the photos of a query of date terms (`dates`). */
export function createLibrarySource(dates?: () => string) {
  // The library's change counter when these pages were asked for: older pages may be out of date.
  let asOfPhotosVersion = store.photosVersion
  return createPagedSource(
    async (offset, limit) => {
      const { sort } = libraryListing
      const result = await api.listPhotos({ offset, limit, sort, dates: dates?.(), sections: sort === 'date' })
      if (!result.ok) {
        showError('Reading the library', result.error)
        return null
      }
      return { total: result.value.total, items: result.value.photos.map(fromSummary), sections: result.value.sections }
    },
    { stale: () => asOfPhotosVersion !== store.photosVersion, reloaded: () => (asOfPhotosVersion = store.photosVersion) }
  )
}

/** The undecided photos `tag` is suggested for, best first, with the tag's score for each. */
export function createReviewSource(tag: string) {
  return createPagedSource(async (offset, limit) => {
    const result = await api.reviewTag(tag, { offset, limit })
    if (!result.ok) {
      showError(`Reading the photos suggested for ‘${tag}’`, result.error)
      return null
    }
    return { total: result.value.total, items: result.value.photos.map((p) => ({ ...fromSummary(p), score: p.score })) }
  })
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
    confidence: response.scale && response.order === 'relevance' ? confidenceOf(h.score, response.scale) : undefined,
    match: h.match
  }))
  return {
    count: items.length,
    item: (index) => items[index] ?? null,
    ensure: () => {},
    idsOf: async (ranges) => ranges.flatMap(([start, end]) => items.slice(start, end).map((item) => item.id))
  }
}
