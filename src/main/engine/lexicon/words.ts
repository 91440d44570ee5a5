/**
 * Text handling shared by the lexicon: how a search text becomes the words looked up, the
 * singular forms tried for a plural, and the spelling distance behind suggestions.
 */

/** Lower-cased (GloVe 6B and the SDL vocabulary are lower-case), NFC, single spaces, trimmed. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim()
}

/**
 * The words of a normalized text. Punctuation around a word ("dog," "(beach)") is dropped;
 * inside one ("t-shirt", "o'neill", "u.s.") it stays, because word vector vocabularies hold
 * such words whole.
 */
export function splitWords(normalized: string): string[] {
  return normalized
    .split(' ')
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w.length > 0)
}

/**
 * Singular forms to try for an English plural, most specific rule first: puppies -> puppy,
 * leaves -> leaf / leafe, beaches -> beach, dogs -> dog. Callers use one only when the plural
 * itself is unknown, so over-eager rules (bus -> bu) cost nothing: the result is simply unknown too.
 */
export function singularForms(word: string): string[] {
  if (word.length < 3 || !word.endsWith('s') || word.endsWith('ss')) return []
  const forms: string[] = []
  if (word.endsWith('ies') && word.length > 4) forms.push(word.slice(0, -3) + 'y')
  if (word.endsWith('ves')) forms.push(word.slice(0, -3) + 'f', word.slice(0, -3) + 'fe')
  if (word.endsWith('es')) forms.push(word.slice(0, -2))
  forms.push(word.slice(0, -1))
  return forms
}

/**
 * Optimal-string-alignment distance (insertions, deletions, substitutions and swaps of neighbours,
 * so "teh" is 1 from "the"), or `max + 1` as soon as it must exceed `max`: suggestions compare a
 * word with tens of thousands of candidates, and nearly all of them are rejected early.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  const cols = b.length + 1
  let prev2 = new Array<number>(cols).fill(0)
  let prev = Array.from({ length: cols }, (_, j) => j)
  let row = new Array<number>(cols).fill(0)
  for (let i = 1; i <= a.length; i++) {
    row[0] = i
    let best = i
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1)
      row[j] = d
      if (d < best) best = d
    }
    if (best > max) return max + 1
    ;[prev2, prev, row] = [prev, row, prev2]
  }
  return Math.min(prev[cols - 1], max + 1)
}
