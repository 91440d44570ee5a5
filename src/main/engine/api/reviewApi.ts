import type { Result, ReviewPage, ReviewPageRequest, ReviewTag, SdlTaggerApi } from '../../../shared/api'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { keywordKey } from '../tagging/keywordText'
import { type PhotoSuggestions, photosToReview, tagsToReview } from '../tagging/tagReview'
import { toResult } from './result'

export const REVIEW_METHODS = ['reviewTags', 'reviewTag'] as const

/**
 * Review by tag: the tags suggested for photos not decided on them, and one tag's photos best
 * first, a page at a time. Each photo's suggestions are as its photo view lists them (the
 * settings' count and minimum score), read from the stored vocabulary scores.
 */
export class ReviewApi implements Pick<SdlTaggerApi, (typeof REVIEW_METHODS)[number]> {
  constructor(private readonly engine: Engine) {}

  reviewTags(): Promise<Result<ReviewTag[]>> {
    return toResult(async () => tagsToReview(await this.suggestions()), this.engine.dataDir)
  }

  reviewTag(tag: string, request: ReviewPageRequest): Promise<Result<ReviewPage>> {
    return toResult(async () => {
      const found = photosToReview(await this.suggestions(), tag)
      if (!found.length) await this.requireKnown(tag)
      const page = found.slice(request.offset, request.offset + request.limit)
      const scores = new Map(page.map((p) => [p.photoId, p.score]))
      const { catalog } = await this.engine.repositories()
      const photos = catalog.summaries(page.map((p) => p.photoId)).map((p) => ({ ...p, score: scores.get(p.id)! }))
      return { tag, total: found.length, offset: request.offset, photos }
    }, this.engine.dataDir)
  }

  private async suggestions(): Promise<PhotoSuggestions[]> {
    const settings = await this.engine.settings.get()
    return (await this.engine.tagger()).suggestionsByPhoto(undefined, { top: settings.suggestionCount, minScore: settings.minScore ?? undefined })
  }

  /** A tag no photo is waiting on is fine (all decided); one the model cannot suggest at all is a mistake worth naming. */
  private async requireKnown(tag: string): Promise<void> {
    const key = keywordKey(tag)
    if ((await (await this.engine.tagger()).vocabulary()).tags.some((t) => keywordKey(t) === key)) return
    throw new SdlError(`'${tag}' is not in the vocabulary`, 'Only the model’s words, your custom words and your learned keywords are suggested; pick a tag from the review list.')
  }
}
