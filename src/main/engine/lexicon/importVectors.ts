import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import { progressReporter, type Progress } from '../download/progress'
import { SdlError } from '../errors'
import { GLOVE_WORD_SPACE } from './gloveVectors'
import { forgetLoaded } from './loadedVectors'
import { VectorFileWriter, vectorFilePath } from './vectorFile'

/** How many bad lines the error lists; the count covers all of them. */
const LISTED_BAD_LINES = 5

export interface ImportResult {
  words: number
  dim: number
}

interface BadLine {
  line: number
  reason: string
}

/**
 * Imports word vectors in the fastText / word2vec text format (an optional first line
 * `count dim`, then `word v1 ... vD` per line, most frequent first) as the vectors of a word
 * space: `<dataDir>/lexicon/<wordSpace>.bin`, which the lexicon then prefers to projecting GloVe.
 * The file is streamed into a staging file beside it, which replaces any earlier import in one
 * rename only when every line was good: a file with bad lines (or fewer vectors than its first
 * line promises, as a cut-short download has) fails naming them, and the earlier import stays.
 * `dim`, when given (the pack's), makes a file of another dimension fail before anything is written.
 */
export async function importWordVectors(file: string, opts: { dataDir: string; wordSpace: string; dim?: number; onProgress?: (p: Progress) => void }): Promise<ImportResult> {
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
  let promised: number | undefined
  let lineNumber = 0
  const bad: BadLine[] = []
  let badCount = 0
  const noteBadLine = (reason: string) => {
    if (bad.length < LISTED_BAD_LINES) bad.push({ line: lineNumber, reason })
    badCount++
  }
  let values = new Float64Array(0)

  try {
    for await (const line of lines) {
      lineNumber++
      // A blank line (an editor's extra line end) holds nothing to lose.
      if (line.trim() === '') continue
      const fields = line.trimEnd().split(' ')
      if (!writer) {
        // The dimension comes from the header line, or else from the first vector line.
        const header = lineNumber === 1 && fields.length === 2 && fields.every((f) => /^\d+$/.test(f))
        const dim = header ? Number(fields[1]) : fields.length - 1
        if (dim < 1) {
          noteBadLine('a word with no values after it')
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
        if (header) {
          promised = Number(fields[0])
          continue
        }
      }
      const problem = vectorLineProblem(fields, values)
      if (problem) noteBadLine(problem)
      // After a bad line nothing more is staged: the import fails, but every bad line is still found.
      else if (!badCount && !writer.add(fields[0], values)) noteBadLine('values too large to scale to unit length')
      if (lineNumber % 4096 === 0) {
        if (!badCount) await writer.flush()
        report(input.bytesRead, total)
      }
    }
    if (badCount) {
      const listed = bad.map((b) => `line ${b.line}: ${b.reason}`).join('; ')
      const more = badCount > bad.length ? `; and ${badCount - bad.length} more` : ''
      throw new SdlError(
        `${file} has ${badCount} bad line${badCount === 1 ? '' : 's'}, so nothing was imported (${listed}${more})`,
        `Each line must be \`word v1 v2 ... vD\` with D numbers, not all zero. Fix the file and import it again; the word vectors imported before are kept until then.`
      )
    }
    if (!writer || writer.count === 0) {
      throw new SdlError(`${file} holds no word vectors`, 'Expected lines of `word v1 v2 ... vD` (fastText .vec or word2vec text format).')
    }
    if (promised !== undefined && writer.count !== promised) {
      throw new SdlError(
        `${file} holds ${writer.count} word vectors where its first line promises ${promised}, so nothing was imported`,
        'The file may be cut short: download it again. The word vectors imported before are kept until then.'
      )
    }
    await writer.finish()
    forgetLoaded(path)
    report(total, total, true)
    return { words: writer.count, dim: writer.dim }
  } catch (err) {
    await writer?.abort()
    throw err
  } finally {
    lines.close()
    input.destroy()
  }
}

/** Why `fields` is not a word and `values.length` finite numbers, not all zero; parses them into `values`. */
function vectorLineProblem(fields: readonly string[], values: Float64Array): string | null {
  const dim = values.length
  if (fields.length !== dim + 1) return `${fields.length - 1} values where the vectors have ${dim}`
  if (fields[0] === '') return 'no word before the values'
  let nonZero = false
  for (let d = 0; d < dim; d++) {
    const field = fields[d + 1]
    // Number('') is 0, so an empty field (two spaces in a row) must be caught here.
    if (field === '') return `value ${d + 1} is missing (two spaces in a row)`
    const value = Number(field)
    if (!Number.isFinite(value)) return `value ${d + 1} (${JSON.stringify(field.slice(0, 20))}) is not a finite number`
    values[d] = value
    if (value !== 0) nonZero = true
  }
  return nonZero ? null : 'every value is zero, so the vector has no direction'
}
