import type { ApiSearchResponse, Completion, Result, SdlTaggerApi, SearchRequestOptions } from '../../../shared/api'
import type { Engine } from '../engine'
import { formatQuery } from '../search/queryParser'
import { keywordKey } from '../tagging/keywordText'
import { toResult } from './result'

export const SEARCH_METHODS = ['search', 'complete'] as const

/** Free-text search over the library, and completion of the word being typed. */
export class SearchApi implements Pick<SdlTaggerApi, (typeof SEARCH_METHODS)[number]> {
  private generation = 0

  constructor(private readonly engine: Engine) {}

  search(query: string, options: SearchRequestOptions = {}): Promise<Result<ApiSearchResponse>> {
    return toResult(async () => {
      const generation = ++this.generation
      const started = performance.now()
      const topN = options.topN ?? (await this.engine.settings.get()).topN
      const response = await (await this.engine.search()).search(query, { limit: options.limit, all: options.all, topN })
      const elapsedMs = performance.now() - started
      // A newer query arrived while this one ran: its results would only flash past.
      if (generation !== this.generation) return { ...response, hits: [], scale: null, superseded: true, elapsedMs }
      const ids = (await this.engine.repositories()).catalog.idsByPath(response.hits.map((h) => h.path))
      const hits = response.hits
        .filter((h) => ids.has(h.path))
        .map((h) => ({ ...h, photoId: ids.get(h.path)!, name: h.path.slice(Math.max(h.path.lastIndexOf('/'), h.path.lastIndexOf('\\')) + 1) }))
      return { ...response, hits, scale: response.order === 'date' ? null : await (await this.engine.tagger()).scoreScale(), superseded: false, elapsedMs }
    }, this.engine.dataDir)
  }

  /** The user's keywords that start with the word being typed (most carried first), then the model's vocabulary, then the lexicon's common words. */
  complete(prefix: string, limit = 10): Promise<Result<Completion[]>> {
    return toResult(async () => {
      const { head, fragment } = splitLastTerm(prefix)
      if (!fragment.trim()) return []
      const typed = keywordKey(fragment)
      const keywords = (await this.engine.repositories()).tags
        .userKeywords()
        .map((k) => k.keyword)
        .filter((k) => keywordKey(k).startsWith(typed))
        .slice(0, limit)
      const offered = new Set(keywords.map(keywordKey))
      const inQuote = (head.match(/"/g) ?? []).length % 2 === 1
      const own = keywords.map((word) => ({
        word,
        query: inQuote ? `${head}${word.replace(/[\\"]/g, '\\$&')}"` : head + formatQuery({ kind: 'term', text: word, start: 0, end: 0 })
      }))
      if (own.length >= limit) return own
      const tagger = await this.engine.tagger()
      const lexicon = await tagger.lexicon()
      const words = lexicon
        .complete(fragment, limit, (await tagger.baseVocabulary()).tags)
        .filter((word) => !offered.has(keywordKey(word)))
        .map((word) => ({ word, query: head + word }))
      return [...own, ...words].slice(0, limit)
    }, this.engine.dataDir)
  }
}

/**
 * Splits a query into what stays and the word being typed, following the query language:
 * `sunset -bea` -> ['sunset -', 'bea']; inside an open quote the fragment is the quoted text so
 * far (tags of several words complete as a whole).
 */
export function splitLastTerm(query: string): { head: string; fragment: string } {
  const quotes = (query.match(/"/g) ?? []).length
  if (quotes % 2 === 1) {
    const at = query.lastIndexOf('"') + 1
    return { head: query.slice(0, at), fragment: query.slice(at) }
  }
  const match = /[^\s|()"-][^\s|()"]*$/.exec(query)
  if (!match) return { head: query, fragment: '' }
  return { head: query.slice(0, match.index), fragment: match[0] }
}
