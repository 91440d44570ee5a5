import type { Result } from '../../shared/api'
import { SdlError } from '../engine/errors'

/** Wraps an engine call in the result envelope, so no raw exception crosses to the renderer. */
export async function toResult<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() }
  } catch (err) {
    if (err instanceof SdlError) return { ok: false, error: { message: err.message, hint: err.hint } }
    return { ok: false, error: { message: err instanceof Error ? err.message : String(err) } }
  }
}
