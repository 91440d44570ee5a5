/**
 * Which photos of a grid are selected, as a file manager selects: by position, kept as sorted,
 * disjoint, half-open ranges, so that "all" of a 100k-photo library is one range and not 100k ids
 * (most of which the window has never loaded).
 */
export type Ranges = ReadonlyArray<readonly [start: number, end: number]>

/** `ranges` with [start, end) added, merged with the ranges it touches. */
export function addRange(ranges: Ranges, start: number, end: number): Ranges {
  if (end <= start) return ranges
  const out: Array<readonly [number, number]> = []
  let [s, e] = [start, end]
  for (const [a, b] of ranges) {
    if (b < s || a > e) out.push([a, b])
    else [s, e] = [Math.min(a, s), Math.max(b, e)]
  }
  out.push([s, e])
  return out.sort((x, y) => x[0] - y[0])
}

/** `ranges` without [start, end). */
export function removeRange(ranges: Ranges, start: number, end: number): Ranges {
  const out: Array<readonly [number, number]> = []
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) out.push([a, b])
    else {
      if (a < start) out.push([a, start])
      if (b > end) out.push([end, b])
    }
  }
  return out
}

export function hasIndex(ranges: Ranges, index: number): boolean {
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const [a, b] = ranges[mid]
    if (index < a) hi = mid - 1
    else if (index >= b) lo = mid + 1
    else return true
  }
  return false
}

export function countOf(ranges: Ranges): number {
  return ranges.reduce((n, [a, b]) => n + b - a, 0)
}

/** What a click or a key does to the selection. */
export type SelectGesture = 'only' | 'toggle' | 'extend' | 'extend-add'

/**
 * A grid's selection: the ranges, the cursor (the photo the keyboard is on, which Enter opens)
 * and the anchor a shift-click or shift+arrow extends from. `base` is what was selected when the
 * anchor was set: extending replaces only the range from the anchor, as file managers do after a
 * ctrl-click.
 */
export interface SelectionState {
  ranges: Ranges
  cursor: number
  anchor: number
  base: Ranges
}

export const EMPTY_SELECTION: SelectionState = { ranges: [], cursor: -1, anchor: -1, base: [] }

/** The selection after `gesture` on the photo at `index`. */
export function select(state: SelectionState, index: number, gesture: SelectGesture): SelectionState {
  switch (gesture) {
    case 'only':
      return { ranges: [[index, index + 1]], cursor: index, anchor: index, base: [] }
    case 'toggle': {
      const ranges = hasIndex(state.ranges, index) ? removeRange(state.ranges, index, index + 1) : addRange(state.ranges, index, index + 1)
      return { ranges, cursor: index, anchor: index, base: removeRange(ranges, index, index + 1) }
    }
    case 'extend':
    case 'extend-add': {
      const anchor = state.anchor < 0 ? index : state.anchor
      const base = gesture === 'extend-add' ? state.ranges : state.base
      return { ranges: addRange(base, Math.min(anchor, index), Math.max(anchor, index) + 1), cursor: index, anchor, base }
    }
  }
}

/** Every photo of a grid of `count`, the cursor kept where it was. */
export function selectAll(state: SelectionState, count: number): SelectionState {
  return { ranges: count ? [[0, count]] : [], cursor: state.cursor, anchor: state.cursor, base: [] }
}

/** Nothing selected; the cursor stays, so the keyboard goes on from there. */
export function selectNone(state: SelectionState): SelectionState {
  return { ranges: [], cursor: state.cursor, anchor: state.cursor, base: [] }
}

/** The cursor moved without selecting (ctrl+arrow): the selection stays as it is. */
export function moveCursor(state: SelectionState, index: number): SelectionState {
  return { ...state, cursor: index }
}

/** The gesture a pointer or key event with these modifiers means (cmd on macOS is ctrl elsewhere). */
export function gestureOf(event: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }): SelectGesture {
  const add = event.ctrlKey || event.metaKey
  if (event.shiftKey) return add ? 'extend-add' : 'extend'
  return add ? 'toggle' : 'only'
}
