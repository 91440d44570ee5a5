import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { progressReporter, type Progress } from '../download/progress'
import { JsonScanner, type JsonHandler } from './jsonScanner'
import { VectorFileWriter } from './vectorFile'

/**
 * Converts a word-embedding JSON in the format of the wink-embeddings packages into a vector file:
 *
 *   { "dimensions": 100, "words": [...most frequent first...],
 *     "vectors": { "the": [v1 ... v100, l2norm, index], ... }, ...other keys ignored }
 *
 * The file is streamed, so memory holds the word list and a few MB, never the 300 MB document.
 * The vectors object must list the words in the order of "words" (wink's does), which lets each
 * vector go straight to the output in frequency order.
 */
export async function convertWinkEmbeddings(
  jsonPath: string,
  outPath: string,
  opts: { source: string; onProgress?: (p: Progress) => void }
): Promise<{ words: number; dim: number }> {
  const total = (await stat(jsonPath)).size
  const report = progressReporter(opts.onProgress, { phase: 'lexicon', unit: 'bytes', item: 'glove-6b-100d' })
  const reader = new WinkReader((dim) => new VectorFileWriter(outPath, dim, { source: opts.source }), jsonPath)
  const scanner = new JsonScanner(reader)
  let done = 0
  try {
    for await (const chunk of createReadStream(jsonPath, { highWaterMark: 1 << 20 })) {
      scanner.write(chunk as Buffer)
      await reader.writer?.flush()
      done += (chunk as Buffer).length
      report(done, total)
    }
    scanner.end()
    const writer = reader.complete()
    await writer.finish()
    report(done, total, true)
    return { words: writer.count, dim: writer.dim }
  } catch (err) {
    await reader.writer?.abort()
    throw err
  }
}

/** Picks "dimensions", "words" and "vectors" out of the token stream. */
class WinkReader implements JsonHandler {
  writer: VectorFileWriter | null = null
  private depth = 0
  private topKey = ''
  private dim = 0
  private readonly words: string[] = []
  private section: 'words' | 'vectors' | null = null
  private word = ''
  private values: Float64Array | null = null
  private valueCount = 0
  private seen = 0

  constructor(
    private readonly createWriter: (dim: number) => VectorFileWriter,
    private readonly path: string
  ) {}

  beginObject(): void {
    this.depth++
    if (this.depth === 2 && this.topKey === 'vectors') {
      if (!this.dim || this.words.length === 0) throw this.layoutError('"dimensions" and "words" must come before "vectors"')
      this.section = 'vectors'
      this.writer = this.createWriter(this.dim)
      this.values = new Float64Array(this.dim)
    }
  }

  endObject(): void {
    if (this.depth === 2) this.section = null
    this.depth--
  }

  beginArray(): void {
    this.depth++
    if (this.depth === 2 && this.topKey === 'words') this.section = 'words'
    if (this.depth === 3 && this.section === 'vectors') this.valueCount = 0
  }

  endArray(): void {
    if (this.depth === 2) this.section = null
    if (this.depth === 3 && this.section === 'vectors') this.endVector()
    this.depth--
  }

  key(name: string): void {
    if (this.depth === 1) this.topKey = name
    else if (this.depth === 2 && this.section === 'vectors') this.word = name
  }

  string(value: string): void {
    if (this.depth === 2 && this.section === 'words') this.words.push(value)
  }

  number(value: number): void {
    if (this.depth === 3 && this.section === 'vectors') {
      if (this.valueCount < this.dim) this.values![this.valueCount] = value
      this.valueCount++
    } else if (this.depth === 1 && this.topKey === 'dimensions') {
      if (!Number.isInteger(value) || value < 1) throw this.layoutError(`"dimensions" is ${value}`)
      this.dim = value
    }
  }

  literal(): void {}

  /** The writer, once the document is known to have held a vector for every word. */
  complete(): VectorFileWriter {
    if (!this.writer) throw this.layoutError('no "vectors" object')
    if (this.seen !== this.words.length) throw this.layoutError(`${this.words.length} words but ${this.seen} vectors`)
    return this.writer
  }

  private endVector(): void {
    if (this.valueCount < this.dim) throw this.layoutError(`the vector of "${this.word}" has ${this.valueCount} values, not ${this.dim}`)
    if (this.words[this.seen] !== this.word) {
      throw this.layoutError(`vector ${this.seen} is "${this.word}" but word ${this.seen} is "${this.words[this.seen]}"`)
    }
    // An all-zero vector cannot be normalised and would match nothing: the word is left out.
    this.writer!.add(this.word, this.values!)
    this.seen++
  }

  private layoutError(what: string): Error {
    return new Error(`${this.path} is not in the wink embeddings layout: ${what}`)
  }
}
