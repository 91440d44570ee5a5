/**
 * A vocabulary of words with unit vectors, in file order (for GloVe and fastText files that is
 * most frequent first, which suggestions and autocompletion rely on).
 */
export class WordVectors {
  readonly size: number
  /** Open-addressing hash table of word indices (-1: empty), several times faster to build than a Map of 341k strings. */
  private readonly slots: Int32Array
  private readonly mask: number

  constructor(
    private readonly words: string[],
    readonly dim: number,
    /** Row-major [word][dim], each row unit length. */
    private readonly data: Float32Array
  ) {
    if (data.length !== words.length * dim) throw new Error(`${words.length} words need ${words.length * dim} values, got ${data.length}`)
    this.size = words.length
    let capacity = 16
    while (capacity < words.length * 2) capacity *= 2
    this.slots = new Int32Array(capacity).fill(-1)
    this.mask = capacity - 1
    for (let i = 0; i < words.length; i++) {
      let slot = hash(words[i]) & this.mask
      for (;;) {
        const j = this.slots[slot]
        if (j < 0) {
          this.slots[slot] = i
          break
        }
        if (words[j] === words[i]) break // listed twice: the first (more frequent) entry wins
        slot = (slot + 1) & this.mask
      }
    }
  }

  word(i: number): string {
    return this.words[i]
  }

  index(word: string): number | undefined {
    let slot = hash(word) & this.mask
    for (;;) {
      const j = this.slots[slot]
      if (j < 0) return undefined
      if (this.words[j] === word) return j
      slot = (slot + 1) & this.mask
    }
  }

  /** A view into the table, not a copy: callers must not write to it. */
  vector(i: number): Float32Array {
    return this.data.subarray(i * this.dim, (i + 1) * this.dim)
  }
}

/** FNV-1a over UTF-16 code units. */
function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}
