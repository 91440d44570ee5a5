import { describe, expect, it } from 'vitest'
import { confidenceOf, describeScore, scoreScale } from '../../src/shared/confidence'
import { correctQuery } from '../../src/renderer/src/lib/correctQuery'

describe('scores as confidence levels', () => {
  it("places 'very likely' at the 90th percentile of the photos' best scores and 'likely' at two thirds of it", () => {
    // Best scores of 11 photos: the 90th percentile is the 10th smallest.
    const scale = scoreScale([0.05, 0.1, 0.2, 0.22, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.95])!
    expect(scale.veryLikely).toBe(0.6)
    expect(scale.likely).toBeCloseTo(0.4, 10)
    expect(confidenceOf(0.61, scale)).toBe('very likely')
    expect(confidenceOf(0.6, scale)).toBe('very likely')
    expect(confidenceOf(0.45, scale)).toBe('likely')
    expect(confidenceOf(0.39, scale)).toBe('possible')
  })

  it('follows the scale of the model: the same levels for scores a hundred times larger, and below zero', () => {
    const small = [0.05, 0.1, 0.3, 0.62, 0.7]
    const large = scoreScale(small.map((s) => s * 100))!
    const levels = (scale: NonNullable<ReturnType<typeof scoreScale>>, factor: number) => [0.02, 0.3, 0.45, 0.65].map((s) => confidenceOf(s * factor, scale))
    expect(levels(large, 100)).toEqual(levels(scoreScale(small)!, 1))
    expect(levels(large, 100)).toEqual(['possible', 'possible', 'likely', 'very likely'])
    const negative = scoreScale([-3, -2, -1.5])!
    expect(negative.likely).toBeLessThan(negative.veryLikely)
    expect(confidenceOf(-2.5, negative)).toBe('likely')
  })

  it('has no scale without scores, and then shows the number itself', () => {
    expect(scoreScale([])).toBeNull()
    expect(scoreScale([Number.NaN])).toBeNull()
    expect(describeScore(0.12345, null)).toBe('0.123')
    expect(describeScore(null, { likely: 1, veryLikely: 2 })).toBe('not scored')
    expect(describeScore(3, { likely: 1, veryLikely: 2 })).toBe('very likely')
  })
})

describe('did you mean', () => {
  it('replaces the unknown word only, in any case, keeping the rest of the query', () => {
    expect(correctQuery('sunset -Beachhx', 'beachhx', 'beach')).toBe('sunset -beach')
    expect(correctQuery('"red carr" | truck', 'carr', 'car')).toBe('"red car" | truck')
    // A whole word: 'carr' inside 'carrot' stays.
    expect(correctQuery('carrot carr', 'carr', 'car')).toBe('carrot car')
    expect(correctQuery('a.b', 'a.b', 'ab')).toBe('ab')
  })
})
