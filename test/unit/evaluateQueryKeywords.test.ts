import { describe, expect, it } from 'vitest'
import { evaluateQuery, type TermScores } from '../../src/main/engine/search/evaluateQuery'
import { parseQuery } from '../../src/main/engine/search/queryParser'

const term = (score: number[], applies: number[], first?: number[]): TermScores => ({
  score: Float32Array.from(score),
  applies: Uint8Array.from(applies),
  first: first && Uint8Array.from(first)
})

// Photos 0-4. 'kenya' is a keyword the user gave photos 1 and 3; its learned vector scores the rest.
const terms = new Map<string, TermScores>([
  ['kenya', term([0.9, 0.1, 0.8, 0.2, 0.7], [1, 1, 1, 1, 0], [0, 1, 0, 1, 0])],
  ['nana', term([0.5, 0.5, 0.5, 0.6, 0.5], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0])],
  ['dog', term([0.3, 0.4, 0.9, 0.1, 0.2], [1, 1, 1, 0, 1])]
])
const ranked = (query: string, all = false) => {
  const result = evaluateQuery(parseQuery(query), terms, 5, { all })
  return { order: Array.from(result.matches), kept: result.kept }
}

describe('a keyword term in a query: the photos that carry it first, then by score', () => {
  it('ranks its carriers before every photo its vector scores, each group by score', () => {
    expect(ranked('kenya')).toEqual({ order: [3, 1, 0, 2], kept: 4 })
    expect(ranked('kenya', true)).toEqual({ order: [3, 1, 0, 2, 4], kept: 5 })
  })

  it('counts the keywords a photo carries under AND, the best one under OR', () => {
    // AND: photo 3 carries both; 1 and 2 one each (by relevance, the min: 1 → 0.1, 2 → 0.5); 0 none.
    expect(ranked('kenya nana')).toEqual({ order: [3, 2, 1, 0], kept: 4 })
    // OR: photos 1, 2, 3 carry one (relevance the max: 2 → 0.8, 3 → 0.6, 1 → 0.5), then 0 and 4.
    expect(ranked('kenya | nana')).toEqual({ order: [2, 3, 1, 0, 4], kept: 5 })
    // A word without carriers leaves the keyword's order: 3 does not match dog.
    expect(ranked('kenya dog')).toEqual({ order: [1, 2, 0], kept: 3 })
  })

  it('still puts the photos an exclusion rules out last under --all', () => {
    // -dog rules out 0, 1, 2, 4 (dog applies there): only 3 passes; the rest follow, carriers first.
    expect(ranked('kenya -dog', true)).toEqual({ order: [3, 1, 0, 2, 4], kept: 1 })
  })
})
