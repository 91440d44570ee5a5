import { describe, expect, it } from 'vitest'
import { dateRangeOf, withDateRange } from '../../src/renderer/src/lib/dateRange'
import { parseQuery } from '../../src/main/engine/search/queryParser'

describe("the date range control's terms in the query", () => {
  it('adds after: the first month and before: the month after the last', () => {
    expect(withDateRange('dog', '2023-06', '2023-12')).toBe('dog after:2023-06 before:2024-01')
    expect(withDateRange('', '2023-06', '')).toBe('after:2023-06')
    expect(withDateRange('', '', '2023-02')).toBe('before:2023-03')
  })

  it('replaces the range terms it finds and keeps everything else as typed', () => {
    expect(withDateRange('dog after:2020 "red car" before:2021-01-01', '2023-06', '2023-06')).toBe('dog "red car" after:2023-06 before:2023-07')
    expect(withDateRange('beach -after:2020 year:2019', '', '')).toBe('beach -after:2020 year:2019')
    expect(withDateRange('dog after:2023-06 before:2024-01', '', '')).toBe('dog')
  })

  it('groups an OR so that the range applies to all of it, once', () => {
    const once = withDateRange('dog | cat', '2023-01', '2023-12')
    expect(once).toBe('(dog | cat) after:2023-01 before:2024-01')
    expect(withDateRange(once, '2022-01', '')).toBe('(dog | cat) after:2022-01')
    expect(withDateRange('(dog | cat) beach', '2022-01', '')).toBe('(dog | cat) beach after:2022-01')
    expect(withDateRange('"a | b"', '2022-01', '')).toBe('"a | b" after:2022-01')
  })

  it('every query it writes parses', () => {
    for (const q of [withDateRange('dog | cat', '2023-01', '2023-12'), withDateRange('', '1999-12', '1999-12'), withDateRange('sunset -people', '', '2024-12')]) {
      expect(() => parseQuery(q)).not.toThrow()
    }
  })

  it('reads the months back from the query', () => {
    expect(dateRangeOf('dog after:2023-06 before:2024-01')).toEqual({ from: '2023-06', to: '2023-12' })
    expect(dateRangeOf('after:2023 before:2024-03-01')).toEqual({ from: '2023-01', to: '2024-02' })
    expect(dateRangeOf('dog -after:2020 before:2023-06-15')).toEqual({ from: '', to: '' })
  })
})
