import { describe, expect, it } from 'vitest'
import { type TermScores, evaluateQuery } from '../../src/main/engine/search/evaluateQuery'
import { dateFilterOf, parseDateFilter } from '../../src/main/engine/search/dateTerms'
import { QuerySyntaxError, dateTerms, formatQuery, parseQuery, queryTerms, type QueryNode } from '../../src/main/engine/search/queryParser'

/** The tree without positions: words as strings, dates as [text, from, until], ['and'|'or', ...], ['not', x]. */
type Shape = string | Array<Shape | null>
function shape(node: QueryNode): Shape {
  switch (node.kind) {
    case 'term':
      return node.text
    case 'date':
      return [node.text, node.from, node.until]
    case 'not':
      return ['not', shape(node.child)]
    default:
      return [node.kind, ...node.children.map(shape)]
  }
}
const parsed = (input: string) => shape(parseQuery(input))

function syntaxError(input: string): QuerySyntaxError {
  try {
    parseQuery(input)
  } catch (error) {
    expect(error).toBeInstanceOf(QuerySyntaxError)
    return error as QuerySyntaxError
  }
  throw new Error(`parseQuery(${JSON.stringify(input)}) did not throw`)
}

describe('date terms: each form', () => {
  it('year:YYYY is that calendar year', () => {
    expect(parseQuery('year:2023')).toEqual({ kind: 'date', text: 'year:2023', from: '2023-01-01', until: '2024-01-01', start: 0, end: 9 })
  })

  it('after: is on or after the first day of a year, a month or a day', () => {
    expect(parsed('after:2023')).toEqual(['after:2023', '2023-01-01', null])
    expect(parsed('after:2023-06')).toEqual(['after:2023-06', '2023-06-01', null])
    expect(parsed('after:2023-06-15')).toEqual(['after:2023-06-15', '2023-06-15', null])
  })

  it('before: is strictly before the first day of a year, a month or a day', () => {
    expect(parsed('before:2024')).toEqual(['before:2024', null, '2024-01-01'])
    expect(parsed('before:2024-02')).toEqual(['before:2024-02', null, '2024-02-01'])
    expect(parsed('before:2024-01-01')).toEqual(['before:2024-01-01', null, '2024-01-01'])
  })

  it('the field is read in any case and written in lower case; the span is what was typed', () => {
    const node = parseQuery('dog  AFTER:2023-06')
    expect(node).toMatchObject({ kind: 'and', children: [{ kind: 'term' }, { kind: 'date', text: 'after:2023-06', start: 5, end: 18 }] })
  })

  it('a leap day exists only in leap years; year 9999 has no upper bound', () => {
    expect(parsed('after:2024-02-29')).toEqual(['after:2024-02-29', '2024-02-29', null])
    expect(parsed('before:2000-02-29')).toEqual(['before:2000-02-29', null, '2000-02-29'])
    expect(parsed('year:9999')).toEqual(['year:9999', '9999-01-01', null])
    expect(parsed('year:0099')).toEqual(['year:0099', '0099-01-01', '0100-01-01'])
  })

  it('a quoted "year:2023" is a phrase, not a date', () => {
    expect(parsed('"year:2023"')).toBe('year:2023')
  })
})

describe('date terms: a bad date is an error naming the term and the accepted forms', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['after:2023-13', 0, /"after:2023-13" at position 0: there is no month 13/],
    ['dog before:2023-02-29', 4, /"before:2023-02-29" at position 4: 2023-02-29 is not a calendar date/],
    ['before:1900-02-29', 0, /1900-02-29 is not a calendar date/],
    ['after:2023-04-31', 0, /2023-04-31 is not a calendar date/],
    ['after:2023-06-00', 0, /not a calendar date/],
    ['year:2023-06', 0, /"year:2023-06" at position 0: year: takes a year alone/],
    ['year:23', 0, /"year:23" at position 0: "23" is not a year \(YYYY\)/],
    ['year:0000', 0, /there is no year 0/],
    ['after:2023/06', 0, /"after:2023\/06" at position 0: "2023\/06" is not YYYY, YYYY-MM or YYYY-MM-DD/],
    ['year:2023x', 0, /"year:2023x"/],
    ['after:june', 0, /"june" is not YYYY, YYYY-MM or YYYY-MM-DD/],
    ['(dog after: )', 5, /"after:" at position 5: it needs a date/],
    ['year:', 0, /"year:" at position 0: it needs a year/]
  ]
  for (const [input, position, message] of cases) {
    it(input, () => {
      const error = syntaxError(input)
      expect(error.message).toMatch(message)
      expect(error.position).toBe(position)
      expect(error.hint).toMatch(/year:YYYY.*YYYY, YYYY-MM or YYYY-MM-DD/)
    })
  }

  it('a colon after any other word is still an unexpected character', () => {
    expect(syntaxError('month:2023').message).toMatch(/Unexpected character ":" at position 5/)
  })
})

describe('date terms combine with words, NOT and groups', () => {
  it('AND, OR, NOT and groups', () => {
    expect(parsed('dog year:2023')).toEqual(['and', 'dog', ['year:2023', '2023-01-01', '2024-01-01']])
    expect(parsed('dog | before:2000')).toEqual(['or', 'dog', ['before:2000', null, '2000-01-01']])
    expect(parsed('(cat | dog) -year:2020 after:2019-06')).toEqual([
      'and',
      ['or', 'cat', 'dog'],
      ['not', ['year:2020', '2020-01-01', '2021-01-01']],
      ['after:2019-06', '2019-06-01', null]
    ])
    expect(parsed('beach -(year:2020 | year:2021)')).toEqual([
      'and',
      'beach',
      ['not', ['or', ['year:2020', '2020-01-01', '2021-01-01'], ['year:2021', '2021-01-01', '2022-01-01']]]
    ])
  })

  it('a query of dates alone, or of dates and excluded words, parses; excluded words alone still do not', () => {
    expect(parsed('-year:2023')).toEqual(['not', ['year:2023', '2023-01-01', '2024-01-01']])
    expect(parsed('year:2023 -dog')).toEqual(['and', ['year:2023', '2023-01-01', '2024-01-01'], ['not', 'dog']])
    expect(syntaxError('-dog').message).toMatch(/at least one term that is not negated/)
  })

  it('queryTerms has the words only; dateTerms the distinct dates', () => {
    const node = parseQuery('dog year:2023 (cat | Year:2023) -before:2000')
    expect(queryTerms(node)).toEqual(['dog', 'cat'])
    expect(dateTerms(node).map((d) => d.text)).toEqual(['year:2023', 'before:2000'])
  })

  it('formats canonically and round-trips', () => {
    for (const input of ['dog year:2023', 'YEAR:2023 -after:2023-06', '(dog | after:2023-06-15) -before:2024', '-(year:2020 | year:2021) cat']) {
      const text = formatQuery(parseQuery(input))
      expect(shape(parseQuery(text))).toEqual(parsed(input))
      expect(formatQuery(parseQuery(text))).toBe(text)
    }
    expect(formatQuery(parseQuery('YEAR:2023  -After:2023-06'))).toBe('year:2023 -after:2023-06')
  })

  it('a query of dates alone is a date filter; one with a word is not', () => {
    expect(dateFilterOf(parseQuery('year:2023 -after:2023-07'))).toEqual({
      kind: 'and',
      children: [
        { kind: 'range', from: '2023-01-01', until: '2024-01-01' },
        { kind: 'not', child: { kind: 'range', from: '2023-07-01', until: null } }
      ]
    })
    expect(dateFilterOf(parseQuery('year:2023 -dog'))).toBeNull()
    expect(() => parseDateFilter('year:2023 dog')).toThrow(/contain words/)
  })
})

describe('evaluateQuery with date terms', () => {
  // Six photos: dog applies to 0, 1, 2, 4; photos 0, 2, 3 were captured in 2023; recency by index.
  const terms = new Map<string, TermScores>([['dog', { score: new Float32Array([0.9, 0.8, 0.5, 0.2, 0.7, 0.1]), applies: new Uint8Array([1, 1, 1, 0, 1, 0]) }]])
  const dates = new Map([['year:2023', new Uint8Array([1, 0, 1, 1, 0, 0])]])
  const order = new Float32Array([0, 1, 2, 3, 4, 5])
  const run = (query: string, all = false) => {
    const result = evaluateQuery(parseQuery(query), terms, 6, { all, dates, order })
    return { matches: Array.from(result.matches), kept: result.kept }
  }

  it('a date term filters the words, which still rank', () => {
    expect(run('dog year:2023')).toEqual({ matches: [0, 2], kept: 2 })
    expect(run('dog -year:2023')).toEqual({ matches: [1, 4], kept: 2 })
  })

  it('OR keeps either; the words rank', () => {
    expect(run('dog | year:2023')).toEqual({ matches: [0, 1, 4, 2, 3], kept: 5 })
  })

  it('without a word to rank by, the order ranks (newest first)', () => {
    expect(run('year:2023')).toEqual({ matches: [3, 2, 0], kept: 3 })
    expect(run('year:2023 -dog')).toEqual({ matches: [3], kept: 1 })
    expect(run('-year:2023')).toEqual({ matches: [5, 4, 1], kept: 3 })
  })

  it('under all, the photos a date rules out come after those it keeps, like a negated word', () => {
    expect(run('dog year:2023', true)).toEqual({ matches: [0, 2, 3, 1, 4, 5], kept: 3 })
  })

  it('a date term without its flags, or a dateless query without an order, is a programming error', () => {
    expect(() => evaluateQuery(parseQuery('dog after:2020'), terms, 6, { dates })).toThrow(/No capture dates for the query term "after:2020"/)
    expect(() => evaluateQuery(parseQuery('year:2023'), terms, 6, { dates })).toThrow(/ranks by `order`/)
  })
})
