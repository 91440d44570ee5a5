/**
 * The hash table that finds a word's row in a word-vector table: open addressing over word
 * indices (-1: empty), at most half full. Several times faster to build than a Map of 341k
 * strings, and a plain Int32Array, so a vector file can store it and be searched without building
 * anything (vectorFile.ts).
 */

/** FNV-1a over UTF-16 code units. */
export function hashWord(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** The table of `count` words; a word listed twice keeps its first (more frequent) row. */
export function buildSlots(count: number, wordAt: (i: number) => string): Int32Array {
  let capacity = 16
  while (capacity < count * 2) capacity *= 2
  const slots = new Int32Array(capacity).fill(-1)
  const mask = capacity - 1
  for (let i = 0; i < count; i++) {
    const word = wordAt(i)
    let slot = hashWord(word) & mask
    for (;;) {
      const j = slots[slot]
      if (j < 0) {
        slots[slot] = i
        break
      }
      if (wordAt(j) === word) break
      slot = (slot + 1) & mask
    }
  }
  return slots
}

/** The row of `word` in a table made by buildSlots, or undefined. */
export function findWord(slots: Int32Array, word: string, wordAt: (i: number) => string): number | undefined {
  const mask = slots.length - 1
  let slot = hashWord(word) & mask
  for (;;) {
    const j = slots[slot]
    if (j < 0) return undefined
    if (wordAt(j) === word) return j
    slot = (slot + 1) & mask
  }
}
