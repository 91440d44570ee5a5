import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import { progressReporter, type Progress } from '../download/progress'
import { SdlError } from '../errors'
import { GLOVE_WORD_SPACE } from './gloveVectors'
import { forgetLoaded } from './loadedVectors'
import { VectorFileWriter, vectorFilePath } from './vectorFile'

/** How many malformed line numbers the result lists; the count covers all of them. */
const LISTED_SKIPS = 5

export interface ImportResult {
  words: number
  dim: number
  /** Lines that were not `word v1 ... vD` with D finite numbers, not all zero. */
  skipped: number
  /** The first few of them, 1-based. */
  skippedLines: number[]
}

/**
 * Imports word vectors in the fastText / word2vec text format (an optional first line
 * `count dim`, then `word v1 ... vD` per line, most frequent first) as the vectors of a word
 * space: `<dataDir>/lexicon/<wordSpace>.bin`, which the lexicon then prefers to projecting GloVe.
 * The file is streamed, and the result appears in one rename, replacing any earlier import.
 * `dim`, when given (the pack's), makes a file of another dimension fail before anything is written.
 */
export async function importWordVectors(
  file: string,
  opts: { dataDir: string; wordSpace: string; dim?: number; onProgress?: (p: Progress) => void }
): Promise<ImportResult> {
  if (opts.wordSpace === GLOVE_WORD_SPACE) {
    throw new SdlError(`The ${GLOVE_WORD_SPACE} word space is built in`, 'Import vectors only for packs whose word space is something else.')
  }
  let path: string
  try {
    path = vectorFilePath(opts.dataDir, opts.wordSpace)
  } catch (err) {
    throw new SdlError((err as Error).message, 'Word-space names use letters, digits, dots, dashes and underscores.')
  }
  const total = await stat(file).then(
    (s) => s.size,
    (err: NodeJS.ErrnoException) => {
      throw new SdlError(`Cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
    }
  )
  const report = progressReporter(opts.onProgress, { phase: 'lexicon', unit: 'bytes', item: basename(file) })
  const input = createReadStream(file, { highWaterMark: 1 << 20 })
  const lines = createInterface({ input, crlfDelay: Infinity })
  let writer: VectorFileWriter | null = null
  let lineNumber = 0
  let skipped = 0
  const skippedLines: number[] = []
  const skip = () => {
    if (skippedLines.length < LISTED_SKIPS) skippedLines.push(lineNumber)
    skipped++
  }
  let values = new Float64Array(0)

  try {
    for await (const line of lines) {
      lineNumber++
      const fields = line.trimEnd().split(' ')
      if (!writer) {
        // The dimension comes from the header line, or else from the first vector line.
        const header = lineNumber === 1 && fields.length === 2 && fields.every((f) => /^\d+$/.test(f))
        const dim = header ? Number(fields[1]) : fields.length - 1
        if (dim < 1) {
          skip()
          continue
        }
        if (opts.dim !== undefined && dim !== opts.dim) {
          throw new SdlError(
            `${file} holds ${dim}-dimensional word vectors but the pack's word space ${opts.wordSpace} is ${opts.dim}-dimensional`,
            'Import the vectors the pack was trained with.'
          )
        }
        writer = new VectorFileWriter(path, dim, { source: `import of ${basename(file)}` })
        values = new Float64Array(dim)
        if (header) continue
      }
      if (fields.length !== writer.dim + 1 || fields[0] === '') {
        skip()
        continue
      }
      // Number('') is 0, so an empty field (two spaces in a row) must be caught here.
      for (let d = 0; d < writer.dim; d++) values[d] = fields[d + 1] === '' ? NaN : Number(fields[d + 1])
      if (!writer.add(fields[0], values)) skip()
      if (lineNumber % 4096 === 0) {
        await writer.flush()
        report(input.bytesRead, total)
      }
    }
    if (!writer || writer.count === 0) {
      throw new SdlError(`${file} holds no word vectors`, 'Expected lines of `word v1 v2 ... vD` (fastText .vec or word2vec text format).')
    }
    await writer.finish()
    forgetLoaded(path)
    report(total, total, true)
    return { words: writer.count, dim: writer.dim, skipped, skippedLines }
  } catch (err) {
    await writer?.abort()
    throw err
  } finally {
    lines.close()
    input.destroy()
  }
}
