import { SdlError } from '../errors'
import type { DateFilter } from '../library/photoCatalog'
import { type DateTerm, type QueryNode, parseQuery } from './queryParser'

/** The query as a filter of capture dates, or null when it has words: their photos need the search index. */
export function dateFilterOf(node: QueryNode): DateFilter | null {
  switch (node.kind) {
    case 'term':
      return null
    case 'date':
      return dateRangeOf(node)
    case 'not': {
      const child = dateFilterOf(node.child)
      return child && { kind: 'not', child }
    }
    default: {
      const children = node.children.map(dateFilterOf)
      return children.every((child) => child !== null) ? { kind: node.kind, children: children as DateFilter[] } : null
    }
  }
}

export function dateRangeOf(term: DateTerm): DateFilter {
  return { kind: 'range', from: term.from, until: term.until }
}

/** A query of date terms alone (`year:2023 -after:2023-07`) as a filter for listing photos. */
export function parseDateFilter(query: string): DateFilter {
  const filter = dateFilterOf(parseQuery(query))
  if (!filter)
    throw new SdlError(
      `The dates "${query}" contain words: a listing is filtered by date terms alone`,
      'Use year:YYYY, after:D and before:D (D is YYYY, YYYY-MM or YYYY-MM-DD); search for words instead.'
    )
  return filter
}
