/** One photo found by a search, best first. */
export interface SearchHit {
  path: string
  /** Relevance: SDL's score max_k <A_k, w> of the query's terms (min for AND, max for OR). */
  score: number
  offline: boolean
  /** Why it matched: the term, the principal vector (0..K-1) that scored it, and that vector's nearest words. */
  match: { term: string; principalVector: number; nearestWords: string[] }
}

export interface SearchResponse {
  query: string
  model: string
  /** Photos in the search index (embedded by the model). */
  photos: number
  hits: SearchHit[]
}
