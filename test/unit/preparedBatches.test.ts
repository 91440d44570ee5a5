import { describe, expect, it } from 'vitest'
import { preparedBatches } from '../../src/main/engine/inference/preparedBatches'

describe('preparedBatches', () => {
  it('yields every item in order, in batches', async () => {
    const out: number[][] = []
    for await (const batch of preparedBatches([1, 2, 3, 4, 5], 2, async (n) => n * 10)) out.push(batch)
    expect(out).toEqual([[10, 20], [30, 40], [50]])
  })

  it('prepares ahead of the consumer, but never more than three batches at once', async () => {
    let started = 0
    let finished = 0
    let mostPending = 0
    const items = Array.from({ length: 40 }, (_, i) => i)
    for await (const batch of preparedBatches(items, 4, async (n) => {
      started++
      await new Promise((r) => setImmediate(r))
      return n
    })) {
      finished += batch.length
      mostPending = Math.max(mostPending, started - finished)
      // A consumer slower than the preparation: two turns of the event loop per batch.
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
    }
    expect(finished).toBe(40)
    expect(mostPending).toBeGreaterThanOrEqual(4)
    expect(mostPending).toBeLessThanOrEqual(8)
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    const seen: number[] = []
    await expect(async () => {
      for await (const batch of preparedBatches([1, 2, 3, 4, 5, 6], 2, async (n) => n, controller.signal)) {
        seen.push(...batch)
        controller.abort()
      }
    }).rejects.toThrow()
    expect(seen).toEqual([1, 2])
  })
})
