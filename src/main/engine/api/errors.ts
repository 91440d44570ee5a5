import type { ApiError } from '../../../shared/api'
import { SdlError } from '../errors'
import { UnknownWordError } from '../search/unknownWordError'
import { describeDatabaseError } from '../store/damage'

/**
 * An exception as the API reports it: the message, and the hint where the engine gave one. An
 * error of the library's database is put in plain words; with `dataDir` they name its files and
 * the newest backup.
 */
export function toApiError(err: unknown, dataDir?: string): ApiError {
  const plain = describeDatabaseError(err, dataDir) ?? err
  if (plain instanceof UnknownWordError && plain.suggestions.length)
    return { message: plain.message, hint: plain.hint, didYouMean: { word: plain.word, suggestions: plain.suggestions } }
  if (plain instanceof SdlError) return plain.hint === undefined ? { message: plain.message } : { message: plain.message, hint: plain.hint }
  return { message: plain instanceof Error ? plain.message : String(plain) }
}
