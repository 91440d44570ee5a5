import { describe, expect, it } from 'vitest'
import { gridGeometry, moveSelection, scrollToReveal, visibleRange } from '../../src/renderer/src/lib/gridLayout'
import { MONTH_HEADER, YEAR_HEADER, gridLayout, keepTopRow, monthLabel } from '../../src/renderer/src/lib/sectionLayout'

// Four columns of 100 px with a gap of 10: a row pitch of 110.
const g = gridGeometry(430, 100, 10)
const sections = [
  { month: '2024-01', start: 0, count: 6 },
  { month: '2023-12', start: 6, count: 1 },
  { month: '2023-06', start: 7, count: 9 }
]

describe('grid layout with month sections', () => {
  it('is the plain grid without sections', () => {
    expect(g).toMatchObject({ columns: 4, cellSize: 100, rowPitch: 110 })
    const plain = gridLayout(1000, g, [])
    for (const [top, height] of [
      [0, 800],
      [5000, 300],
      [1e9, 800]
    ]) {
      expect(plain.visibleRange(top, height, 2)).toEqual(visibleRange(1000, g, top, height, 2))
    }
    expect(plain.position(9)).toEqual({ left: 110, top: 220 })
    expect(plain.scrollToReveal(500, 0, 800)).toBe(scrollToReveal(500, g, 0, 800))
    expect(plain.move(7, 'ArrowDown')).toBe(moveSelection(7, 'ArrowDown', 4, 1000))
    expect(plain.headersIn({ start: 0, end: 1000, totalHeight: 0 })).toEqual([])
  })

  it('starts each month on a new row under its header; the first month of a year names the year', () => {
    const layout = gridLayout(16, g, sections)
    // 2024-01: a year header, rows at 84 and 194; 2023-12: a year header at 304, its row at 388; 2023-06: a month header at 498, rows from 538.
    expect(layout.position(0)).toEqual({ left: 0, top: YEAR_HEADER })
    expect(layout.position(5)).toEqual({ left: 110, top: YEAR_HEADER + 110 })
    expect(layout.position(6)).toEqual({ left: 0, top: YEAR_HEADER + 220 + YEAR_HEADER })
    expect(layout.position(7)).toEqual({ left: 0, top: 2 * YEAR_HEADER + 330 + MONTH_HEADER })
    expect(layout.position(15)).toEqual({ left: 0, top: 2 * YEAR_HEADER + 330 + MONTH_HEADER + 220 })
    const all = layout.visibleRange(0, 10_000)
    expect(all).toEqual({ start: 0, end: 16, totalHeight: 2 * YEAR_HEADER + MONTH_HEADER + 6 * 110 - 10 })
    expect(layout.headersIn(all).map((h) => [h.label, h.year, h.top, h.height])).toEqual([
      ['January 2024', '2024', 0, YEAR_HEADER],
      ['December 2023', '2023', YEAR_HEADER + 220, YEAR_HEADER],
      ['June 2023', null, 2 * YEAR_HEADER + 330, MONTH_HEADER]
    ])
  })

  it('renders only what is in view, with the headers of the sections in it', () => {
    const layout = gridLayout(16, g, sections)
    // Scrolled into June's rows, no overscan: only its rows in view.
    const june = layout.visibleRange(2 * YEAR_HEADER + 330 + MONTH_HEADER + 110, 100, 0)
    expect(june).toMatchObject({ start: 11, end: 15 })
    expect(layout.headersIn(june).map((h) => h.month)).toEqual(['2023-06'])
    // A viewport ending inside December's header brings its first row along.
    const top = layout.visibleRange(0, YEAR_HEADER + 230, 0)
    expect(top).toMatchObject({ start: 0, end: 7 })
  })

  it('reveals a section’s first row with its header, and moves up and down by column across headers', () => {
    const layout = gridLayout(16, g, sections)
    expect(layout.scrollToReveal(7, 2000, 300)).toBe(2 * YEAR_HEADER + 330)
    expect(layout.scrollToReveal(0, 0, 300)).toBeNull()
    expect(layout.move(5, 'ArrowDown')).toBe(6) // column 1 -> December's only photo
    expect(layout.move(6, 'ArrowDown')).toBe(7)
    expect(layout.move(7, 'ArrowUp')).toBe(6)
    expect(layout.move(6, 'ArrowUp')).toBe(4) // back to the last row of January, column 0
    expect(layout.move(3, 'ArrowDown')).toBe(5) // column 3 of a row of two: its last
    expect(layout.move(15, 'ArrowDown')).toBe(15)
    expect(layout.move(1, 'ArrowUp')).toBe(1)
    expect(layout.move(6, 'ArrowRight')).toBe(7)
    expect(layout.move(9, 'End')).toBe(15)
  })

  it('covers every item when the sections do not (the listing changed between answers)', () => {
    const layout = gridLayout(20, g, sections)
    expect(layout.visibleRange(0, 10_000).end).toBe(20)
    expect(layout.position(16).top).toBe(layout.position(15).top + 110)
    const fewer = gridLayout(8, g, sections)
    expect(fewer.visibleRange(0, 10_000).end).toBe(8)
  })

  it('knows where each row starts: a section’s first row at its header', () => {
    const layout = gridLayout(16, g, sections)
    expect([0, 3, 4, 6, 7, 11].map((i) => layout.rowTop(i))).toEqual([
      0,
      0,
      YEAR_HEADER + 110,
      YEAR_HEADER + 220,
      2 * YEAR_HEADER + 330,
      2 * YEAR_HEADER + 330 + MONTH_HEADER + 110
    ])
    expect(gridLayout(1000, g, []).rowTop(9)).toBe(220)
    expect(gridLayout(0, g, sections).rowTop(0)).toBe(0)
  })

  it('keeps the row at the top of the view there when the thumbnails change size', () => {
    // Two columns of 210 px: a row pitch of 220.
    const bigger = gridGeometry(430, 200, 10)
    expect(bigger).toMatchObject({ columns: 2, cellSize: 210, rowPitch: 220 })
    // Plain: row 45 of four (item 180) is row 90 of two.
    expect(keepTopRow(gridLayout(1000, g, []), gridLayout(1000, bigger, []), 45 * 110 + 30)).toBe(90 * 220)
    expect(keepTopRow(gridLayout(1000, bigger, []), gridLayout(1000, g, []), 90 * 220)).toBe(45 * 110)
    // In June's second row (items 11 to 14): with two columns item 11 is June's third row.
    const before = gridLayout(16, g, sections)
    const after = gridLayout(16, bigger, sections)
    expect(keepTopRow(before, after, before.position(11).top + 50)).toBe(after.position(10).top + 220)
    expect(after.position(11)).toEqual({ left: 0, top: after.position(10).top + 220 })
    // Scrolled into December's header: its row, header included.
    expect(keepTopRow(before, after, YEAR_HEADER + 230)).toBe(YEAR_HEADER + 3 * 220)
    expect(keepTopRow(before, after, 0)).toBe(0)
    expect(keepTopRow(gridLayout(0, g, []), gridLayout(0, bigger, []), 500)).toBe(0)
    // Past the end (the grid shrank): its last row.
    expect(keepTopRow(gridLayout(10, g, []), gridLayout(10, bigger, []), 1e6)).toBe(4 * 220)
  })

  it('names months in English', () => {
    expect(monthLabel('2023-06')).toBe('June 2023')
    expect(monthLabel('2023-13')).toBe('2023-13')
  })
})
