import { SdlError } from '../errors'

/**
 * The search box's query language.
 *
 *   query   := or
 *   or      := and ("|" and)*                 "|" binds looser than juxtaposition: a b | c = (a b) | c
 *   and     := unary unary*                   AND is juxtaposition, spaced or not: dog beach, (cat|dog)-indoor
 *   unary   := "-" primary | primary          the "-" touches what it negates: -people, -"two words", -(a | b)
 *   primary := WORD | PHRASE | DATE | "(" or ")"
 *
 * WORD     a letter or digit, then letters, digits, combining marks and zero-width joiners; one of
 *          ' ’ - . _ may join two such runs (t-shirt, rock'n'roll, 3.5mm, snake_case). A joiner belongs
 *          to the word only when a letter or digit follows it, so `dog.` and `dogs'` are errors. A "-"
 *          that starts a token negates; one inside a word is part of it (t-shirt, not t AND NOT shirt).
 * PHRASE   "…" where \" is a quote and \\ a backslash (any other backslash is literal). Its text is
 *          trimmed and each whitespace run becomes one space. A phrase is one term, like a word.
 * DATE     year:YYYY, after:D or before:D, where D is YYYY, YYYY-MM or YYYY-MM-DD (the field in any
 *          case): the photos captured in that calendar year, on or after D's first day, or strictly
 *          before it. A date term only filters; a query of nothing but date terms (and negated
 *          words) lists its photos by capture date. Dates are calendar dates of the capture time
 *          as the library stores it: the camera's wall clock (see library migration 10).
 * Space    Unicode White_Space, plus the invisible U+200B and U+FEFF that pasted text carries.
 *          Any other character outside a phrase is an error, rather than silently dropped.
 *
 * Positions are UTF-16 offsets into the input (what String.prototype.slice counts); a term's
 * [start, end) covers what the user typed, quotes included, so a front end can underline it.
 */
export type QueryNode = { kind: 'term'; text: string; start: number; end: number } | DateTerm | { kind: 'and' | 'or'; children: QueryNode[] } | { kind: 'not'; child: QueryNode }

/**
 * A date term: `text` is its canonical form (`after:2023-06`); the photos it keeps were captured
 * on or after `from` and before `until` ('YYYY-MM-DD' local calendar dates; null: unbounded).
 */
export interface DateTerm {
  kind: 'date'
  text: string
  from: string | null
  until: string | null
  start: number
  end: number
}

// Caps that keep parsing, lexicon lookups and evaluation cheap however much is pasted into the box.
export const MAX_QUERY_LENGTH = 1000
export const MAX_QUERY_TERMS = 64

/** A query the parser rejects; `position` (0 ≤ position ≤ input.length) is where the problem is. */
export class QuerySyntaxError extends SdlError {
  constructor(
    message: string,
    readonly position: number,
    hint?: string
  ) {
    super(message, hint)
    this.name = 'QuerySyntaxError'
  }
}

const SPACE_CLASS = String.raw`[\p{White_Space}\u200B\uFEFF]`
const RUN = String.raw`[\p{L}\p{N}][\p{L}\p{M}\p{N}\p{Join_Control}]*`
const WORD_SOURCE = String.raw`${RUN}(?:['’\-._]${RUN})*`
const SPACES = new RegExp(`${SPACE_CLASS}+`, 'uy')
const SPACE_RUNS = new RegExp(`${SPACE_CLASS}+`, 'gu')
const WORD = new RegExp(WORD_SOURCE, 'uy')
const WHOLE_WORD = new RegExp(`^${WORD_SOURCE}$`, 'u')

const DATE_FIELD = /(year|after|before):/iy
const DATE_VALUE = new RegExp(`(?:(?!${SPACE_CLASS})[^()|"])*`, 'uy')
const DATE_FORMS_HINT = 'Write year:YYYY (year:2023), and after: or before: with YYYY, YYYY-MM or YYYY-MM-DD (after:2023-06, before:2024-01-01).'

type Token =
  | { type: 'word' | 'phrase'; text: string; start: number; end: number }
  | { type: 'date'; term: DateTerm; start: number; end: number }
  | { type: '(' | ')' | '|' | '-' | 'end'; start: number; end: number }

const EXPECTED_TERM = 'Expected a word, a quoted phrase or "("'
const EXPECTED_TERM_HINT = 'Each "|", "-" and "(" needs a word, a "quoted phrase" or a (group) after it.'

/** Reads tokens on demand, so the error reported is always the leftmost one. */
class Lexer {
  private pos = 0
  private peeked: Token | null = null

  constructor(private readonly input: string) {}

  peek(): Token {
    return (this.peeked ??= this.read())
  }

  next(): Token {
    const token = this.peek()
    this.peeked = null
    return token
  }

  private read(): Token {
    const input = this.input
    SPACES.lastIndex = this.pos
    if (SPACES.test(input)) this.pos = SPACES.lastIndex
    const start = this.pos
    if (start === input.length) return { type: 'end', start, end: start }
    const c = input[start]
    if (c === '(' || c === ')' || c === '|' || c === '-') {
      this.pos = start + 1
      if (c === '-') this.requireTermAfterMinus()
      return { type: c, start, end: start + 1 }
    }
    if (c === '"') return this.readPhrase(start)
    DATE_FIELD.lastIndex = start
    const field = DATE_FIELD.exec(input)
    if (field) return this.readDate(start, field[1].toLowerCase() as DateField)
    WORD.lastIndex = start
    const word = WORD.exec(input)
    if (word) {
      this.pos = WORD.lastIndex
      return { type: 'word', text: word[0], start, end: this.pos }
    }
    const character = String.fromCodePoint(input.codePointAt(start)!)
    throw new QuerySyntaxError(
      `Unexpected character ${JSON.stringify(character)} at position ${start}`,
      start,
      `Words are letters and digits, joined inside a word by ' - . or _; put anything else inside "double quotes".`
    )
  }

  /** `a - b` is more likely a typo than a negation of nothing, so a detached "-" is an error. */
  private requireTermAfterMinus(): void {
    const at = this.pos
    SPACES.lastIndex = at
    const found = at === this.input.length ? 'the end of the query' : SPACES.test(this.input) ? 'a space' : null
    if (found) {
      throw new QuerySyntaxError(`${EXPECTED_TERM} at position ${at}, found ${found}`, at, 'Write "-" directly before what it excludes, e.g. -people or -(people | crowd).')
    }
  }

  /** Everything up to the next space, parenthesis, "|" or quote is the date, so `year:2023x` is an error rather than year:2023 AND x. */
  private readDate(start: number, field: DateField): Token {
    DATE_VALUE.lastIndex = DATE_FIELD.lastIndex
    const value = DATE_VALUE.exec(this.input)![0]
    this.pos = DATE_VALUE.lastIndex
    const text = `${field}:${value}`
    return { type: 'date', term: { kind: 'date', text, ...dateRange(field, value, text, start), start, end: this.pos }, start, end: this.pos }
  }

  private readPhrase(start: number): Token {
    const input = this.input
    let text = ''
    for (let i = start + 1; i < input.length; i++) {
      const c = input[i]
      if (c === '"') {
        this.pos = i + 1
        const normalized = text.replace(SPACE_RUNS, ' ').replace(/^ | $/g, '')
        if (normalized === '') {
          throw new QuerySyntaxError(`Empty quoted phrase at position ${start}`, start, 'Put words between the quotes, or remove them.')
        }
        return { type: 'phrase', text: normalized, start, end: this.pos }
      }
      if (c === '\\' && (input[i + 1] === '"' || input[i + 1] === '\\')) i++
      text += input[i]
    }
    throw new QuerySyntaxError(`Unclosed quote starting at position ${start}`, start, 'Close the phrase with another ", or write \\" for a quote inside it.')
  }
}

class Parser {
  private termCount = 0

  constructor(private readonly lexer: Lexer) {}

  parseOr(): QueryNode {
    const children = [this.parseAnd()]
    while (this.lexer.peek().type === '|') {
      this.lexer.next()
      children.push(this.parseAnd())
    }
    return combine('or', children)
  }

  private parseAnd(): QueryNode {
    const children = [this.parseUnary()]
    while (startsUnary(this.lexer.peek())) children.push(this.parseUnary())
    return combine('and', children)
  }

  private parseUnary(): QueryNode {
    if (this.lexer.peek().type !== '-') return this.parsePrimary()
    this.lexer.next()
    return { kind: 'not', child: this.parsePrimary() }
  }

  private parsePrimary(): QueryNode {
    const token = this.lexer.next()
    if (token.type === 'word' || token.type === 'phrase' || token.type === 'date') {
      if (++this.termCount > MAX_QUERY_TERMS) {
        throw new QuerySyntaxError(
          `Too many terms: the term at position ${token.start} is number ${this.termCount}, at most ${MAX_QUERY_TERMS} are allowed`,
          token.start,
          `Use at most ${MAX_QUERY_TERMS} words and phrases.`
        )
      }
      if (token.type === 'date') return token.term
      return { kind: 'term', text: token.text, start: token.start, end: token.end }
    }
    if (token.type !== '(') {
      const found = token.type === 'end' ? 'the end of the query' : `"${token.type}"`
      throw new QuerySyntaxError(`${EXPECTED_TERM} at position ${token.start}, found ${found}`, token.start, EXPECTED_TERM_HINT)
    }
    const inner = this.parseOr()
    // parseOr stops only before ")" or the end.
    if (this.lexer.next().type !== ')') {
      throw new QuerySyntaxError(`Unclosed "(" at position ${token.start}`, token.start, 'Add the ")" that closes it.')
    }
    return inner
  }
}

function startsUnary(token: Token): boolean {
  return token.type === 'word' || token.type === 'phrase' || token.type === 'date' || token.type === '(' || token.type === '-'
}

type DateField = 'year' | 'after' | 'before'

/** The range a date term keeps, or a QuerySyntaxError naming the term and the forms it takes. */
function dateRange(field: DateField, value: string, text: string, start: number): { from: string | null; until: string | null } {
  const bad = (reason: string) => new QuerySyntaxError(`Bad date term "${text}" at position ${start}: ${reason}`, start, DATE_FORMS_HINT)
  if (!value) throw bad(field === 'year' ? 'it needs a year (YYYY)' : 'it needs a date (YYYY, YYYY-MM or YYYY-MM-DD)')
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value)
  if (!match) throw bad(field === 'year' ? `"${value}" is not a year (YYYY)` : `"${value}" is not YYYY, YYYY-MM or YYYY-MM-DD`)
  const [year, month, day] = match.slice(1).map((part) => (part === undefined ? undefined : Number(part)))
  if (field === 'year' && month !== undefined) throw bad('year: takes a year alone (YYYY); for a month write after:YYYY-MM before: the next one')
  if (year! < 1) throw bad('there is no year 0')
  if (month !== undefined && (month < 1 || month > 12)) throw bad(`there is no month ${month}`)
  if (day !== undefined && (day < 1 || day > daysInMonth(year!, month!))) throw bad(`${value} is not a calendar date`)
  const first = `${match[1]}-${match[2] ?? '01'}-${match[3] ?? '01'}`
  if (field === 'after') return { from: first, until: null }
  if (field === 'before') return { from: null, until: first }
  // The year after 9999 has five digits, which would not compare as text: that year has no upper bound.
  return { from: first, until: year! < 9999 ? `${String(year! + 1).padStart(4, '0')}-01-01` : null }
}

function daysInMonth(year: number, month: number): number {
  // setUTCFullYear, unlike Date.UTC, takes years below 100 as they are; day 0 is the month's last.
  const date = new Date(0)
  date.setUTCFullYear(year, month, 0)
  return date.getUTCDate()
}

/** Flattens `(a b) c` into one AND (and likewise OR), so equal queries get equal trees. */
function combine(kind: 'and' | 'or', children: QueryNode[]): QueryNode {
  if (children.length === 1) return children[0]
  return { kind, children: children.flatMap((child) => (child.kind === kind ? child.children : [child])) }
}

/** Whether the node yields a relevance: NOT and date terms only filter. */
export function isRankable(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
      return true
    case 'not':
    case 'date':
      return false
    default:
      return node.children.some(isRankable)
  }
}

/** The distinct date terms of the query (by their canonical text), in order of first appearance. */
export function dateTerms(node: QueryNode): DateTerm[] {
  const found = new Map<string, DateTerm>()
  const visit = (n: QueryNode): void => {
    if (n.kind === 'date') {
      if (!found.has(n.text)) found.set(n.text, n)
    } else if (n.kind === 'not') visit(n.child)
    else if (n.kind !== 'term') n.children.forEach(visit)
  }
  visit(node)
  return [...found.values()]
}

export function parseQuery(input: string): QueryNode {
  if (input.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(
      `Query is too long: ${input.length.toLocaleString('en-US')} characters, at most ${MAX_QUERY_LENGTH.toLocaleString('en-US')}`,
      MAX_QUERY_LENGTH,
      'Shorten the query.'
    )
  }
  const lexer = new Lexer(input)
  if (lexer.peek().type === 'end') throw new QuerySyntaxError('Empty query', 0, 'Type something to search for, e.g. beach.')
  const root = new Parser(lexer).parseOr()
  const rest = lexer.peek()
  if (rest.type !== 'end') {
    // parseOr stops only before ")" or the end, so this is a ")" with no "(".
    throw new QuerySyntaxError(`Unbalanced ")" at position ${rest.start}`, rest.start, 'Remove it, or add the "(" it closes.')
  }
  // A query of dates has no relevance either, but it has an order: newest first.
  if (!isRankable(root) && !dateTerms(root).length) {
    throw new QuerySyntaxError(
      'A query must contain at least one term that is not negated',
      0,
      'A "-" only excludes photos, so there is nothing to rank them by: add something to search for, e.g. beach -people.'
    )
  }
  return root
}

/** The key a term's scores are looked up by: case-insensitive, and é typed either way is one term. */
export function termKey(text: string): string {
  return text.normalize('NFC').toLowerCase()
}

/** The distinct term keys (words and phrases, not dates) in the query, in order of first appearance. */
export function queryTerms(node: QueryNode): string[] {
  const keys = new Set<string>()
  const visit = (n: QueryNode): void => {
    if (n.kind === 'term') keys.add(termKey(n.text))
    else if (n.kind === 'not') visit(n.child)
    else if (n.kind !== 'date') n.children.forEach(visit)
  }
  visit(node)
  return [...keys]
}

/** The canonical text of a query: parseQuery(formatQuery(x)) has x's shape and terms. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return formatTerm(node.text)
    case 'date':
      return node.text
    case 'not':
      return '-' + (node.child.kind === 'term' || node.child.kind === 'date' ? formatQuery(node.child) : `(${formatQuery(node.child)})`)
    case 'and':
      return node.children.map((child) => (child.kind === 'or' ? `(${formatQuery(child)})` : formatQuery(child))).join(' ')
    case 'or':
      return node.children.map(formatQuery).join(' | ')
  }
}

function formatTerm(text: string): string {
  return WHOLE_WORD.test(text) ? text : `"${text.replace(/[\\"]/g, '\\$&')}"`
}
