import { SdlError } from '../errors'
import type { QualityLabel } from './keywordLearning'
import { keywordKey, keywordText } from './keywordText'
import type { LearnedKeywordRow } from './learnedKeywordStore'
import type { KeywordPath, TagStore } from './tagStore'

export interface KeywordListing {
  keyword: string
  /** Levels from the top of its hierarchy down to the keyword itself. */
  path: string[]
  photos: number
  /** What its word vector was learned from (the photos that carry it) and how well it works; null: not learned. */
  learned: { examples: number; quality: QualityLabel } | null
}

/** The user's keywords as a whole: listing, renaming and merging them. Needs the library only, never the model. */
export class KeywordBook {
  constructor(private readonly tags: TagStore) {}

  /** The user's keywords, each with what was learned for it among `learned` (the active model's). */
  list(learned: readonly LearnedKeywordRow[] = []): KeywordListing[] {
    const byKey = new Map(learned.map((l) => [l.key, { examples: l.examples, quality: l.quality }]))
    return this.tags.userKeywords().map((k) => ({ ...k, learned: byKey.get(keywordKey(k.keyword)) ?? null }))
  }

  /** Renames `from` to `to`; onto another keyword, the two merge under the new spelling. Returns the keyword's spelling after. */
  rename(from: string, to: string): string {
    const source = this.existing(from)
    const text = keywordText(to)
    const target = this.tags.findKeyword(text)
    if (!target || keywordKey(text) === keywordKey(source.text)) {
      this.tags.renameKeyword(source, text)
      return text
    }
    this.tags.mergeKeywords(target, source)
    this.tags.renameKeyword(target, text)
    return text
  }

  /** Every photo carrying `from` gets `into`, and `from` goes. Returns `into`'s spelling. */
  merge(into: string, from: string): string {
    const target = this.existing(into)
    const source = this.existing(from)
    if (keywordKey(target.text) === keywordKey(source.text))
      throw new SdlError(`'${into}' and '${from}' are the same keyword`, 'Keywords that differ only in case are one keyword already.')
    this.tags.mergeKeywords(target, source)
    return target.text
  }

  private existing(text: string): KeywordPath {
    const found = this.tags.findKeyword(text)
    if (!found) throw new SdlError(`No keyword '${text}'`, 'See your keywords with `sdl-tagger keywords list`.')
    return found
  }
}
