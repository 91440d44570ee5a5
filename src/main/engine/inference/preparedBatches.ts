/**
 * Prepares `items` one by one, up to two batches ahead of the consumer, and yields them in
 * order, a batch at a time. Photo decoding (sharp's threads) thus overlaps inference, and the
 * decoders never wait at a batch boundary for the slowest photo of the batch; at most about
 * three batches are held in memory.
 *
 * `prepare` should turn its failures into values (a per-item error result): a rejection ends
 * the whole run.
 */
export async function* preparedBatches<I, P>(
  items: readonly I[],
  batchSize: number,
  prepare: (item: I) => Promise<P>,
  signal?: AbortSignal
): AsyncGenerator<P[]> {
  const size = Math.max(1, batchSize)
  const started: Array<Promise<P>> = []
  const startUpTo = (end: number) => {
    while (started.length < Math.min(end, items.length)) {
      const promise = prepare(items[started.length])
      // Awaited in order below; this only keeps an early failure from being reported as unhandled.
      promise.catch(() => {})
      started.push(promise)
    }
  }
  for (let start = 0; start < items.length; start += size) {
    signal?.throwIfAborted()
    startUpTo(start + 2 * size)
    const batch = await Promise.all(started.slice(start, start + size))
    startUpTo(start + 3 * size)
    yield batch
  }
}
