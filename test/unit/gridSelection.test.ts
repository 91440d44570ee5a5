import { describe, expect, it } from 'vitest'
import {
  EMPTY_SELECTION,
  type SelectionState,
  addRange,
  countOf,
  gestureOf,
  hasIndex,
  moveCursor,
  removeRange,
  select,
  selectAll,
  selectNone
} from '../../src/renderer/src/lib/gridSelection'

describe('selecting photos in a grid as a file manager does', () => {
  it('keeps ranges sorted, disjoint and merged', () => {
    let r = addRange([], 10, 20)
    r = addRange(r, 0, 5)
    r = addRange(r, 5, 10)
    expect(r).toEqual([[0, 20]])
    r = removeRange(r, 3, 7)
    expect(r).toEqual([
      [0, 3],
      [7, 20]
    ])
    expect([2, 3, 6, 7, 19, 20].map((i) => hasIndex(r, i))).toEqual([true, false, false, true, true, false])
    expect(countOf(r)).toBe(16)
  })

  it('click selects one, ctrl-click adds and takes out, shift-click extends from the last click', () => {
    let s: SelectionState = select(EMPTY_SELECTION, 4, 'only')
    expect(s.ranges).toEqual([[4, 5]])
    s = select(s, 10, gestureOf({ ctrlKey: true, shiftKey: false, metaKey: false }))
    expect(s.ranges).toEqual([
      [4, 5],
      [10, 11]
    ])
    // From the ctrl-clicked photo on, keeping what was selected before it.
    s = select(s, 13, gestureOf({ ctrlKey: false, shiftKey: true, metaKey: false }))
    expect(s.ranges).toEqual([
      [4, 5],
      [10, 14]
    ])
    // Extending again replaces the range from the anchor, as shift+arrows do, also backwards.
    s = select(s, 8, 'extend')
    expect(s.ranges).toEqual([
      [4, 5],
      [8, 11]
    ])
    expect(s.cursor).toBe(8)
    // Cmd on macOS is ctrl.
    s = select(s, 4, gestureOf({ ctrlKey: false, shiftKey: false, metaKey: true }))
    expect(s.ranges).toEqual([[8, 11]])
    // A plain click starts over.
    expect(select(s, 2, 'only').ranges).toEqual([[2, 3]])
  })

  it('ctrl+shift-click adds a range to what is selected', () => {
    let s = select(EMPTY_SELECTION, 0, 'only')
    s = select(s, 5, 'toggle')
    s = select(s, 7, gestureOf({ ctrlKey: true, shiftKey: true, metaKey: false }))
    expect(s.ranges).toEqual([
      [0, 1],
      [5, 8]
    ])
  })

  it('selects all of a library of any size as one range, and none; the cursor stays; ctrl+arrows move it alone', () => {
    const s = moveCursor(select(EMPTY_SELECTION, 3, 'only'), 9)
    expect(s.ranges).toEqual([[3, 4]])
    const all = selectAll(s, 100_000)
    expect(all.ranges).toEqual([[0, 100_000]])
    expect(countOf(all.ranges)).toBe(100_000)
    expect(all.cursor).toBe(9)
    expect(selectNone(all)).toMatchObject({ ranges: [], cursor: 9 })
    expect(selectAll(s, 0).ranges).toEqual([])
  })
})
