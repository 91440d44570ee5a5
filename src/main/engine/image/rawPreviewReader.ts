import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ExifToolRunner } from '../xmp/exifToolRunner'

/** The tags read from a RAW file besides its previews, as ExifTool prints them with -n. */
export const RAW_FACTS = [
  'FileType',
  'Orientation',
  'ImageSize',
  'Make',
  'Model',
  'DateTimeOriginal',
  'CreateDate',
  'ModifyDate',
  'OffsetTimeOriginal',
  'OffsetTimeDigitized',
  'OffsetTime'
] as const
export type RawFact = (typeof RAW_FACTS)[number]

/** What ExifTool found in one RAW file. */
export interface RawContents {
  /** Every image in ExifTool's Preview group (JpgFromRaw, PreviewImage, OtherImage, ThumbnailImage...), whatever its format. */
  previews: Array<{ tag: string; bytes: Buffer }>
  /** ExifTool's preferred value of each fact the file has. */
  facts: Partial<Record<RawFact, string>>
  /** ExifTool's warnings and errors about the file, without its 'Warning: ' prefix and the file name. */
  warnings: string[]
  errors: string[]
}

/** Files per ExifTool command; a queue longer than this waits for a process to finish its batch. */
const MAX_BATCH = 8
/** As many batches at once as the runner has processes (see ExifToolRunner). */
const CONCURRENT_BATCHES = 2

interface Request {
  path: string
  resolve: (contents: RawContents) => void
  reject: (err: unknown) => void
}

/**
 * Reads RAW files' embedded previews and facts with ExifTool, over a stay-open cluster of its own
 * (started on the first RAW, ended by close()). Requests that arrive while both processes are busy
 * are sent together, so a library of RAWs pays ExifTool's round trip once per batch.
 *
 * The previews are binary, and ExifTool's stdout is read as text: it writes them as files (-W)
 * into a temporary folder instead, one folder per RAW, which is read and removed at once. (Their
 * base64 in JSON goes through stdout too, but the cluster re-scans the whole output for every
 * chunk it gets, which for a preview of megabytes costs far more than the file.)
 */
export class RawPreviewReader {
  private readonly queue: Request[] = []
  private readonly running = new Set<Promise<void>>()
  private folder: Promise<string> | null = null
  private nextId = 0

  constructor(private readonly exifTool: Pick<ExifToolRunner, 'runMany' | 'close'> = new ExifToolRunner()) {}

  /** Never rejects for what ExifTool says about the file (that is in `errors`); rejects when ExifTool cannot run. */
  read(path: string): Promise<RawContents> {
    return new Promise((resolve, reject) => {
      this.queue.push({ path, resolve, reject })
      this.dispatch()
    })
  }

  /** Ends ExifTool and removes the temporary folder, once the reads under way are done; a later read starts again. */
  async close(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running])
    const folder = this.folder
    this.folder = null
    await this.exifTool.close()
    const path = await folder?.catch(() => null)
    if (path) await rm(path, { recursive: true, force: true })
  }

  private dispatch(): void {
    while (this.running.size < CONCURRENT_BATCHES && this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH)
      const run: Promise<void> = this.readBatch(batch).finally(() => {
        this.running.delete(run)
        this.dispatch()
      })
      this.running.add(run)
    }
  }

  private async readBatch(batch: Request[]): Promise<void> {
    let results: RawContents[]
    try {
      results = await this.readAll(batch.map((r) => r.path))
    } catch (err) {
      // The batch failed as a whole (ExifTool crashed or timed out on one file): each on its own,
      // so that only the culprit fails.
      if (batch.length > 1) {
        await Promise.all(batch.map((r) => this.readBatch([r])))
        return
      }
      batch[0].reject(err)
      return
    }
    batch.forEach((r, i) => r.resolve(results[i]))
  }

  private async readAll(paths: readonly string[]): Promise<RawContents[]> {
    const root = await this.temporaryFolder()
    const folders = paths.map(() => join(root, String(this.nextId++)))
    try {
      const outputs = await this.exifTool.runMany(paths.map((path, i) => extractCommand(resolve(path), folders[i])))
      return await Promise.all(
        outputs.map(async (output, i) => ({
          ...(await readExtracted(folders[i])),
          warnings: output.warnings.map((w) => plainMessage(w, paths[i])),
          errors: output.errors.map((e) => plainMessage(e, paths[i]))
        }))
      )
    } finally {
      await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })))
    }
  }

  private temporaryFolder(): Promise<string> {
    this.folder ??= mkdtemp(join(tmpdir(), 'sdl-tagger-raw-'))
    // A folder that could not be made is not kept: the next read tries again.
    this.folder.catch(() => (this.folder = null))
    return this.folder
  }
}

/**
 * One ExifTool command: every value (-a: previews in several directories too) written as a file
 * named after its tag, a copy number added for the second and later of a name (%-c). -api
 * Validate adds the warnings that tell a truncated file (offsets past its end).
 */
function extractCommand(path: string, folder: string): string[] {
  const pattern = join(folder.replaceAll('%', '%%'), '%t%-c.%s')
  return ['-a', '-n', '-b', '-api', 'Validate', '-charset', 'filename=utf8', '-W!', pattern, ...RAW_FACTS.map((t) => `-${t}`), '-Preview:all', path]
}

/** `Tag.ext` or `Tag-N.ext` (the Nth duplicate), as extractCommand names them. */
const EXTRACTED_NAME = /^([A-Za-z0-9_]+?)(?:-(\d+))?\.[A-Za-z0-9]+$/
const FACTS = new Set<string>(RAW_FACTS)

async function readExtracted(folder: string): Promise<Pick<RawContents, 'previews' | 'facts'>> {
  const names = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
    // ExifTool makes the folder only when it has something to write.
    if (err.code === 'ENOENT') return []
    throw err
  })
  const previews: RawContents['previews'] = []
  const facts: RawContents['facts'] = {}
  for (const name of names.sort()) {
    const match = EXTRACTED_NAME.exec(name)
    if (!match) continue
    const [, tag, copy] = match
    if (!FACTS.has(tag)) previews.push({ tag: copy ? `${tag} (${copy})` : tag, bytes: await readFile(join(folder, name)) })
    else if (!copy) facts[tag as RawFact] = (await readFile(join(folder, name), 'utf8')).trim()
  }
  return { previews, facts }
}

/** 'Warning: [minor] Bad X - /photos/a.nef' -> '[minor] Bad X'. */
function plainMessage(line: string, path: string): string {
  const withoutPrefix = line.replace(/^(warning|error):\s*/i, '')
  for (const suffix of [` - ${resolve(path)}`, ` - ${path}`]) if (withoutPrefix.endsWith(suffix)) return withoutPrefix.slice(0, -suffix.length)
  return withoutPrefix
}

let shared: RawPreviewReader | null = null

/** The reader that thumbnails, the photo view and indexing share in this thread (see closeRawPreviewReader). */
export function rawPreviewReader(): RawPreviewReader {
  shared ??= new RawPreviewReader()
  return shared
}

/** Ends this thread's ExifTool for RAW previews, if it was started: its engine closes. */
export async function closeRawPreviewReader(): Promise<void> {
  const reader = shared
  shared = null
  await reader?.close()
}
