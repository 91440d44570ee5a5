import { describe, expect, it } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { MAX_QUERY_LENGTH, MAX_QUERY_TERMS, QuerySyntaxError, formatQuery, parseQuery, queryTerms, type QueryNode } from '../../src/main/engine/search/queryParser'
import { prng } from '../helpers/prng'

/** The tree without positions, as nested arrays: terms are strings, ['and'|'or', ...] and ['not', x]. */
type Shape = string | Shape[]
function shape(node: QueryNode): Shape {
  switch (node.kind) {
    case 'term':
    case 'date':
      return node.text
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

function expectRoundTrip(node: QueryNode): void {
  const text = formatQuery(node)
  const again = parseQuery(text)
  expect(shape(again)).toEqual(shape(node))
  // Canonical text is a fixed point, positions included.
  expect(formatQuery(again)).toBe(text)
  expect(parseQuery(formatQuery(again))).toEqual(again)
}

describe('parseQuery: the examples', () => {
  it('dog beach is an AND of two words, with their positions', () => {
    expect(parseQuery('dog beach')).toEqual({
      kind: 'and',
      children: [
        { kind: 'term', text: 'dog', start: 0, end: 3 },
        { kind: 'term', text: 'beach', start: 4, end: 9 }
      ]
    })
  })

  it('"red car" | truck is an OR of a phrase and a word; the phrase span includes its quotes', () => {
    expect(parseQuery('"red car" | truck')).toEqual({
      kind: 'or',
      children: [
        { kind: 'term', text: 'red car', start: 0, end: 9 },
        { kind: 'term', text: 'truck', start: 12, end: 17 }
      ]
    })
  })

  it('sunset -people negates a word', () => {
    expect(parseQuery('sunset -people')).toEqual({
      kind: 'and',
      children: [
        { kind: 'term', text: 'sunset', start: 0, end: 6 },
        { kind: 'not', child: { kind: 'term', text: 'people', start: 8, end: 14 } }
      ]
    })
  })

  it('(cat | dog) -indoor groups an OR under an AND', () => {
    expect(parseQuery('(cat | dog) -indoor')).toEqual({
      kind: 'and',
      children: [
        {
          kind: 'or',
          children: [
            { kind: 'term', text: 'cat', start: 1, end: 4 },
            { kind: 'term', text: 'dog', start: 7, end: 10 }
          ]
        },
        { kind: 'not', child: { kind: 'term', text: 'indoor', start: 13, end: 19 } }
      ]
    })
  })

  it('beach -(people | crowd) negates a group', () => {
    expect(parsed('beach -(people | crowd)')).toEqual(['and', 'beach', ['not', ['or', 'people', 'crowd']]])
  })
})

describe('parseQuery: precedence and grouping', () => {
  it('OR binds looser than AND', () => {
    expect(parsed('a b | c')).toEqual(['or', ['and', 'a', 'b'], 'c'])
    expect(parsed('a | b c')).toEqual(['or', 'a', ['and', 'b', 'c']])
    expect(parsed('a b | c d | e')).toEqual(['or', ['and', 'a', 'b'], ['and', 'c', 'd'], 'e'])
  })

  it('parentheses override precedence', () => {
    expect(parsed('a (b | c)')).toEqual(['and', 'a', ['or', 'b', 'c']])
    expect(parsed('(a | b) (c | d)')).toEqual(['and', ['or', 'a', 'b'], ['or', 'c', 'd']])
  })

  it('flattens nested groups of the same operator and drops redundant parentheses', () => {
    expect(parsed('(a b) c')).toEqual(['and', 'a', 'b', 'c'])
    expect(parsed('a | (b | c)')).toEqual(['or', 'a', 'b', 'c'])
    expect(parsed('((a))')).toEqual('a')
    expect(parseQuery('((a))')).toEqual({ kind: 'term', text: 'a', start: 2, end: 3 })
  })

  it('juxtaposition needs no space', () => {
    expect(parsed('(a|b)c')).toEqual(['and', ['or', 'a', 'b'], 'c'])
    expect(parsed('"a""b"')).toEqual(['and', 'a', 'b'])
    expect(parsed('dog-(cat)')).toEqual(['and', 'dog', ['not', 'cat']])
    expect(parsed('sunset-"red sky"')).toEqual(['and', 'sunset', ['not', 'red sky']])
  })

  it('keeps a double negation inside a group', () => {
    expect(parsed('a -(-b)')).toEqual(['and', 'a', ['not', ['not', 'b']]])
  })
})

describe('parseQuery: words, phrases and whitespace', () => {
  it('a hyphen, apostrophe, dot or underscore between letters or digits is part of the word', () => {
    expect(parsed('t-shirt x-ray')).toEqual(['and', 't-shirt', 'x-ray'])
    expect(parsed("rock'n'roll o’neil 3.5mm snake_case")).toEqual(['and', "rock'n'roll", 'o’neil', '3.5mm', 'snake_case'])
    expect(parsed('t-shirt -x-ray')).toEqual(['and', 't-shirt', ['not', 'x-ray']])
  })

  it('words are Unicode letters, digits and combining marks', () => {
    expect(parsed('café Straße 東京 nai\u0308ve')).toEqual(['and', 'café', 'Straße', '東京', 'nai\u0308ve'])
  })

  it('separates on any Unicode whitespace', () => {
    expect(parsed('a\u3000b\u00a0c\td\u0085e\u2028f\u200bg\nh')).toEqual(['and', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])
    expect(parsed('  \t dog \n ')).toEqual('dog')
  })

  it('a phrase is one term: \\" is a quote, \\\\ a backslash, any other backslash is literal', () => {
    expect(parseQuery(String.raw`"say \"hi\""`)).toEqual({ kind: 'term', text: 'say "hi"', start: 0, end: 12 })
    expect(parsed(String.raw`"a\\" b`)).toEqual(['and', 'a\\', 'b'])
    expect(parsed(String.raw`"a\b"`)).toEqual('a\\b')
    expect(parsed('"(a | -b)"')).toEqual('(a | -b)')
  })

  it('trims a phrase and collapses its whitespace runs to one space', () => {
    expect(parsed('"  red \n\t car "')).toEqual('red car')
  })

  it('keeps the case typed; queryTerms gives distinct lower-cased, NFC terms in order', () => {
    const node = parseQuery('Dog (dog | "Red Car") -cafe\u0301 -café')
    expect(shape(node)).toEqual(['and', 'Dog', ['or', 'dog', 'Red Car'], ['not', 'cafe\u0301'], ['not', 'café']])
    expect(queryTerms(node)).toEqual(['dog', 'red car', 'café'])
  })
})

describe('parseQuery: errors name the position and what was expected', () => {
  const cases: [string, string, number][] = [
    ['dog "red car', 'Unclosed quote starting at position 4', 4],
    ['"a\\"', 'Unclosed quote starting at position 0', 0],
    ['beach | ()', 'Expected a word, a quoted phrase or "(" at position 9, found ")"', 9],
    ['| a', 'Expected a word, a quoted phrase or "(" at position 0, found "|"', 0],
    ['a |', 'Expected a word, a quoted phrase or "(" at position 3, found the end of the query', 3],
    ['a - b', 'Expected a word, a quoted phrase or "(" at position 3, found a space', 3],
    ['a -', 'Expected a word, a quoted phrase or "(" at position 3, found the end of the query', 3],
    ['a --b', 'Expected a word, a quoted phrase or "(" at position 3, found "-"', 3],
    ['dog)', 'Unbalanced ")" at position 3', 3],
    ['(a b) c) ,', 'Unbalanced ")" at position 7', 7],
    ['x (a (b | c)', 'Unclosed "(" at position 2', 2],
    ['dog, cat', 'Unexpected character "," at position 3', 3],
    ['dog.', 'Unexpected character "." at position 3', 3],
    ["dogs'", 'Unexpected character "\'" at position 4', 4],
    ['a 😀', 'Unexpected character "😀" at position 2', 2],
    ['a ""', 'Empty quoted phrase at position 2', 2],
    ['" \t "', 'Empty quoted phrase at position 0', 0],
    ['', 'Empty query', 0],
    [' \u3000\n', 'Empty query', 0],
    ['-people', 'A query must contain at least one term that is not negated', 0],
    ['-a | -(b c)', 'A query must contain at least one term that is not negated', 0],
    ['-(-a)', 'A query must contain at least one term that is not negated', 0]
  ]
  it.each(cases)('%j', (input, message, position) => {
    const error = syntaxError(input)
    expect(error.message).toBe(message)
    expect(error.position).toBe(position)
    expect(error).toBeInstanceOf(SdlError)
    expect(error.hint).toBeTruthy()
  })

  it('a pure-NOT query suggests adding a term', () => {
    expect(syntaxError('-people').hint).toMatch(/add something to search for/)
  })

  it(`caps a query at ${MAX_QUERY_LENGTH} characters`, () => {
    const long = 'a'.repeat(MAX_QUERY_LENGTH + 1)
    const error = syntaxError(long)
    expect(error.message).toBe('Query is too long: 1,001 characters, at most 1,000')
    expect(error.position).toBe(MAX_QUERY_LENGTH)
    expect(shape(parseQuery('a'.repeat(MAX_QUERY_LENGTH)))).toBe('a'.repeat(MAX_QUERY_LENGTH))
  })

  it(`caps a query at ${MAX_QUERY_TERMS} terms and points at the first one too many`, () => {
    const words = Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `t${i}`)
    expect(queryTerms(parseQuery(words.slice(0, MAX_QUERY_TERMS).join(' ')))).toHaveLength(MAX_QUERY_TERMS)
    const input = words.join(' ')
    const error = syntaxError(input)
    expect(error.position).toBe(input.indexOf('t64'))
    expect(error.message).toBe(`Too many terms: the term at position ${error.position} is number 65, at most 64 are allowed`)
  })
})

describe('formatQuery', () => {
  it('writes the canonical text', () => {
    expect(formatQuery(parseQuery('  (cat|dog)   -indoor'))).toBe('(cat | dog) -indoor')
    expect(formatQuery(parseQuery('beach -(people | crowd) | "red   car" -"x"'))).toBe('beach -(people | crowd) | "red car" -x')
    expect(formatQuery(parseQuery(String.raw`"say \"hi\" \\o/"`))).toBe(String.raw`"say \"hi\" \\o/"`)
    expect(formatQuery(parseQuery('a -(-b)'))).toBe('a -(-b)')
    expect(formatQuery(parseQuery('(a b) | (c (d | e))'))).toBe('a b | c (d | e)')
  })

  it('round-trips every example', () => {
    const examples = [
      'dog beach',
      '"red car" | truck',
      'sunset -people',
      '(cat | dog) -indoor',
      'beach -(people | crowd)',
      'a b | c',
      't-shirt -x-ray',
      String.raw`"a\\" "b\"c" "d\e"`,
      'a -(-b) | -(c | d) e',
      '"-dash" "two words" "x|y" "(p)"'
    ]
    for (const example of examples) expectRoundTrip(parseQuery(example))
  })
})

describe('parseQuery fuzz', () => {
  it('20,000 random strings: only QuerySyntaxError, positions in range, parses round-trip', () => {
    const alphabet = [...'()|-" ()|-" ()|-" ', '\\', ...'abxyz', ...`'._,`, 'é', '中', '\u0301', '\u00a0', '\u3000', '\n', '😀', '\uD83D']
    // Half the cases are drawn from whole tokens, which parse far more often than random characters.
    const tokens = ['dog', 't-shirt', 'café', '中文', '"red car"', String.raw`"x\"y"`, ' a', ' b', '(', ')', '|', '-', ' ', ' ', '\u3000']
    const random = prng(20240611)
    const pick = (from: string[]) => from[Math.floor(random() * from.length)]
    let parsedCount = 0
    for (let n = 0; n < 20_000; n++) {
      const from = n % 2 === 0 ? alphabet : tokens
      const length = Math.floor(random() * (from === alphabet ? 32 : 12))
      let input = ''
      for (let i = 0; i < length; i++) input += pick(from)
      let node: QueryNode
      try {
        node = parseQuery(input)
      } catch (error) {
        if (!(error instanceof QuerySyntaxError)) throw new Error(`${JSON.stringify(input)} threw ${String(error)}`, { cause: error })
        if (!(Number.isInteger(error.position) && error.position >= 0 && error.position <= input.length)) {
          throw new Error(`${JSON.stringify(input)}: position ${error.position} out of range`, { cause: error })
        }
        const named = /position (\d+)/.exec(error.message)
        if (named && Number(named[1]) !== error.position) throw new Error(`${JSON.stringify(input)}: ${error.message} vs ${error.position}`, { cause: error })
        continue
      }
      parsedCount++
      const visit = (n: QueryNode): void => {
        if (n.kind === 'term') {
          const typed = input.slice(n.start, n.end)
          if (!(n.start >= 0 && n.end <= input.length && (typed === n.text || typed.startsWith('"')))) {
            throw new Error(`${JSON.stringify(input)}: term ${JSON.stringify(n)} does not match its span`)
          }
        } else if (n.kind === 'not') visit(n.child)
        else if (n.kind !== 'date') n.children.forEach(visit)
      }
      visit(node)
      expectRoundTrip(node)
    }
    // The alphabet must produce a fair share of valid queries, or the round-trip check proves little.
    expect(parsedCount).toBeGreaterThan(2000)
  })
})
