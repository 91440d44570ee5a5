import type { TagSuggestion } from './autoTagger'
import { keywordKey } from './keywordText'

/** One photo's undecided suggestions, best first, as the photo view lists them. */
export interface PhotoSuggestions {
  photoId: number
  suggestions: readonly TagSuggestion[]
}

/** A tag suggested for undecided photos: for how many, and how strongly on average. */
export interface TagToReview {
  tag: string
  photos: number
  meanScore: number
  unseen: boolean
  /** A keyword of the user's, suggested from the vector learned from this many of their photos. */
  learnedFrom?: number
}

/**
 * Every suggested tag with the photos it is suggested for: the tags that settle the most photos
 * come first; among equals, the one the model is surer of (the higher mean score), then by name.
 */
export function tagsToReview(photos: Iterable<PhotoSuggestions>): TagToReview[] {
  const byKey = new Map<string, TagToReview & { total: number }>()
  for (const { suggestions } of photos) {
    for (const s of suggestions) {
      const key = keywordKey(s.tag)
      let entry = byKey.get(key)
      if (!entry)
        byKey.set(key, (entry = { tag: s.tag, photos: 0, meanScore: 0, total: 0, unseen: s.unseen, ...(s.learnedFrom === undefined ? {} : { learnedFrom: s.learnedFrom }) }))
      entry.photos++
      entry.total += s.score
    }
  }
  return [...byKey.values()]
    .map(({ total, ...entry }) => ({ ...entry, meanScore: total / entry.photos }))
    .sort((a, b) => b.photos - a.photos || b.meanScore - a.meanScore || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
}

/** The photos `tag` is suggested for, with its score for each, best first (ties: the older photo first). */
export function photosToReview(photos: Iterable<PhotoSuggestions>, tag: string): Array<{ photoId: number; score: number }> {
  const key = keywordKey(tag)
  const found: Array<{ photoId: number; score: number }> = []
  for (const { photoId, suggestions } of photos) {
    const suggested = suggestions.find((s) => keywordKey(s.tag) === key)
    if (suggested) found.push({ photoId, score: suggested.score })
  }
  return found.sort((a, b) => b.score - a.score || a.photoId - b.photoId)
}
