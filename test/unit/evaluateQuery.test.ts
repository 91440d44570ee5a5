import { describe, expect, it } from 'vitest'
import { evaluateQuery, type TermScores } from '../../src/main/engine/search/evaluateQuery'
import { formatQuery, parseQuery, type QueryNode } from '../../src/main/engine/search/queryParser'
import { prng } from '../helpers/prng'

const WORDS = ['sky', 'dog', 'beach', 'car', 'tree', 'people']

/** Coarse scores so ties are common; -0 and a rare NaN exercise the edge cases of the ordering. */
function randomTerms(random: () => number, photoCount: number): Map<string, TermScores> {
  const terms = new Map<string, TermScores>()
  for (const word of WORDS) {
    const score = new Float32Array(photoCount)
    const applies = new Uint8Array(photoCount)
    for (let p = 0; p < photoCount; p++) {
      const r = random()
      score[p] = r < 0.02 ? NaN : r < 0.1 ? -0 : Math.round(random() * 8 - 4) / 4
      applies[p] = random() < 0.45 ? 1 : 0
    }
    terms.set(word, { score, applies })
  }
  return terms
}

function randomTree(random: () => number, depth: number): QueryNode {
  const r = random()
  if (depth === 0 || r < 0.35) return { kind: 'term', text: WORDS[Math.floor(random() * WORDS.length)], start: 0, end: 0 }
  if (r < 0.5) return { kind: 'not', child: randomTree(random, depth - 1) }
  const children = Array.from({ length: 2 + Math.floor(random() * 2) }, () => randomTree(random, depth - 1))
  return { kind: r < 0.75 ? 'and' : 'or', children }
}

/** The definitions, one photo at a time, written plainly. */
function matchOf(node: QueryNode, terms: Map<string, TermScores>, p: number): boolean {
  switch (node.kind) {
    case 'term':
    case 'date':
      return terms.get(node.text)!.applies[p] === 1
    case 'not':
      return !matchOf(node.child, terms, p)
    case 'and':
      return node.children.every((c) => matchOf(c, terms, p))
    case 'or':
      return node.children.some((c) => matchOf(c, terms, p))
  }
}

function relevanceOf(node: QueryNode, terms: Map<string, TermScores>, p: number): number | null {
  switch (node.kind) {
    case 'term':
      return terms.get(node.text)!.score[p]
    case 'not':
    case 'date':
      return null
    default: {
      const values = node.children.map((c) => relevanceOf(c, terms, p)).filter((v): v is number => v !== null)
      if (values.length === 0) return null
      return node.kind === 'and' ? Math.min(...values) : Math.max(...values)
    }
  }
}

function passOf(node: QueryNode, terms: Map<string, TermScores>, p: number): boolean {
  switch (node.kind) {
    case 'term':
      return true
    case 'date':
      return matchOf(node, terms, p)
    case 'not':
      return !matchOf(node.child, terms, p)
    case 'and':
      return node.children.every((c) => passOf(c, terms, p))
    case 'or':
      return node.children.some((c) => passOf(c, terms, p))
  }
}

function reference(node: QueryNode, terms: Map<string, TermScores>, photoCount: number, all: boolean) {
  const rows = []
  for (let p = 0; p < photoCount; p++) {
    if (!all && !matchOf(node, terms, p)) continue
    const relevance = relevanceOf(node, terms, p)!
    rows.push({ p, relevance, pass: all ? passOf(node, terms, p) : true })
  }
  const rank = (v: number) => (Number.isNaN(v) ? -Infinity : v)
  rows.sort((a, b) => Number(b.pass) - Number(a.pass) || rank(b.relevance) - rank(a.relevance) || a.p - b.p)
  return { matches: rows.map((r) => r.p), relevance: rows.map((r) => r.relevance), kept: rows.filter((r) => r.pass).length }
}

/** `limit` is defined as the first `limit` entries of the full ranking. */
function prefix(full: ReturnType<typeof reference>, limit = Infinity) {
  return { matches: full.matches.slice(0, limit), relevance: full.relevance.slice(0, limit), kept: Math.min(full.kept, limit) }
}

function plain(result: { matches: Uint32Array; relevance: Float32Array; kept: number }) {
  return { matches: Array.from(result.matches), relevance: Array.from(result.relevance), kept: result.kept }
}

function hasRelevance(node: QueryNode): boolean {
  return node.kind === 'term' || (node.kind !== 'not' && node.kind !== 'date' && node.children.some(hasRelevance))
}

describe('evaluateQuery', () => {
  it('a single term: photos where it applies, by score, ties by index', () => {
    const terms = new Map([['dog', { score: new Float32Array([0.5, 0.9, 0.5, 0.1, 0.9]), applies: new Uint8Array([1, 1, 1, 0, 1]) }]])
    expect(plain(evaluateQuery(parseQuery('dog'), terms, 5))).toEqual({
      matches: [1, 4, 0, 2],
      relevance: [Math.fround(0.9), Math.fround(0.9), 0.5, 0.5],
      kept: 4
    })
    expect(plain(evaluateQuery(parseQuery('DOG'), terms, 5, { all: true, limit: 5 })).matches).toEqual([1, 4, 0, 2, 3])
  })

  it('AND takes the min, OR the max; NOT filters and, under all, sends excluded photos last', () => {
    const terms = new Map([
      ['beach', { score: new Float32Array([0.8, 0.6, 0.4, 0.2]), applies: new Uint8Array([1, 1, 1, 0]) }],
      ['dog', { score: new Float32Array([0.1, 0.7, 0.9, 0.3]), applies: new Uint8Array([1, 1, 1, 1]) }],
      ['people', { score: new Float32Array([0, 0, 0.9, 0]), applies: new Uint8Array([0, 0, 1, 0]) }]
    ])
    const f = Math.fround
    expect(plain(evaluateQuery(parseQuery('beach dog'), terms, 4))).toEqual({ matches: [1, 2, 0], relevance: [f(0.6), f(0.4), f(0.1)], kept: 3 })
    expect(plain(evaluateQuery(parseQuery('beach | dog'), terms, 4)).relevance).toEqual([f(0.9), f(0.8), f(0.7), f(0.3)])
    expect(plain(evaluateQuery(parseQuery('beach -people'), terms, 4))).toEqual({ matches: [0, 1], relevance: [f(0.8), f(0.6)], kept: 2 })
    // Photo 2 scores higher than 3 on beach, but people applies there: it comes after everything kept.
    expect(plain(evaluateQuery(parseQuery('beach -people'), terms, 4, { all: true }))).toEqual({
      matches: [0, 1, 3, 2],
      relevance: [f(0.8), f(0.6), f(0.2), f(0.4)],
      kept: 3
    })
  })

  it('equals the brute-force definition on random queries, with and without all and limit', () => {
    const random = prng(7)
    const photoCount = 500
    const terms = randomTerms(random, photoCount)
    const before = structuredClone(terms)
    let checked = 0
    while (checked < 300) {
      const tree = randomTree(random, 3)
      if (!hasRelevance(tree)) continue
      checked++
      // The canonical tree (flattened, via the parser) must mean the same as the one built here.
      const canonical = parseQuery(formatQuery(tree))
      for (const all of [false, true]) {
        const expected = reference(tree, terms, photoCount, all)
        expect(plain(evaluateQuery(tree, terms, photoCount, { all }))).toEqual(expected)
        expect(plain(evaluateQuery(canonical, terms, photoCount, { all }))).toEqual(expected)
        // Small limits take the heap, large ones the sort; both must agree with the full ranking's prefix.
        for (const limit of [0, 1, 3, Math.floor(random() * 40), Math.floor(random() * 600)]) {
          expect(plain(evaluateQuery(tree, terms, photoCount, { all, limit }))).toEqual(prefix(expected, limit))
        }
      }
    }
    expect(terms).toEqual(before)
  })

  it('single terms on random scores, including the heap with heavy ties', () => {
    const random = prng(11)
    const photoCount = 500
    const terms = randomTerms(random, photoCount)
    terms.set('flat', { score: new Float32Array(photoCount).fill(1), applies: new Uint8Array(photoCount).fill(1) })
    for (const word of [...WORDS, 'flat']) {
      const node = parseQuery(word)
      for (const all of [false, true]) {
        const expected = reference(node, terms, photoCount, all)
        for (const limit of [undefined, 0, 1, 7, 30, 250, 499, 500, 501]) {
          expect(plain(evaluateQuery(node, terms, photoCount, { all, limit }))).toEqual(prefix(expected, limit))
        }
      }
    }
  })

  it('rejects a missing term and a bad limit', () => {
    const terms = new Map([['dog', { score: new Float32Array(2), applies: new Uint8Array(2) }]])
    expect(() => evaluateQuery(parseQuery('dog cat'), terms, 2)).toThrow('No scores for the query term "cat"')
    expect(() => evaluateQuery(parseQuery('dog'), terms, 3)).toThrow('cover fewer than 3 photos')
    expect(() => evaluateQuery(parseQuery('dog'), terms, 2, { limit: -1 })).toThrow(RangeError)
    expect(() => evaluateQuery(parseQuery('dog'), terms, 2, { limit: 1.5 })).toThrow(RangeError)
  })

  it('evaluates 1M photos (time printed, not asserted)', () => {
    const photoCount = 1_000_000
    const random = prng(3)
    const terms = new Map<string, TermScores>()
    for (const word of ['cat', 'dog', 'indoor', 'sofa']) {
      const score = new Float32Array(photoCount)
      const applies = new Uint8Array(photoCount)
      for (let p = 0; p < photoCount; p++) {
        score[p] = random() * 2 - 1
        applies[p] = random() < 0.3 ? 1 : 0
      }
      terms.set(word, { score, applies })
    }
    const node = parseQuery('(cat | dog) sofa -indoor')
    for (const opts of [{}, { limit: 100 }, { all: true }, { all: true, limit: 100 }]) {
      const started = performance.now()
      const result = evaluateQuery(node, terms, photoCount, opts)
      const ms = performance.now() - started
      console.log(`1M photos, ${formatQuery(node)}, ${JSON.stringify(opts)}: ${result.matches.length} results in ${ms.toFixed(1)} ms`)
      let ordered = true
      for (let i = 1; i < result.kept; i++) ordered &&= result.relevance[i] <= result.relevance[i - 1]
      expect(ordered).toBe(true)
    }
  })
})
