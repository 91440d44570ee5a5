import { decodeToModelInput, toNchwBatch } from '../image/preprocess'
import type { ModelSession } from './modelSession'

export type EmbedResult = { path: string; output: Float32Array } | { path: string; error: string }

export interface EmbedOptions {
  batchSize?: number
  signal?: AbortSignal
}

/**
 * Principal vectors for many photos, in input order. Decoding of the next batch overlaps
 * inference on the current one (sharp decodes on its own threads), and a photo that cannot be
 * read yields an error result while the others carry on.
 */
export async function* embedPhotos(paths: readonly string[], session: ModelSession, opts: EmbedOptions = {}): AsyncGenerator<EmbedResult> {
  const batchSize = Math.max(1, opts.batchSize ?? 16)
  const batches: string[][] = []
  for (let i = 0; i < paths.length; i += batchSize) batches.push(paths.slice(i, i + batchSize))

  let pending = batches.length ? decodeBatch(batches[0]) : null
  for (let b = 0; b < batches.length; b++) {
    opts.signal?.throwIfAborted()
    const decoded = await pending!
    pending = b + 1 < batches.length ? decodeBatch(batches[b + 1]) : null
    const good = decoded.filter((d): d is DecodedPhoto => 'pixels' in d)
    const outputs = good.length ? await session.run(toNchwBatch(good.map((d) => d.pixels)), good.length) : new Float32Array(0)
    const size = session.outputSize
    let next = 0
    for (const d of decoded) {
      if ('pixels' in d) {
        yield { path: d.path, output: outputs.slice(next * size, (next + 1) * size) }
        next++
      } else {
        yield d
      }
    }
  }
}

interface DecodedPhoto {
  path: string
  pixels: Float32Array
}

function decodeBatch(paths: string[]): Promise<Array<DecodedPhoto | { path: string; error: string }>> {
  return Promise.all(
    paths.map((path) =>
      decodeToModelInput(path).then(
        (pixels) => ({ path, pixels }),
        (err: unknown) => ({ path, error: err instanceof Error ? err.message : String(err) })
      )
    )
  )
}
