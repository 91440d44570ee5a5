/** Fixed-size cells in rows, so any scroll position maps to its photos by arithmetic alone. */
export interface GridGeometry {
  columns: number
  /** Side of a square cell, in CSS pixels. */
  cellSize: number
  gap: number
  /** cellSize + gap: the distance from one row's top to the next. */
  rowPitch: number
}

/** As many columns of about `targetCell` px as fit `width`, the cells stretched to fill it exactly. */
export function gridGeometry(width: number, targetCell: number, gap: number): GridGeometry {
  const columns = Math.max(1, Math.floor((width + gap) / (targetCell + gap)))
  const cellSize = Math.max(1, Math.floor((width - gap * (columns - 1)) / columns))
  return { columns, cellSize, gap, rowPitch: cellSize + gap }
}

export interface VisibleRange {
  /** First item index to render (a row start). */
  start: number
  /** One past the last item index to render. */
  end: number
  /** Height of the whole grid, for the scroll bar. */
  totalHeight: number
}

/**
 * The items a viewport at `scrollTop` shows, plus `overscanRows` above and below so a fast scroll
 * rarely reveals an empty row before the next frame renders it.
 */
export function visibleRange(count: number, geometry: GridGeometry, scrollTop: number, viewportHeight: number, overscanRows = 2): VisibleRange {
  const rows = Math.ceil(count / geometry.columns)
  const totalHeight = rows === 0 ? 0 : rows * geometry.rowPitch - geometry.gap
  if (count === 0) return { start: 0, end: 0, totalHeight }
  const firstRow = Math.max(0, Math.floor(scrollTop / geometry.rowPitch) - overscanRows)
  const lastRow = Math.min(rows - 1, Math.floor((scrollTop + Math.max(0, viewportHeight)) / geometry.rowPitch) + overscanRows)
  return { start: firstRow * geometry.columns, end: Math.min(count, (lastRow + 1) * geometry.columns), totalHeight }
}

/** The scroll position that brings item `index` fully into view, or null when it already is. */
export function scrollToReveal(index: number, geometry: GridGeometry, scrollTop: number, viewportHeight: number): number | null {
  const top = Math.floor(index / geometry.columns) * geometry.rowPitch
  const bottom = top + geometry.cellSize
  if (top < scrollTop) return top
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight
  return null
}

/** The index an arrow key moves to from `index`, kept inside the grid. */
export function moveSelection(index: number, key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End', columns: number, count: number): number {
  if (count === 0) return -1
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns, Home: -Infinity, End: Infinity }[key]
  const next = index + step
  if (next < 0) return key === 'ArrowUp' ? index : 0
  if (next >= count) return key === 'ArrowDown' ? index : count - 1
  return next
}
