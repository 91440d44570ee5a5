/**
 * Splits `items` into batches and yields `prepare(batch)` for each, starting on the next batch
 * while the caller is still busy with the current one: photo decoding (sharp's threads) then
 * overlaps inference, with at most two batches in memory.
 */
export async function* preparedBatches<I, P>(
  items: readonly I[],
  batchSize: number,
  prepare: (batch: I[]) => Promise<P>,
  signal?: AbortSignal
): AsyncGenerator<P> {
  const size = Math.max(1, batchSize)
  const batchAt = (start: number) => (start < items.length ? prepare(items.slice(start, start + size)) : null)
  let pending = batchAt(0)
  for (let start = 0; pending; start += size) {
    signal?.throwIfAborted()
    const prepared = await pending
    pending = batchAt(start + size)
    yield prepared
  }
}
