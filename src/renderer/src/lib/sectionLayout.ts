import type { PhotoSection } from '../../../shared/api'
import { type GridGeometry, type VisibleRange, moveSelection, scrollToReveal, visibleRange } from './gridLayout'

/** Heights of a month's header, and of the first month of a year, which also names the year. */
export const MONTH_HEADER = 40
export const YEAR_HEADER = 84

export interface SectionHeader {
  /** 'YYYY-MM'. */
  month: string
  /** 'June 2023'. */
  label: string
  /** The year, on the first month of each year (the newest first). */
  year: string | null
  top: number
  height: number
}

type MoveKey = Parameters<typeof moveSelection>[1]

/** Where everything of a grid goes: each item, the items in view, the headers in view. */
export interface GridLayout {
  position(index: number): { left: number; top: number }
  visibleRange(scrollTop: number, viewportHeight: number, overscanRows?: number): VisibleRange
  /** The headers of the sections with items in `range`. */
  headersIn(range: VisibleRange): SectionHeader[]
  scrollToReveal(index: number, scrollTop: number, viewportHeight: number): number | null
  /** The top of the row of item `index`; of its section's header where it is the section's first row. */
  rowTop(index: number): number
  /** The index a movement key goes to: up and down keep the column, across a section's header too. */
  move(index: number, key: MoveKey): number
}

interface Block {
  start: number
  count: number
  rows: number
  header: SectionHeader | null
  /** The top of its first row. */
  top: number
}

/**
 * The grid's layout: without sections, rows of cells by arithmetic alone (gridLayout.ts); with
 * them (the date order's months), each section starts a row under its own header, still placed
 * by arithmetic, per section. Sections that do not cover the items exactly (a listing that
 * changed between two answers) are made to: the items past them form one more, without header.
 */
export function gridLayout(count: number, geometry: GridGeometry, sections?: readonly PhotoSection[] | null): GridLayout {
  if (!sections?.length) return plainLayout(count, geometry)
  const { columns, cellSize, gap, rowPitch } = geometry
  const blocks: Block[] = []
  let y = 0
  let next = 0
  let year: string | null = null
  const add = (start: number, size: number, section: PhotoSection | null) => {
    if (size <= 0) return
    let header: SectionHeader | null = null
    if (section) {
      const sectionYear = section.month.slice(0, 4)
      const first = sectionYear !== year
      year = sectionYear
      header = { month: section.month, label: monthLabel(section.month), year: first ? sectionYear : null, top: y, height: first ? YEAR_HEADER : MONTH_HEADER }
      y += header.height
    }
    const rows = Math.ceil(size / columns)
    blocks.push({ start, count: size, rows, header, top: y })
    y += rows * rowPitch
    next = start + size
  }
  for (const section of sections) add(next, Math.min(section.count, count - next), section)
  add(next, count - next, null)
  const totalHeight = Math.max(0, y - gap)

  const blockOf = (index: number): Block => {
    let lo = 0
    let hi = blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (blocks[mid].start <= index) lo = mid
      else hi = mid - 1
    }
    return blocks[lo]
  }
  const position = (index: number) => {
    const block = blockOf(index)
    const local = index - block.start
    return { left: (local % columns) * (cellSize + gap), top: block.top + Math.floor(local / columns) * rowPitch }
  }
  const rowTop = (index: number) => {
    if (!blocks.length) return 0
    const block = blockOf(index)
    const { top } = position(index)
    return top === block.top && block.header ? block.header.top : top
  }
  /** The block's row at height `at`, clamped to its rows. */
  const rowAt = (block: Block, at: number) => Math.min(block.rows - 1, Math.max(0, Math.floor((at - block.top) / rowPitch)))

  return {
    position,
    visibleRange(scrollTop, viewportHeight, overscanRows = 2) {
      if (!blocks.length) return { start: 0, end: 0, totalHeight }
      const top = scrollTop - overscanRows * rowPitch
      const bottom = scrollTop + Math.max(0, viewportHeight) + overscanRows * rowPitch
      const first = blocks.find((b) => b.top + b.rows * rowPitch > top) ?? blocks[blocks.length - 1]
      const last = blocks.findLast((b) => (b.header?.top ?? b.top) <= bottom) ?? blocks[0]
      const start = first.start + rowAt(first, top) * columns
      const end = Math.min(last.start + last.count, last.start + (rowAt(last, bottom) + 1) * columns)
      return { start: Math.min(start, end), end, totalHeight }
    },
    headersIn(range) {
      return blocks.filter((b) => b.header && b.start < range.end && b.start + b.count > range.start).map((b) => b.header!)
    },
    rowTop,
    scrollToReveal(index, scrollTop, viewportHeight) {
      // The first row of a section brings its header along.
      const top = rowTop(index)
      const bottom = position(index).top + cellSize
      if (top < scrollTop) return top
      if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight
      return null
    },
    move(index, key) {
      if (key !== 'ArrowUp' && key !== 'ArrowDown') return moveSelection(index, key, columns, count)
      if (count === 0) return -1
      const block = blockOf(index)
      const local = index - block.start
      const column = local % columns
      const row = Math.floor(local / columns)
      const b = blocks.indexOf(block)
      if (key === 'ArrowDown') {
        if (row + 1 < block.rows) return Math.min(block.start + block.count - 1, index + columns)
        const below = blocks[b + 1]
        return below ? Math.min(below.start + below.count - 1, below.start + column) : index
      }
      if (row > 0) return index - columns
      const above = blocks[b - 1]
      return above ? Math.min(above.start + above.count - 1, above.start + (above.rows - 1) * columns + column) : index
    }
  }
}

function plainLayout(count: number, geometry: GridGeometry): GridLayout {
  const { columns, cellSize, gap, rowPitch } = geometry
  return {
    position: (index) => ({ left: (index % columns) * (cellSize + gap), top: Math.floor(index / columns) * rowPitch }),
    visibleRange: (scrollTop, viewportHeight, overscanRows = 2) => visibleRange(count, geometry, scrollTop, viewportHeight, overscanRows),
    headersIn: () => [],
    scrollToReveal: (index, scrollTop, viewportHeight) => scrollToReveal(index, geometry, scrollTop, viewportHeight),
    rowTop: (index) => Math.floor(index / columns) * rowPitch,
    move: (index, key) => moveSelection(index, key, columns, count)
  }
}

/**
 * Where to scroll once the layout changed under a scroll position (other thumbnail sizes, another
 * width), so the row that was at the top of the view is at the top again rather than whatever
 * now lies at the old number of pixels.
 */
export function keepTopRow(before: GridLayout, after: GridLayout, scrollTop: number): number {
  const { start, end } = before.visibleRange(scrollTop, 0, 0)
  return end ? after.rowTop(Math.min(start, end - 1)) : 0
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

/** '2023-06' as 'June 2023'; a month that is not one (a photo without any date) as it is. */
export function monthLabel(month: string): string {
  const name = MONTHS[Number(month.slice(5, 7)) - 1]
  return name ? `${name} ${month.slice(0, 4)}` : month
}
