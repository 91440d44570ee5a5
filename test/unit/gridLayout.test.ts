import { describe, expect, it } from 'vitest'
import { THUMBNAIL_SIZES } from '../../src/shared/api'
import { gridGeometry, moveSelection, scrollToReveal, visibleRange } from '../../src/renderer/src/lib/gridLayout'

describe('virtualized photo grid layout', () => {
  it('fits as many columns of about the target size as the width allows, filling it exactly', () => {
    const g = gridGeometry(1000, 176, 8)
    expect(g.columns).toBe(5)
    expect(g.cellSize * 5 + 8 * 4).toBeLessThanOrEqual(1000)
    expect(g.cellSize * 5 + 8 * 4).toBeGreaterThan(1000 - 5)
    expect(gridGeometry(100, 176, 8).columns).toBe(1)
  })

  it('gives a larger thumbnail size never smaller tiles, and tiles at least that size', () => {
    for (let width = 200; width <= 2400; width += 37) {
      let last = 0
      for (let size = THUMBNAIL_SIZES.min; size <= Math.min(width, THUMBNAIL_SIZES.max); size += THUMBNAIL_SIZES.step) {
        const { cellSize } = gridGeometry(width, size, 8)
        expect(cellSize, `${size} px in ${width} px`).toBeGreaterThanOrEqual(Math.max(size, last))
        last = cellSize
      }
    }
    expect(gridGeometry(1000, 320, 8)).toMatchObject({ columns: 3, cellSize: 328 })
  })

  it('renders only the rows in view plus the overscan, at any depth of a 100k library', () => {
    const g = gridGeometry(1000, 176, 8)
    const top = visibleRange(100_000, g, 0, 800, 2)
    expect(top.start).toBe(0)
    // 800 px shows rows 0..4 (pitch ~198 px); two more below.
    expect(top.end).toBe(Math.ceil(800 / g.rowPitch + 2) * g.columns)
    expect(top.totalHeight).toBe(20_000 * g.rowPitch - g.gap)

    const deep = visibleRange(100_000, g, 10_000 * g.rowPitch + 50, 800, 2)
    expect(deep.start).toBe((10_000 - 2) * g.columns)
    expect(deep.end - deep.start).toBeLessThanOrEqual(10 * g.columns)

    const bottom = visibleRange(100_000, g, top.totalHeight - 800, 800, 2)
    expect(bottom.end).toBe(100_000)
    expect(visibleRange(0, g, 0, 800).end).toBe(0)
  })

  it('keeps the last partial row and never renders past the end', () => {
    const g = gridGeometry(1000, 176, 8)
    const r = visibleRange(7, g, 0, 2000, 2)
    expect(r).toMatchObject({ start: 0, end: 7 })
    expect(r.totalHeight).toBe(2 * g.rowPitch - g.gap)
  })

  it('scrolls just enough to reveal a selected photo', () => {
    const g = gridGeometry(1000, 176, 8)
    expect(scrollToReveal(0, g, 0, 800)).toBeNull()
    expect(scrollToReveal(50, g, 0, 800)).toBe(10 * g.rowPitch + g.cellSize - 800)
    expect(scrollToReveal(0, g, 500, 800)).toBe(0)
  })

  it('moves the selection with the arrow keys without leaving the grid', () => {
    expect(moveSelection(0, 'ArrowRight', 5, 12)).toBe(1)
    expect(moveSelection(0, 'ArrowLeft', 5, 12)).toBe(0)
    expect(moveSelection(2, 'ArrowDown', 5, 12)).toBe(7)
    expect(moveSelection(8, 'ArrowDown', 5, 12)).toBe(8)
    expect(moveSelection(3, 'ArrowUp', 5, 12)).toBe(3)
    expect(moveSelection(7, 'ArrowUp', 5, 12)).toBe(2)
    expect(moveSelection(6, 'End', 5, 12)).toBe(11)
    expect(moveSelection(6, 'Home', 5, 12)).toBe(0)
    expect(moveSelection(0, 'ArrowDown', 5, 0)).toBe(-1)
  })
})
