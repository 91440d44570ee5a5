/**
 * Spelling as a similarity, for the projection into fastText spaces: a fastText vector is the mean
 * of a word's own vector and its character n-grams' vectors, so words that share n-grams
 * ("stars", "star") share part of their vectors whatever GloVe says about them.
 */

/** fastText's n-gram lengths: 3 to 6 characters of the word wrapped in '<' and '>'. */
const MIN_GRAM = 3
const MAX_GRAM = 6

/** The counted character n-grams of each word of `text` (a normalized word or phrase). */
export function charNgrams(text: string): Map<string, number> {
  const grams = new Map<string, number>()
  for (const word of text.split(' ')) {
    if (!word) continue
    const wrapped = `<${word}>`
    for (let len = MIN_GRAM; len <= MAX_GRAM; len++) {
      for (let start = 0; start + len <= wrapped.length; start++) {
        const gram = wrapped.slice(start, start + len)
        grams.set(gram, (grams.get(gram) ?? 0) + 1)
      }
    }
  }
  return grams
}

/**
 * The cosine between n-gram count vectors of a text and each of a fixed list of texts, through an
 * inverted index, so a lookup costs only the texts that share an n-gram with it.
 */
export class SpellingIndex {
  /** n-gram -> [row, count / |row's counts|] for each text that has it. */
  private readonly postings = new Map<string, Array<[number, number]>>()

  constructor(private readonly texts: readonly string[]) {
    texts.forEach((text, row) => {
      const grams = charNgrams(text)
      const norm = countNorm(grams)
      for (const [gram, count] of grams) {
        let list = this.postings.get(gram)
        if (!list) this.postings.set(gram, (list = []))
        list.push([row, count / norm])
      }
    })
  }

  /** cos(n-grams of `text`, n-grams of texts[row]) for every row; 0 where none is shared. */
  similarities(text: string): Float64Array {
    const out = new Float64Array(this.texts.length)
    const grams = charNgrams(text)
    const norm = countNorm(grams)
    for (const [gram, count] of grams) {
      const list = this.postings.get(gram)
      if (!list) continue
      const w = count / norm
      for (const [row, v] of list) out[row] += w * v
    }
    return out
  }
}

function countNorm(grams: Map<string, number>): number {
  let s = 0
  for (const c of grams.values()) s += c * c
  return Math.sqrt(s) || 1
}
