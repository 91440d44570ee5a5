/**
 * The index worker: a thread of its own that decodes, embeds and writes new photos, so that the
 * thread serving search, the web API and the window never waits behind a batch. It opens the
 * same data folder through an engine of its own (its own SQLite connection: WAL lets the two
 * read and write side by side) and reports back through IndexWorkerClient's protocol.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { getPriority, platform, setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { Engine } from './engine'
import { SdlError } from './errors'
import type { FromIndexWorker, IndexWorkerSettings, ToIndexWorker } from './library/indexWorkerProtocol'

/** Below the default of 0, so a query asked for during indexing gets a core at once. */
const INDEXING_NICENESS = 10

const port = parentPort!
const settings = workerData as IndexWorkerSettings
const post = (message: FromIndexWorker) => port.postMessage(message)

lowerThisThreadsPriority()
const engine = new Engine({ ...settings, indexing: 'for-main-thread', onProviderFallback: (attempt) => post({ type: 'fallback', attempt }) })
const running = new Map<number, { controller: AbortController; done: Promise<void> }>()

port.on('message', (message: ToIndexWorker) => {
  if (message.type === 'cancel') running.get(message.id)?.controller.abort()
  else if (message.type === 'close') void close()
  else {
    const controller = new AbortController()
    running.set(message.id, { controller, done: run(message, controller.signal) })
  }
})

/** Runs end after their batch in flight (cancelled, nothing lost) before the library closes under them. */
async function close(): Promise<void> {
  for (const { controller } of running.values()) controller.abort()
  await Promise.allSettled([...running.values()].map((r) => r.done))
  await engine.close().finally(() => port.close())
}

async function run({ id, job, batchSize }: Extract<ToIndexWorker, { type: 'run' }>, signal: AbortSignal): Promise<void> {
  try {
    const library = await engine.library()
    const summary = await library.run(job, {
      batchSize,
      signal,
      onProgress: (progress) => {
        lowerImageThreadsPriority()
        post({ type: 'progress', id, progress })
      },
      onNotice: (message) => post({ type: 'notice', id, message })
    })
    post({ type: 'done', id, summary })
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    post({ type: 'failed', id, error: { message: error.message, hint: error instanceof SdlError ? error.hint : undefined } })
  } finally {
    running.delete(id)
  }
}

/**
 * libvips decodes on threads of its own, which it starts from whichever thread first needed them
 * (often the main thread, at its priority) and adds to as it goes: JPEG decoding, most of
 * indexing's CPU for camera photos, would otherwise compete with search at full priority. Lowered
 * by thread id after every batch; Linux does not let them be raised again, so thumbnails made
 * later in the session decode at this priority too.
 */
function lowerImageThreadsPriority(): void {
  if (platform() !== 'linux') return
  let threads: string[]
  try {
    threads = readdirSync('/proc/self/task')
  } catch {
    return
  }
  for (const tid of threads) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'libvips worker') continue
      if (getPriority(Number(tid)) < INDEXING_NICENESS) setPriority(Number(tid), INDEXING_NICENESS)
    } catch {
      // The thread ended meanwhile, or this is not allowed: it keeps its priority.
    }
  }
}

/**
 * On Linux the nice value belongs to each thread, and threads inherit it from the thread that
 * creates them: lowered here, before the model is opened, it covers this thread and
 * onnxruntime's pool, leaving the rest of the process as it was. Elsewhere it would lower the
 * whole process, window and search included, so it is left alone there.
 */
function lowerThisThreadsPriority(): void {
  if (platform() !== 'linux') return
  try {
    setPriority(0, INDEXING_NICENESS)
  } catch {
    // Not allowed (a sandbox): indexing still works, only at the same priority as search.
  }
}
