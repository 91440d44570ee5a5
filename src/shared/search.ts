/** One photo found by a search, best first. */
export interface SearchHit {
  path: string
  /** Relevance: SDL's score max_k <A_k, w> of the query's terms (min for AND, max for OR). */
  score: number
  offline: boolean
  /**
   * Why it matched: the term, the principal vector (0..K-1) that scored it and that vector's
   * nearest words, and whether the user tagged the photo with the term (accepted, their own, or
   * imported from XMP: such a photo always matches). A word known only as a tag has no vector:
   * principalVector is then -1 and nearestWords empty.
   */
  match: { term: string; principalVector: number; nearestWords: string[]; tagged: boolean }
  /** In date order only: the capture date the photo is ordered by (PhotoSummary.capturedAt). */
  capturedAt?: string | null
}

export interface SearchResponse {
  query: string
  /**
   * 'relevance': best first. 'date': the query has no word to rank by (only date terms, maybe
   * with excluded words), so its photos come newest capture first, each with score 0.
   */
  order: 'relevance' | 'date'
  model: string
  /** Photos in the search index (embedded by the model). */
  photos: number
  hits: SearchHit[]
}
