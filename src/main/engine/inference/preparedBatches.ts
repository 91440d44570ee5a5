/**
 * Prepares `items` one by one, up to two batches ahead of the consumer, and yields them in
 * order, a batch at a time. Photo decoding (sharp's threads) thus overlaps inference, and the
 * decoders never wait at a batch boundary for the slowest photo of the batch; at most three
 * batches are held in memory.
 *
 * `prepare` should turn its failures into values (a per-item error result): a rejection ends
 * the whole run.
 */
export async function* preparedBatches<I, P>(items: readonly I[], batchSize: number, prepare: (item: I) => Promise<P>, signal?: AbortSignal): AsyncGenerator<P[]> {
  const size = Math.max(1, batchSize)
  // Only prepared items not yet handed out: a yielded batch is dropped here, so memory stays bounded.
  const inFlight: Array<Promise<P>> = []
  let nextToStart = 0
  const startAhead = (consumed: number, ahead: number) => {
    while (nextToStart < Math.min(consumed + ahead, items.length)) {
      const promise = prepare(items[nextToStart++])
      // Awaited in order below; this only keeps an early failure from being reported as unhandled.
      promise.catch(() => {})
      inFlight.push(promise)
    }
  }
  for (let start = 0; start < items.length; start += size) {
    signal?.throwIfAborted()
    startAhead(start, 2 * size)
    const batch = await Promise.all(inFlight.splice(0, Math.min(size, items.length - start)))
    startAhead(start, 3 * size)
    yield batch
  }
}
