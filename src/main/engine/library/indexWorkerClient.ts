import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { SdlError } from '../errors'
import type { ProviderAttempt } from '../inference/modelSession'
import type { IndexJob, IndexOptions, IndexRunner, IndexSummary } from './indexer'
import type { FromIndexWorker, IndexWorkerSettings, ToIndexWorker } from './indexWorkerProtocol'

/** An idle worker is kept this long, so a watcher's next batch does not reopen the model. */
const IDLE_MS = 30_000
/** How long a closing worker may take to close its library before it is stopped. */
const CLOSE_MS = 10_000

/**
 * Loads the index worker from the sources (tests, tsx) or from the bundles (CLI, Electron). The
 * bootstrap is plain CommonJS evaluated from a string, as the HEIC decoder's is; from the sources
 * it first registers tsx so the worker's TypeScript can be imported.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
;(workerData.tsx ? import(workerData.tsx).then((tsx) => tsx.register()) : Promise.resolve()).then(() => import(workerData.entry))
`

interface Job {
  opts: IndexOptions
  resolve: (summary: IndexSummary) => void
  reject: (error: Error) => void
}

/**
 * Runs index jobs in the index worker (indexWorker.ts), started on the first job and stopped
 * once idle. The caller's options travel as messages: progress and notices come back, an abort
 * is sent on as a cancel, and the job ends as the in-thread indexer's would, with its summary or
 * its error. A worker that dies fails its jobs with a clear message; the next job starts another.
 */
export class IndexWorkerClient implements IndexRunner {
  private worker: Worker | null = null
  private starting: Promise<Worker> | null = null
  private nextId = 0
  private readonly jobs = new Map<number, Job>()
  private idleTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly settings: IndexWorkerSettings,
    private readonly onProviderFallback?: (attempt: ProviderAttempt) => void,
    /** The worker's module; tests pass one that misbehaves. */
    private readonly entry: () => { entry: string; tsx?: string } = workerEntry
  ) {}

  async run(job: IndexJob, opts: IndexOptions = {}): Promise<IndexSummary> {
    const worker = await this.ensureWorker()
    const id = ++this.nextId
    const cancel = () => this.send(worker, { type: 'cancel', id })
    try {
      return await new Promise<IndexSummary>((resolve, reject) => {
        this.jobs.set(id, { opts, resolve, reject })
        this.busy(worker)
        this.send(worker, { type: 'run', id, job, batchSize: opts.batchSize })
        if (opts.signal?.aborted) cancel()
        else opts.signal?.addEventListener('abort', cancel, { once: true })
      })
    } finally {
      opts.signal?.removeEventListener('abort', cancel)
      this.jobs.delete(id)
      if (!this.jobs.size) this.idle(worker)
    }
  }

  /** Cancels what is running, lets the worker close the library, and waits for it to end. */
  async close(): Promise<void> {
    const worker = this.worker ?? (await this.starting?.catch(() => null))
    this.worker = null
    this.starting = null
    if (this.idleTimer) clearTimeout(this.idleTimer)
    if (!worker) return
    for (const id of this.jobs.keys()) this.send(worker, { type: 'cancel', id })
    await this.stop(worker)
  }

  private ensureWorker(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker)
    this.starting ??= this.start().finally(() => (this.starting = null))
    return this.starting
  }

  private async start(): Promise<Worker> {
    // sharp's libraries must stay loaded after a worker that used them ends (glibc unloads them
    // with the last user, and a later worker then crashes): loading it here holds them.
    await import('sharp')
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...this.settings, ...this.entry() }, stdout: true })
    // Anything the worker prints goes to stderr: the CLI's stdout is the --json channel.
    worker.stdout.pipe(process.stderr)
    worker.on('message', (message: FromIndexWorker) => this.receive(message))
    worker.on('error', (err) => this.lost(worker, err.message))
    worker.on('exit', (code) => this.lost(worker, `it exited with code ${code}`))
    this.worker = worker
    return worker
  }

  private receive(message: FromIndexWorker): void {
    if (message.type === 'fallback') return this.onProviderFallback?.(message.attempt)
    const job = this.jobs.get(message.id)
    if (!job) return
    if (message.type === 'progress') job.opts.onProgress?.(message.progress)
    else if (message.type === 'notice') job.opts.onNotice?.(message.message)
    else if (message.type === 'done') job.resolve(message.summary)
    else job.reject(new SdlError(message.error.message, message.error.hint))
  }

  /** The worker ended or crashed: whatever it was doing fails, and the next job starts a new one. */
  private lost(worker: Worker, why: string): void {
    if (this.worker === worker) this.worker = null
    for (const job of this.jobs.values()) {
      job.reject(new SdlError(`The indexer stopped: ${why}`, 'Photos indexed before it stopped are kept; index again to go on from there.'))
    }
  }

  private busy(worker: Worker): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    worker.ref()
  }

  /** An idle worker never keeps the process alive, and goes after IDLE_MS with its model's memory. */
  private idle(worker: Worker): void {
    worker.unref()
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.jobs.size) return
      this.worker = null
      void this.stop(worker)
    }, IDLE_MS)
    this.idleTimer.unref()
  }

  private async stop(worker: Worker): Promise<void> {
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    this.send(worker, { type: 'close' })
    const timer = setTimeout(() => void worker.terminate(), CLOSE_MS)
    await ended
    clearTimeout(timer)
  }

  private send(worker: Worker, message: ToIndexWorker): void {
    worker.postMessage(message)
  }
}

/** The worker's module: the TypeScript beside this file, or the bundle electron-vite writes. */
function workerEntry(): { entry: string; tsx?: string } {
  const here = import.meta.url
  if (here.endsWith('.ts')) return { entry: new URL('../indexWorker.ts', here).href, tsx: tsxModuleApi(here) }
  // out/main/indexWorker.js, beside the entry that holds this code or one folder above its chunk.
  for (const candidate of ['./indexWorker.js', '../indexWorker.js']) {
    const url = new URL(candidate, here)
    if (existsSync(fileURLToPath(url))) return { entry: url.href }
  }
  throw new SdlError(`The index worker is missing beside ${fileURLToPath(here)}`, 'Rebuild SDL Tagger with `npm run build`.')
}

/** tsx's ES-module API (its CommonJS build resolves its loader against the wrong folder). */
function tsxModuleApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json')
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href
}
