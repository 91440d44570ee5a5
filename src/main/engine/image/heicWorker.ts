import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** A decoded HEIC, or why it could not be decoded. */
export type HeicResult = { ok: true; width: number; height: number; data: Uint8Array } | { ok: false; tooLarge?: { width: number; height: number }; message: string }

/**
 * heic-decode is libheif compiled to WebAssembly and decodes synchronously, for over a second per
 * camera photo, which on the main thread would freeze the watcher, the web server and the window. It
 * runs in one worker thread instead, created on the first HEIC, one photo at a time (WebAssembly
 * memory grows to fit the largest photo and never shrinks, so one decoder bounds it).
 *
 * The worker is plain CommonJS evaluated from a string, so it works the same from the sources
 * (tests, tsx) and from the bundles (CLI, Electron), with heic-decode resolved here.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { all } = require(workerData.heicDecode)
// libheif-js reports failures with console.log instead of throwing: keep them for the error
// message, and off the parent's stdout (the CLI's --json channel).
const messages = []
console.log = (...args) => messages.push(args.filter((a) => typeof a === 'string').join(': ').trim())
parentPort.on('message', async ({ id, bytes, maxPixels }) => {
  messages.length = 0
  let images
  try {
    images = await all({ buffer: new Uint8Array(bytes) })
    const [first] = images
    if (first.width * first.height > maxPixels) {
      return parentPort.postMessage({ id, ok: false, tooLarge: { width: first.width, height: first.height }, message: 'too large' })
    }
    const { width, height, data } = await first.decode()
    parentPort.postMessage({ id, ok: true, width, height, data }, [data.buffer])
  } catch (err) {
    parentPort.postMessage({ id, ok: false, message: messages.at(-1) || String(err && err.message || err) })
  } finally {
    images && images.dispose()
  }
})
`

let worker: Worker | null = null
let nextId = 0
const pending = new Map<number, (result: HeicResult) => void>()

export function decodeHeicInWorker(bytes: Uint8Array, maxPixels: number): Promise<HeicResult> {
  const id = nextId++
  // A copy of its own to transfer (a Buffer may be a view into a shared pool, and Buffer#slice does not copy).
  const copy = new Uint8Array(bytes)
  return new Promise((resolve) => {
    pending.set(id, resolve)
    const decoder = ensureWorker()
    // Referenced only while a decode is outstanding, so an idle decoder never keeps the process alive.
    decoder.ref()
    decoder.postMessage({ id, bytes: copy.buffer, maxPixels }, [copy.buffer])
  })
}

function ensureWorker(): Worker {
  if (worker) return worker
  const heicDecode = createRequire(import.meta.url).resolve('heic-decode')
  const created = new Worker(WORKER_SOURCE, { eval: true, workerData: { heicDecode } })
  created.on('message', (message: HeicResult & { id: number }) => {
    const { id, ...result } = message
    pending.get(id)?.(result as HeicResult)
    pending.delete(id)
    if (!pending.size) created.unref()
  })
  // A crashed decoder (out of memory on a hostile file, say) fails what it was doing; the next
  // HEIC starts a fresh one.
  const fail = (message: string) => {
    worker = null
    for (const resolve of pending.values()) resolve({ ok: false, message })
    pending.clear()
  }
  created.on('error', (err) => fail(err.message))
  created.on('exit', (code) => code !== 0 && fail(`the HEIC decoder stopped (exit code ${code})`))
  worker = created
  return created
}
