import { formatBytes } from '../../shared/format'
import type { Progress } from '../engine/download/progress'

/** `m:ss`, or `h:mm:ss` from an hour up; `--:--` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '--:--'
  const total = Math.round(seconds)
  const s = String(total % 60).padStart(2, '0')
  const m = Math.floor(total / 60) % 60
  const h = Math.floor(total / 3600)
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

export function formatAmount(n: number, unit: Progress['unit']): string {
  return unit === 'bytes' ? formatBytes(n) : String(Math.round(n))
}

export function formatRate(perSecond: number, unit: Progress['unit']): string {
  if (unit === 'bytes') return `${formatBytes(perSecond)}/s`
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)} items/s`
}

/** Whole percent, or null when the total is unknown. */
function percent(p: Progress): number | null {
  if (p.total === null) return null
  if (p.total <= 0) return 100
  return Math.min(100, Math.max(0, Math.floor((p.done / p.total) * 100)))
}

/** The text of one progress line; `barWidth` 0 leaves the bar out (plain logs, narrow terminals). */
export function formatProgressLine(p: Progress, barWidth = 0): string {
  const label = p.item ? `${p.phase} ${p.item}` : p.phase
  const pct = percent(p)
  const done = formatAmount(p.done, p.unit)
  const amount = p.total === null ? done : `${done} / ${formatAmount(p.total, p.unit)}`
  const parts = [label]
  if (pct !== null) {
    parts.push(`${String(pct).padStart(3)}%`)
    if (barWidth > 0) {
      const filled = Math.round((pct / 100) * barWidth)
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`)
    }
  }
  parts.push(amount, formatRate(p.ratePerSecond, p.unit))
  if (p.total !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`)
  return parts.join('  ')
}

export interface ProgressBar {
  update(p: Progress): void
  /** Ends the bar (drawing the last state) and prints `message`, if any, on its own line. */
  done(message?: string): void
}

/**
 * On a terminal, one line redrawn in place. Anywhere else (CI logs, files, pipes) `\r` redraws
 * would pile up into one unreadable line, so print a plain line on each new phase or item, each
 * 10% step, and otherwise at most every `plainIntervalMs`.
 */
export function createProgressBar(stream: NodeJS.WriteStream, opts: { now?: () => number; plainIntervalMs?: number } = {}): ProgressBar {
  const now = opts.now ?? (() => performance.now())
  const plainIntervalMs = opts.plainIntervalMs ?? 5000
  // Redraws faster than the eye can follow only cost terminal throughput.
  const ttyIntervalMs = 100
  let last: Progress | undefined
  let printed: Progress | undefined
  let printedAt = -Infinity

  const draw = (p: Progress) => {
    printed = p
    printedAt = now()
    if (stream.isTTY) {
      const columns = stream.columns || 80
      const withoutBar = formatProgressLine(p).length
      const barWidth = Math.min(30, columns - 1 - withoutBar - 4)
      // Never wrap: a wrapped line cannot be redrawn with `\r`. `\x1b[K` clears a longer previous line.
      const line = formatProgressLine(p, barWidth >= 5 ? barWidth : 0).slice(0, columns - 1)
      stream.write(`\r${line}\x1b[K`)
    } else {
      stream.write(`${formatProgressLine(p)}\n`)
    }
  }

  const isDue = (p: Progress): boolean => {
    if (!printed) return true
    const elapsed = now() - printedAt
    if (stream.isTTY) return elapsed >= ttyIntervalMs
    if (p.phase !== printed.phase || p.item !== printed.item) return true
    const pct = percent(p)
    const printedPct = percent(printed)
    if (pct !== null && printedPct !== null && Math.floor(pct / 10) > Math.floor(printedPct / 10)) return true
    return elapsed >= plainIntervalMs
  }

  return {
    update(p) {
      last = p
      if (isDue(p)) draw(p)
    },
    done(message) {
      if (last && last !== printed) draw(last)
      if (last && stream.isTTY) stream.write('\n')
      if (message !== undefined) stream.write(`${message}\n`)
      last = printed = undefined
      printedAt = -Infinity
    }
  }
}
