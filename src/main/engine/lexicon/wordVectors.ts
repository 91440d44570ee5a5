import { buildSlots, findWord } from './wordIndex'

/**
 * A vocabulary of words with unit vectors, in file order (for GloVe and fastText files that is
 * most frequent first, which suggestions and autocompletion rely on).
 */
export interface WordVectors {
  readonly size: number
  readonly dim: number
  word(i: number): string
  index(word: string): number | undefined
  /** Row i, unit length; callers must not write to it (it may be a view into a shared table). */
  vector(i: number): Float32Array
}

/** WordVectors held whole in memory: what a vector file of the first format loads into. */
export class MemoryWordVectors implements WordVectors {
  readonly size: number
  private readonly slots: Int32Array

  constructor(
    private readonly words: string[],
    readonly dim: number,
    /** Row-major [word][dim], each row unit length. */
    private readonly data: Float32Array
  ) {
    if (data.length !== words.length * dim) throw new Error(`${words.length} words need ${words.length * dim} values, got ${data.length}`)
    this.size = words.length
    this.slots = buildSlots(words.length, (i) => words[i])
  }

  word(i: number): string {
    return this.words[i]
  }

  index(word: string): number | undefined {
    return findWord(this.slots, word, (i) => this.words[i])
  }

  vector(i: number): Float32Array {
    return this.data.subarray(i * this.dim, (i + 1) * this.dim)
  }
}
