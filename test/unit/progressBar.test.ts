import { describe, expect, it } from 'vitest'
import { createProgressBar, formatAmount, formatDuration, formatProgressLine, formatRate } from '../../src/main/cli/progressBar'
import { RateMeter, type Progress } from '../../src/main/engine/download/progress'
import { formatBytes } from '../../src/shared/format'

/** Collects what the bar writes; `now` is a settable clock so throttling is deterministic. */
function fakeStream(isTTY: boolean, columns = 100) {
  const writes: string[] = []
  const clock = { ms: 0 }
  const stream = {
    isTTY,
    columns,
    write(chunk: string) {
      writes.push(chunk)
      return true
    }
  } as unknown as NodeJS.WriteStream
  const bar = createProgressBar(stream, { now: () => clock.ms })
  return { writes, clock, bar }
}

const MB = 1_000_000

function bytes(done: number, total: number | null = 100 * MB, extra: Partial<Progress> = {}): Progress {
  return { phase: 'download', done, total, unit: 'bytes', ratePerSecond: 2.5 * MB, etaSeconds: 75, ...extra }
}

describe('formatting helpers', () => {
  it('formatBytes uses decimal units with one decimal place', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(1000)).toBe('1.0 KB')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(999_960)).toBe('1.0 MB')
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.1 MB')
    expect(formatBytes(135_000_000)).toBe('135.0 MB')
    expect(formatBytes(2.5e9)).toBe('2.5 GB')
    expect(formatBytes(4e12)).toBe('4.0 TB')
  })

  it('formatDuration gives m:ss, h:mm:ss past an hour, and --:-- when unknown', () => {
    expect(formatDuration(0)).toBe('0:00')
    expect(formatDuration(5.4)).toBe('0:05')
    expect(formatDuration(75)).toBe('1:15')
    expect(formatDuration(3599.6)).toBe('1:00:00')
    expect(formatDuration(3 * 3600 + 62)).toBe('3:01:02')
    expect(formatDuration(null)).toBe('--:--')
    expect(formatDuration(Infinity)).toBe('--:--')
  })

  it('formats amounts and rates per unit', () => {
    expect(formatAmount(12_300_000, 'bytes')).toBe('12.3 MB')
    expect(formatAmount(1234, 'items')).toBe('1234')
    expect(formatRate(4_500_000, 'bytes')).toBe('4.5 MB/s')
    expect(formatRate(3.25, 'items')).toBe('3.3 items/s')
    expect(formatRate(42.4, 'items')).toBe('42 items/s')
  })

  it('formatProgressLine shows phase, item, percent, bar, amounts, rate and ETA', () => {
    const line = formatProgressLine(bytes(25 * MB, 100 * MB, { item: 'model.onnx' }), 8)
    expect(line).toBe('download model.onnx   25%  [##------]  25.0 MB / 100.0 MB  2.5 MB/s  ETA 1:15')
  })

  it('formatProgressLine leaves out percent and ETA when the total is unknown', () => {
    const line = formatProgressLine({ ...bytes(5 * MB, null), etaSeconds: null }, 8)
    expect(line).toBe('download  5.0 MB  2.5 MB/s')
  })
})

describe('createProgressBar on a non-TTY stream', () => {
  it('prints plain lines only on 10% steps or every few seconds, and the last state on done', () => {
    const { writes, clock, bar } = fakeStream(false)
    bar.update(bytes(0))
    for (let done = 1 * MB; done <= 9 * MB; done += MB) {
      clock.ms += 100
      bar.update(bytes(done))
    }
    expect(writes).toHaveLength(1)

    clock.ms += 100
    bar.update(bytes(10 * MB)) // crosses 10%
    expect(writes).toHaveLength(2)

    clock.ms += 5000
    bar.update(bytes(11 * MB)) // same 10% step, but 5 s since the last line
    expect(writes).toHaveLength(3)

    clock.ms += 100
    bar.update(bytes(12 * MB))
    bar.done('Saved model.onnx')
    expect(writes.slice(3)).toEqual([`${formatProgressLine(bytes(12 * MB))}\n`, 'Saved model.onnx\n'])
    for (const line of writes) {
      expect(line).not.toContain('\r')
      expect(line.endsWith('\n')).toBe(true)
    }
    expect(writes[1]).toBe('download   10%  10.0 MB / 100.0 MB  2.5 MB/s  ETA 1:15\n')
  })

  it('prints a new line when the phase or item changes', () => {
    const { writes, bar } = fakeStream(false)
    bar.update(bytes(1 * MB, 100 * MB, { item: 'a.onnx' }))
    bar.update(bytes(1 * MB, 100 * MB, { item: 'b.onnx' }))
    bar.update({ phase: 'index', done: 1, total: 1000, unit: 'items', ratePerSecond: 20, etaSeconds: 50 })
    expect(writes).toHaveLength(3)
    expect(writes[2]).toBe('index    0%  1 / 1000  20 items/s  ETA 0:50\n')
  })

  it('does not repeat the last line on done when it was already printed', () => {
    const { writes, bar } = fakeStream(false)
    bar.update(bytes(100 * MB))
    bar.done()
    expect(writes).toHaveLength(1)
  })
})

describe('createProgressBar on a TTY', () => {
  it('redraws one line with \\r, fits the terminal width and ends with a newline', () => {
    const { writes, clock, bar } = fakeStream(true, 60)
    bar.update(bytes(50 * MB))
    clock.ms += 10
    bar.update(bytes(51 * MB)) // throttled
    clock.ms += 200
    bar.update(bytes(60 * MB))
    bar.done('done')
    expect(writes).toHaveLength(4)
    for (const frame of writes.slice(0, 2)) {
      expect(frame.startsWith('\r')).toBe(true)
      expect(frame.replace('\r', '').replace('\x1b[K', '').length).toBeLessThan(60)
    }
    expect(writes[1]).toContain('60%')
    expect(writes.slice(2)).toEqual(['\n', 'done\n'])
  })

  it('draws a bar when the terminal is wide enough', () => {
    const { writes, bar } = fakeStream(true, 120)
    bar.update(bytes(50 * MB))
    expect(writes[0]).toMatch(/\[#+-+\]/)
  })
})

describe('RateMeter', () => {
  it('takes the first interval as-is, then smooths bursts', () => {
    const meter = new RateMeter(1000)
    expect(meter.sample(500, 0)).toBe(0) // baseline only: earlier units are not counted
    expect(meter.sample(1500, 1000)).toBe(1000)
    const afterBurst = meter.sample(11_500, 1100) // 100k/s for 100 ms
    expect(afterBurst).toBeGreaterThan(1000)
    expect(afterBurst).toBeLessThan(20_000)
  })

  it('estimates the time left, or null when it cannot', () => {
    const meter = new RateMeter()
    expect(meter.etaSeconds(0, 100)).toBeNull()
    meter.sample(0, 0)
    meter.sample(10, 1000)
    expect(meter.etaSeconds(10, 100)).toBe(9)
    expect(meter.etaSeconds(10, null)).toBeNull()
  })
})
