/**
 * The query with its unknown word replaced by a suggestion, for a clickable "did you mean". The
 * engine names the word as it looked it up (lower case), so the first whole-word match in any case
 * is replaced; quotes, operators and the other words stay as typed.
 */
export function correctQuery(query: string, word: string, replacement: string): string {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').exec(query)
  return match ? query.slice(0, match.index) + replacement + query.slice(match.index + match[0].length) : replacement
}
