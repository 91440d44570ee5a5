import { closeSync, readSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { findWord } from './wordIndex'
import type { WordVectors } from './wordVectors'

/** Closes the file of a table nothing refers to any more (one whose file a new import replaced, say). */
const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd)
  } catch {
    // Already closed: nothing to free.
  }
})

/** Where a FileWordVectors reads its rows, and what it throws for one that fails its checksum. */
export interface VectorRows {
  path: string
  fd: number
  /** Byte offset of row 0. */
  offset: number
  damaged: (message: string) => Error
}

/**
 * The words of a vector file in memory (a few MB for GloVe, with the file's own hash table) and
 * its vectors left on disk: a row is read, and checked against its checksum, when it is asked
 * for. Opening GloVe this way takes milliseconds where reading its 136 MB of vectors took a large
 * part of a second, and a search asks for a handful of rows.
 */
export class FileWordVectors implements WordVectors {
  constructor(
    private readonly rows: VectorRows,
    readonly size: number,
    readonly dim: number,
    private readonly rowChecksums: Uint32Array,
    /** Where each word ends in `words`; it starts where the one before ends. */
    private readonly wordEnds: Uint32Array,
    private readonly slots: Int32Array,
    /** Every word, UTF-8, back to back. */
    private readonly words: Buffer
  ) {
    closer.register(this, rows.fd)
  }

  word(i: number): string {
    return this.words.toString('utf8', i === 0 ? 0 : this.wordEnds[i - 1], this.wordEnds[i])
  }

  index(word: string): number | undefined {
    return findWord(this.slots, word, (i) => this.word(i))
  }

  /** A fresh copy of row i. */
  vector(i: number): Float32Array {
    const row = new Float32Array(this.dim)
    const bytes = new Uint8Array(row.buffer)
    const got = readSync(this.rows.fd, bytes, 0, bytes.length, this.rows.offset + i * bytes.length)
    if (got !== bytes.length || crc32(bytes) !== this.rowChecksums[i]) {
      throw this.rows.damaged(`${this.rows.path} is damaged: the vector of '${this.word(i)}' does not match its checksum`)
    }
    return row
  }
}
