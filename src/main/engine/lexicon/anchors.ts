import type { PackVocabulary } from '../models/packManifest'
import { normalized, type Anchors } from './projection'
import { normalizeText, splitWords } from './words'
import type { WordVectors } from './wordVectors'

/**
 * The pack's tags that the source space also knows, as projection anchors. A tag of several words
 * stands for the mean of its words' unit vectors (the same rule the lexicon applies to phrases);
 * a tag with a word the source space lacks is left out. `tagRow[i]` is anchor i's row in the
 * vocabulary.
 */
export function sharedAnchors(vocabulary: PackVocabulary, source: WordVectors): Anchors & { tagRow: Int32Array } {
  const inDim = source.dim
  const outDim = vocabulary.dim
  const inputs = new Float32Array(vocabulary.tags.length * inDim)
  const targets = new Float32Array(vocabulary.tags.length * outDim)
  const tagRow = new Int32Array(vocabulary.tags.length)
  const words: string[] = []
  let count = 0
  for (let t = 0; t < vocabulary.tags.length; t++) {
    const tagWords = splitWords(normalizeText(vocabulary.tags[t]))
    const vector = meanVector(tagWords, source)
    if (!vector) continue
    words.push(tagWords.join(' '))
    inputs.set(vector, count * inDim)
    targets.set(vocabulary.vectors.subarray(t * outDim, (t + 1) * outDim), count * outDim)
    tagRow[count++] = t
  }
  return {
    count,
    inDim,
    outDim,
    inputs: inputs.slice(0, count * inDim),
    targets: targets.slice(0, count * outDim),
    tagRow: tagRow.slice(0, count),
    words
  }
}

function meanVector(words: string[], source: WordVectors): Float32Array | null {
  if (words.length === 0) return null
  const sum = new Float32Array(source.dim)
  for (const word of words) {
    const i = source.index(word)
    if (i === undefined) return null
    const v = source.vector(i)
    for (let d = 0; d < sum.length; d++) sum[d] += v[d]
  }
  return normalized(sum)
}
