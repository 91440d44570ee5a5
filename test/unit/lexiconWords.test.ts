import { describe, expect, it } from 'vitest'
import { editDistance, normalizeText, singularForms, splitWords } from '../../src/main/engine/lexicon/words'

describe('lexicon words', () => {
  it('normalizes case, Unicode form and spacing', () => {
    expect(normalizeText('  Red\tCAR \n')).toBe('red car')
    expect(normalizeText('Cafe\u0301')).toBe('caf\u00e9')
  })

  it('splits words, dropping punctuation around them but not inside', () => {
    expect(splitWords("dog, (beach) — t-shirt o'neill u.s. ...")).toEqual(['dog', 'beach', 't-shirt', "o'neill", 'u.s'])
  })

  it('offers singular forms for plurals, most specific first', () => {
    expect(singularForms('puppies')).toEqual(['puppy', 'puppi', 'puppie'])
    expect(singularForms('beaches')).toEqual(['beach', 'beache'])
    expect(singularForms('leaves')).toEqual(['leaf', 'leafe', 'leav', 'leave'])
    expect(singularForms('dogs')).toEqual(['dog'])
    expect(singularForms('glass')).toEqual([])
    expect(singularForms('is')).toEqual([])
    expect(singularForms('dog')).toEqual([])
  })

  it('measures edit distance with swaps, stopping past the limit', () => {
    expect(editDistance('beech', 'beach', 2)).toBe(1)
    expect(editDistance('teh', 'the', 2)).toBe(1)
    expect(editDistance('beech', 'been', 2)).toBe(2)
    expect(editDistance('kitten', 'sitting', 2)).toBe(3)
    expect(editDistance('qwzxv', 'dog', 2)).toBe(3)
    expect(editDistance('', 'ab', 2)).toBe(2)
    expect(editDistance('same', 'same', 2)).toBe(0)
  })
})
