/**
 * The one progress event the engine emits for long jobs (downloads, indexing), so every front end
 * (terminal bar, Electron window) renders all of them with the same code.
 */
export interface Progress {
  /** What is happening, e.g. 'download' or 'index'. */
  phase: string
  done: number
  /** null when the size of the job is not known up front (e.g. no Content-Length). */
  total: number | null
  unit: 'bytes' | 'items'
  /** Smoothed, in `unit`s per second. */
  ratePerSecond: number
  /** null while the total or the rate is unknown. */
  etaSeconds: number | null
  /** The file or item being worked on, for display. */
  item?: string
}

/**
 * Turns (done, time) samples into a steady rate and ETA. Network chunks and image batches arrive
 * in bursts, so the instantaneous rate jumps around; a time-weighted exponential moving average
 * (each sample weighted by how much time it covers) smooths that over roughly the last `tauMs`.
 */
export class RateMeter {
  private last: { done: number; atMs: number } | undefined
  private rate = 0
  private primed = false

  constructor(private readonly tauMs = 3000) {}

  /** Records that `done` units were complete at `atMs`; returns the smoothed rate per second. */
  sample(done: number, atMs: number = performance.now()): number {
    if (!this.last) {
      // The first sample is only a baseline: units done before it (e.g. a resumed download's
      // existing bytes) must not count towards the rate.
      this.last = { done, atMs }
      return this.rate
    }
    const dtMs = atMs - this.last.atMs
    if (dtMs <= 0) return this.rate
    const instant = ((done - this.last.done) * 1000) / dtMs
    // With no history yet, take the first interval as-is rather than ramping up from zero.
    const alpha = this.primed ? 1 - Math.exp(-dtMs / this.tauMs) : 1
    this.rate += alpha * (instant - this.rate)
    this.primed = true
    this.last = { done, atMs }
    return this.rate
  }

  get ratePerSecond(): number {
    return this.rate
  }

  etaSeconds(done: number, total: number | null): number | null {
    if (total === null || this.rate <= 0) return null
    return Math.max(0, (total - done) / this.rate)
  }
}

/**
 * Wraps an `onProgress` callback so a job can report after every chunk or item while listeners
 * see at most one event per `minIntervalMs` (redrawing faster is wasted work), plus the final one.
 */
export function progressReporter(
  onProgress: ((p: Progress) => void) | undefined,
  opts: { phase: string; unit: Progress['unit']; item?: string; minIntervalMs?: number; now?: () => number }
): (done: number, total: number | null, final?: boolean) => void {
  const minIntervalMs = opts.minIntervalMs ?? 100
  const clock = opts.now ?? (() => performance.now())
  const meter = new RateMeter()
  let lastEmitMs = -Infinity
  return (done, total, final = false) => {
    if (!onProgress) return
    const now = clock()
    if (!final && now - lastEmitMs < minIntervalMs) return
    lastEmitMs = now
    meter.sample(done, now)
    onProgress({
      phase: opts.phase,
      done,
      total,
      unit: opts.unit,
      ratePerSecond: meter.ratePerSecond,
      etaSeconds: final ? 0 : meter.etaSeconds(done, total),
      ...(opts.item === undefined ? {} : { item: opts.item })
    })
  }
}
