import { decodeToModelInput, toNchwBatch } from '../image/preprocess'
import type { ModelSession } from './modelSession'
import { preparedBatches } from './preparedBatches'

export type EmbedResult = { path: string; output: Float32Array } | { path: string; error: string }

export interface EmbedOptions {
  batchSize?: number
  signal?: AbortSignal
}

/**
 * Principal vectors for many photos, in input order. A photo that cannot be read yields an
 * error result while the others carry on.
 */
export async function* embedPhotos(paths: readonly string[], session: ModelSession, opts: EmbedOptions = {}): AsyncGenerator<EmbedResult> {
  for await (const decoded of preparedBatches(paths, opts.batchSize ?? 16, decodePhoto, opts.signal)) {
    const good = decoded.filter((d): d is DecodedPhoto => 'pixels' in d)
    const outputs = await runBatch(
      session,
      good.map((d) => d.pixels)
    )
    let next = 0
    for (const d of decoded) yield 'pixels' in d ? { path: d.path, output: outputs[next++] } : d
  }
}

/** One inference run over decoded photos; one output per photo. */
export async function runBatch(session: ModelSession, images: Float32Array[]): Promise<Float32Array[]> {
  if (!images.length) return []
  const flat = await session.run(toNchwBatch(images), images.length)
  const size = session.outputSize
  return images.map((_, i) => flat.slice(i * size, (i + 1) * size))
}

interface DecodedPhoto {
  path: string
  pixels: Float32Array
}

function decodePhoto(path: string): Promise<DecodedPhoto | { path: string; error: string }> {
  return decodeToModelInput(path).then(
    (pixels) => ({ path, pixels }),
    (err: unknown) => ({ path, error: err instanceof Error ? err.message : String(err) })
  )
}
