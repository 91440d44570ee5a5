import { SdlError } from '../errors'

/**
 * The search box's query language.
 *
 *   query   := or
 *   or      := and ("|" and)*                 "|" binds looser than juxtaposition: a b | c = (a b) | c
 *   and     := unary unary*                   AND is juxtaposition, spaced or not: dog beach, (cat|dog)-indoor
 *   unary   := "-" primary | primary          the "-" touches what it negates: -people, -"two words", -(a | b)
 *   primary := WORD | PHRASE | "(" or ")"
 *
 * WORD     a letter or digit, then letters, digits, combining marks and zero-width joiners; one of
 *          ' ’ - . _ may join two such runs (t-shirt, rock'n'roll, 3.5mm, snake_case). A joiner belongs
 *          to the word only when a letter or digit follows it, so `dog.` and `dogs'` are errors. A "-"
 *          that starts a token negates; one inside a word is part of it (t-shirt, not t AND NOT shirt).
 * PHRASE   "…" where \" is a quote and \\ a backslash (any other backslash is literal). Its text is
 *          trimmed and each whitespace run becomes one space. A phrase is one term, like a word.
 * Space    Unicode White_Space, plus the invisible U+200B and U+FEFF that pasted text carries.
 *          Any other character outside a phrase is an error, rather than silently dropped.
 *
 * Positions are UTF-16 offsets into the input (what String.prototype.slice counts); a term's
 * [start, end) covers what the user typed, quotes included, so a front end can underline it.
 */
export type QueryNode = { kind: 'term'; text: string; start: number; end: number } | { kind: 'and' | 'or'; children: QueryNode[] } | { kind: 'not'; child: QueryNode }

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

type Token = { type: 'word' | 'phrase'; text: string; start: number; end: number } | { type: '(' | ')' | '|' | '-' | 'end'; start: number; end: number }

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
    if (token.type === 'word' || token.type === 'phrase') {
      if (++this.termCount > MAX_QUERY_TERMS) {
        throw new QuerySyntaxError(
          `Too many terms: the term at position ${token.start} is number ${this.termCount}, at most ${MAX_QUERY_TERMS} are allowed`,
          token.start,
          `Use at most ${MAX_QUERY_TERMS} words and phrases.`
        )
      }
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
  return token.type === 'word' || token.type === 'phrase' || token.type === '(' || token.type === '-'
}

/** Flattens `(a b) c` into one AND (and likewise OR), so equal queries get equal trees. */
function combine(kind: 'and' | 'or', children: QueryNode[]): QueryNode {
  if (children.length === 1) return children[0]
  return { kind, children: children.flatMap((child) => (child.kind === kind ? child.children : [child])) }
}

/** Whether the node yields a relevance: NOT only filters, so a query needs a term outside every NOT. */
function isRankable(node: QueryNode): boolean {
  switch (node.kind) {
    case 'term':
      return true
    case 'not':
      return false
    default:
      return node.children.some(isRankable)
  }
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
  if (!isRankable(root)) {
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

/** The distinct term keys in the query, in order of first appearance. */
export function queryTerms(node: QueryNode): string[] {
  const keys = new Set<string>()
  const visit = (n: QueryNode): void => {
    if (n.kind === 'term') keys.add(termKey(n.text))
    else if (n.kind === 'not') visit(n.child)
    else n.children.forEach(visit)
  }
  visit(node)
  return [...keys]
}

/** The canonical text of a query: parseQuery(formatQuery(x)) has x's shape and terms. */
export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return formatTerm(node.text)
    case 'not':
      return '-' + (node.child.kind === 'term' ? formatTerm(node.child.text) : `(${formatQuery(node.child)})`)
    case 'and':
      return node.children.map((child) => (child.kind === 'or' ? `(${formatQuery(child)})` : formatQuery(child))).join(' ')
    case 'or':
      return node.children.map(formatQuery).join(' | ')
  }
}

function formatTerm(text: string): string {
  return WHOLE_WORD.test(text) ? text : `"${text.replace(/[\\"]/g, '\\$&')}"`
}
