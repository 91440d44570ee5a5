import { createRequire } from 'node:module'
import { availableParallelism, totalmem } from 'node:os'
import { Worker } from 'node:worker_threads'

/** What to decode: the photo, or a thumbnail the file stores that is at least `thumbnailAtLeast` pixels on each side. */
export interface HeicRequest {
  /** Photos with more pixels are refused unread (`tooLarge`), thumbnail or not, as libvips refuses other formats. */
  maxPixels: number
  /** Omitted: always the photo itself. */
  thumbnailAtLeast?: number
}

/** A decoded HEIC as RGBA, or why it could not be decoded. */
export type HeicResult =
  { ok: true; width: number; height: number; data: Uint8Array; fromThumbnail: boolean } | { ok: false; tooLarge?: { width: number; height: number }; message: string }

/**
 * libheif compiled to WebAssembly (libheif-js, the decoder heic-decode wraps) decodes synchronously,
 * for over a second per camera photo, which on the main thread would freeze the watcher, the web
 * server and the window; so it runs in worker threads. heic-decode's API reaches only top-level
 * images, so the worker calls libheif-js itself (resolved through heic-decode, the pair it is
 * tested with), which also reaches the thumbnail items cameras store beside the photo: a 320 x 240
 * iPhone thumbnail decodes in ~20 ms against ~1.5 s for the 12 MP photo, and is as much as the
 * 224 x 224 model input needs (bench/heic.ts, test/integration/heicThumbnails.test.ts). The embind
 * API has no call for a photo's thumbnail IDs, so those two C calls take the handle's pointer (`$$.ptr`).
 *
 * The worker is plain CommonJS evaluated from a string, so it works the same from the sources
 * (tests, tsx) and from the bundles (CLI, Electron).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const libheif = require(workerData.libheif)
const OK = libheif.heif_error_code.heif_error_Ok
// libheif-js may print with console.log: keep that off the parent's stdout (the CLI's --json channel).
console.log = () => {}

parentPort.on('message', ({ id, bytes, maxPixels, thumbnailAtLeast }) => {
  const owned = []
  const own = (handle) => (handle && handle.$$ && owned.push(handle), handle)
  const context = libheif.heif_context_alloc()
  try {
    const read = libheif.heif_context_read_from_memory(context, new Uint8Array(bytes))
    if (read.code !== OK) throw new Error('not a readable HEIF file: ' + read.message.trim())
    const primary = own(libheif.heif_js_context_get_primary_image_handle(context))
    if (!primary || primary.code) throw new Error('no photo in the HEIF file: ' + (primary ? primary.message.trim() : 'unknown reason'))
    const width = libheif.heif_image_handle_get_width(primary)
    const height = libheif.heif_image_handle_get_height(primary)
    if (width * height > maxPixels) return parentPort.postMessage({ id, ok: false, tooLarge: { width, height }, message: 'too large' })
    const thumbnail = thumbnailAtLeast ? usableThumbnail(context, primary, width / height, thumbnailAtLeast, own) : null
    // A thumbnail that fails to decode leaves the photo itself to try.
    const fromThumbnail = thumbnail ? decodeOrNull(thumbnail) : null
    const pixels = fromThumbnail || decode(primary)
    parentPort.postMessage({ id, ok: true, ...pixels, fromThumbnail: !!fromThumbnail }, [pixels.data.buffer])
  } catch (err) {
    parentPort.postMessage({ id, ok: false, message: (err && err.message) || String(err) })
    // An aborted WebAssembly instance cannot decode again: end, and the pool starts a fresh one.
    if (err instanceof WebAssembly.RuntimeError) process.exit(1)
  } finally {
    for (const handle of owned) libheif.heif_image_handle_release(handle)
    libheif.heif_context_free(context)
  }
})

/**
 * The smallest of the photo's thumbnails that is at least atLeast pixels on each side and shaped
 * like the photo (within 2%: a thumbnail stored without the photo's rotation, or of another crop,
 * is not the photo as shown), or null.
 */
function usableThumbnail(context, primary, aspect, atLeast, own) {
  const count = libheif._heif_image_handle_get_number_of_thumbnails(primary.$$.ptr)
  if (!count) return null
  const list = libheif._malloc(4 * count)
  let ids
  try {
    const found = libheif._heif_image_handle_get_list_of_thumbnail_IDs(primary.$$.ptr, list, count)
    ids = Array.from(libheif.HEAPU32.subarray(list >> 2, (list >> 2) + found))
  } finally {
    libheif._free(list)
  }
  let best = null
  let bestPixels = Infinity
  for (const id of ids) {
    const handle = own(libheif.heif_js_context_get_image_handle(context, id))
    if (!handle || handle.code) continue
    const width = libheif.heif_image_handle_get_width(handle)
    const height = libheif.heif_image_handle_get_height(handle)
    const usable = width >= atLeast && height >= atLeast && Math.abs(width / height / aspect - 1) <= 0.02
    if (usable && width * height < bestPixels) {
      best = handle
      bestPixels = width * height
    }
  }
  return best
}

function decodeOrNull(handle) {
  try {
    return decode(handle)
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw err
    return null
  }
}

/** The image as tightly packed RGBA, copied out of the WebAssembly memory. */
function decode(handle) {
  const image = libheif.heif_js_decode_image2(handle, libheif.heif_colorspace.heif_colorspace_RGB, libheif.heif_chroma.heif_chroma_interleaved_RGBA)
  if (!image || image.code) throw new Error((image && image.message) || 'the image could not be decoded')
  try {
    const plane = image.channels.find((channel) => channel.id === libheif.heif_channel.heif_channel_interleaved)
    const { width, height, stride } = plane
    const data = new Uint8Array(width * height * 4)
    for (let y = 0; y < height; y++) data.set(plane.data.subarray(y * stride, y * stride + width * 4), y * width * 4)
    return { width, height, data }
  } finally {
    libheif.heif_image_release(image.image)
  }
}
`

/**
 * One decoder per core, as HEIC decoding is bound by the CPU, but at most one per GiB of memory:
 * each WebAssembly instance grows to fit the largest photo it decoded (~110 MB for 12 MP, four
 * times that for 48 MP) until it ends.
 */
const DEFAULT_DECODERS = Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / 2 ** 30)))

/** How long a decoder waits for more work before it ends and gives its memory back. */
const DEFAULT_IDLE_MS = 10_000

interface Job {
  id: number
  bytes: ArrayBuffer
  request: HeicRequest
  resolve: (result: HeicResult) => void
}

interface Decoder {
  worker: Worker
  job: Job | null
  idleTimer: NodeJS.Timeout | null
}

/**
 * Worker threads that decode HEIC files, first come first served, started as work arrives and
 * ended after `idleMs` without any. Idle decoders never keep the process alive (nor does anything
 * else here once no decode is outstanding), and they end with the thread that made them. A decoder
 * that crashes or is terminated fails only the photo it was decoding; the next one starts afresh.
 */
export class HeicDecoderPool {
  private readonly decoders = new Set<Decoder>()
  private readonly queue: Job[] = []
  private nextId = 0

  constructor(
    readonly size: number = DEFAULT_DECODERS,
    private readonly opts: { idleMs?: number; spawn?: () => Worker } = {}
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a HEIC decoder pool needs at least one decoder, got ${size}`)
  }

  decode(bytes: Uint8Array, request: HeicRequest): Promise<HeicResult> {
    // A copy of its own to transfer (a Buffer may be a view into a shared pool, and Buffer#slice does not copy).
    const copy = new Uint8Array(bytes)
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, bytes: copy.buffer, request, resolve })
      this.dispatch()
    })
  }

  private dispatch(): void {
    while (this.queue.length) {
      const decoder = [...this.decoders].find((d) => !d.job) ?? (this.decoders.size < this.size ? this.start() : null)
      if (!decoder) return
      const job = this.queue.shift()!
      decoder.job = job
      if (decoder.idleTimer) clearTimeout(decoder.idleTimer)
      decoder.idleTimer = null
      // Referenced only while it decodes, so an idle decoder never keeps the process alive.
      decoder.worker.ref()
      decoder.worker.postMessage({ id: job.id, bytes: job.bytes, ...job.request }, [job.bytes])
    }
  }

  private start(): Decoder {
    const worker = this.opts.spawn?.() ?? spawnHeicDecoder()
    const decoder: Decoder = { worker, job: null, idleTimer: null }
    this.decoders.add(decoder)
    worker.on('message', (message: HeicResult & { id: number }) => {
      const { id, ...result } = message
      const job = decoder.job
      if (job?.id !== id) return
      decoder.job = null
      worker.unref()
      job.resolve(result as HeicResult)
      this.idle(decoder)
      this.dispatch()
    })
    const fail = (message: string) => {
      if (!this.decoders.delete(decoder)) return
      if (decoder.idleTimer) clearTimeout(decoder.idleTimer)
      decoder.job?.resolve({ ok: false, message })
      decoder.job = null
      this.dispatch()
    }
    worker.on('error', (err) => fail(`the HEIC decoder failed (${err.message})`))
    worker.on('exit', (code) => fail(`the HEIC decoder stopped (exit code ${code})`))
    return decoder
  }

  private idle(decoder: Decoder): void {
    if (decoder.job || this.queue.length) return
    decoder.idleTimer = setTimeout(() => {
      this.decoders.delete(decoder)
      void decoder.worker.terminate()
    }, this.opts.idleMs ?? DEFAULT_IDLE_MS)
    decoder.idleTimer.unref()
  }
}

/** A decoder thread running libheif, as HeicDecoderPool starts them. */
export function spawnHeicDecoder(): Worker {
  const fromHeicDecode = createRequire(createRequire(import.meta.url).resolve('heic-decode'))
  return new Worker(WORKER_SOURCE, { eval: true, workerData: { libheif: fromHeicDecode.resolve('libheif-js/wasm-bundle') } })
}

let shared: HeicDecoderPool | null = null

/** Decodes on the process's shared pool, sized to the machine. */
export function decodeHeicInWorker(bytes: Uint8Array, request: HeicRequest): Promise<HeicResult> {
  shared ??= new HeicDecoderPool()
  return shared.decode(bytes, request)
}
