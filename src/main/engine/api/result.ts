import type { Result } from '../../../shared/api'
import { toApiError } from './errors'

/** Wraps an engine call in the result envelope, so no raw exception crosses to a window. */
export async function toResult<T>(work: () => Promise<T> | T, dataDir?: string): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() }
  } catch (err) {
    return { ok: false, error: toApiError(err, dataDir) }
  }
}
