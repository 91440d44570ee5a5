import type { ApiError } from '../../../shared/api'
import { SdlError } from '../errors'

/** An exception as the API reports it: the message, and the hint where the engine gave one. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof SdlError) return err.hint === undefined ? { message: err.message } : { message: err.message, hint: err.hint }
  return { message: err instanceof Error ? err.message : String(err) }
}
