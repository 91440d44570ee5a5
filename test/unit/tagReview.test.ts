import { describe, expect, it } from 'vitest'
import { photosToReview, tagsToReview } from '../../src/main/engine/tagging/tagReview'

describe('review by tag', () => {
  const photos = [
    { photoId: 1, suggestions: [tagged('beach', 0.9), tagged('sea', 0.5)] },
    { photoId: 2, suggestions: [tagged('Sea', 0.7), tagged('beach', 0.4)] },
    { photoId: 3, suggestions: [tagged('dog', 0.95), { ...tagged('Rex', 0.6), learnedFrom: 4 }] },
    { photoId: 4, suggestions: [tagged('beach', 0.9)] }
  ]

  it('ranks tags by the photos waiting on them, then by mean score; one keyword in any case counts once', () => {
    expect(tagsToReview(photos)).toEqual([
      { tag: 'beach', photos: 3, meanScore: expect.closeTo((0.9 + 0.4 + 0.9) / 3, 6), unseen: false },
      { tag: 'sea', photos: 2, meanScore: expect.closeTo(0.6, 6), unseen: false },
      { tag: 'dog', photos: 1, meanScore: expect.closeTo(0.95, 6), unseen: false },
      { tag: 'Rex', photos: 1, meanScore: expect.closeTo(0.6, 6), unseen: true, learnedFrom: 4 }
    ])
  })

  it('lists a tag’s photos best first, the older photo first among equal scores', () => {
    expect(photosToReview(photos, 'BEACH')).toEqual([
      { photoId: 1, score: 0.9 },
      { photoId: 4, score: 0.9 },
      { photoId: 2, score: 0.4 }
    ])
    expect(photosToReview(photos, 'cat')).toEqual([])
  })
})

function tagged(tag: string, score: number) {
  return { tag, score, unseen: tag === 'Rex' }
}
