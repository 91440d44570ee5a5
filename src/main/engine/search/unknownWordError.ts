import { SdlError } from '../errors'

/** A word of a query that the lexicon does not know, with the near spellings it does: a window offers them to click. */
export class UnknownWordError extends SdlError {
  constructor(
    readonly word: string,
    readonly suggestions: string[]
  ) {
    super(`Unknown word '${word}' in the query`, suggestions.length ? `Did you mean: ${suggestions.join(', ')}?` : 'Try another word.')
  }
}
