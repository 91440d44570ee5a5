import { ref } from 'vue'
import type { ApiError, Result } from '../../../shared/api'

/**
 * An action on a request that can fail and be tried again as it was (ActionError's Retry): the
 * request last sent is kept, so Retry repeats what failed even after the fields were edited.
 */
export function useRetryableAction<R>(call: (request: R) => Promise<Result<unknown>>, afterSuccess: () => Promise<unknown>) {
  const busy = ref(false)
  const error = ref<ApiError | null>(null)
  let last: R | null = null

  async function run(request: R): Promise<void> {
    last = request
    busy.value = true
    error.value = null
    const result = await call(request)
    busy.value = false
    if (!result.ok) {
      error.value = result.error
      return
    }
    await afterSuccess()
  }

  return { busy, error, run, retry: () => (last === null ? Promise.resolve() : run(last)) }
}
