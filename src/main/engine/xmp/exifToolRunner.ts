import { availableParallelism } from 'node:os'
import type { ExifTool } from 'exiftool-vendored'
import { SdlError } from '../errors'
import { spawnExifToolExitingOnEof } from './exifToolProcess'
import { pngMetadataProblem } from './pngMetadataSize'

/** What one ExifTool command printed: stdout, and its stderr lines split into errors and warnings. */
export interface ExifToolOutput {
  stdout: string
  errors: string[]
  warnings: string[]
}

/** One ExifTool read of a file: its tags as `Group1:Name` keys, every value quoted (JSONQ). */
export type ExifToolTags = Record<string, unknown>

export interface ReadResult {
  tags: ExifToolTags | null
  errors: string[]
}

/**
 * ExifTool's reading options for everything we compare or parse: family-1 groups (`XMP-dc`,
 * `XMP-lr`, `IPTC`) so fields are never confused across namespaces, structures kept whole, and
 * JSONQ so a keyword like `2019` or `1.50` comes back as the string it is, not a number.
 */
/** Ends each command's stderr in a batch (see runMany). */
const END_MARKER = '==sdl-tagger-end-'

const READ_ARGS = [
  // -m: ExifTool otherwise stops at 1,000 items of a list, as a "minor error".
  '-m',
  '-json',
  '-G1',
  '-a',
  '-struct',
  '-api',
  'StructFormat=JSONQ',
  '-charset',
  'filename=utf8'
]

/**
 * The app's ExifTool: one `exiftool-vendored` cluster of stay-open processes (the bundled Perl
 * ExifTool; the system perl on Linux and macOS), started on first use. Commands are raw ExifTool
 * arguments, so list items are added and removed with `+=`/`-=` one value per argument, and no
 * `-sep` ever splits a keyword on its commas.
 */
export class ExifToolRunner {
  private tool: Promise<ExifTool> | null = null

  /** Runs one ExifTool command (no `-execute`: the cluster adds it). Never throws for ExifTool's own errors. */
  async run(args: readonly string[]): Promise<ExifToolOutput> {
    return (await this.runMany([args]))[0]
  }

  /**
   * Runs several ExifTool commands as one task, so a batch of sidecars pays the round trip to
   * the perl process once: each command but the last ends with `-executeN` (ExifTool answers
   * `{readyN}` on stdout) and echoes a marker to stderr when done, which splits the output back.
   */
  async runMany(commands: ReadonlyArray<readonly string[]>): Promise<ExifToolOutput[]> {
    if (!commands.length) return []
    const tool = await this.start()
    const ArgsTask = await argsTaskClass()
    const args: string[] = []
    commands.forEach((command, i) => {
      args.push(...command, '-echo4', `${END_MARKER}${i}`)
      if (i < commands.length - 1) args.push(`-execute${i + 1}`)
    })
    // ignoreMinorErrors off: a minor problem (an empty list ExifTool drops) must be heard.
    const { stdout, stderr } = await tool.enqueueTask(() => new ArgsTask(args, { ignoreMinorErrors: false }), false)
    const stdoutParts = stdout.split(/^\{ready\d+\}\r?$/m)
    const stderrParts = stderr.split(new RegExp(`^${END_MARKER}\\d+\\r?$`, 'm'))
    return commands.map((_, i) => {
      const lines = (stderrParts[i] ?? '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
      return {
        stdout: stdoutParts[i] ?? '',
        errors: lines.filter((l) => !/^warning\b/i.test(l) && /error/i.test(l)),
        warnings: lines.filter((l) => /^warning\b/i.test(l))
      }
    })
  }

  /**
   * Reads files in one command (all of their tags, or only `tags` such as `-XMP-dc:Subject`), in
   * the order given; a file ExifTool could not read gets null tags and the errors naming it. A
   * PNG whose metadata would exhaust ExifTool's memory is not given to it, and when the command
   * fails as a whole (a file that takes too long, or crashes ExifTool), its files are read again
   * one by one, so only the culprit fails.
   */
  async read(files: readonly string[], tags: readonly string[] = []): Promise<ReadResult[]> {
    const refused = await Promise.all(files.map((file) => pngMetadataProblem(file)))
    const readable = files.filter((_, i) => refused[i] === null)
    const reads = new Map((await this.readIsolating(readable, tags)).map((r, i) => [readable[i], r]))
    return files.map((file, i) => reads.get(file) ?? { tags: null, errors: [refused[i]!] })
  }

  private async readIsolating(files: readonly string[], tags: readonly string[]): Promise<ReadResult[]> {
    if (!files.length) return []
    // ExifTool that cannot start is the caller's error, not any one file's.
    await this.start()
    try {
      return await this.readTogether(files, tags)
    } catch (err) {
      if (files.length > 1) return (await Promise.all(files.map((file) => this.readIsolating([file], tags)))).flat()
      return [{ tags: null, errors: [`ExifTool could not read it: ${(err as Error).message}`] }]
    }
  }

  private async readTogether(files: readonly string[], tags: readonly string[]): Promise<ReadResult[]> {
    const output = await this.run([...READ_ARGS, ...tags, ...files])
    let parsed: ExifToolTags[]
    try {
      parsed = output.stdout.trim() ? (JSON.parse(output.stdout) as ExifToolTags[]) : []
    } catch {
      parsed = []
    }
    const bySource = new Map(parsed.map((t) => [String(t.SourceFile), t]))
    return files.map((file) => {
      const found = bySource.get(file) ?? null
      const errors = found ? [] : output.errors.filter((e) => files.length === 1 || e.includes(file))
      return { tags: found, errors }
    })
  }

  async close(): Promise<void> {
    const tool = this.tool
    this.tool = null
    await (await tool?.catch(() => null))?.end()
  }

  private start(): Promise<ExifTool> {
    this.tool ??= (async () => {
      const { ExifTool } = await import('exiftool-vendored')
      const tool = new ExifTool({
        // Two perl processes keep two cores busy; more only queue for the same cores.
        maxProcs: Math.max(1, Math.min(2, availableParallelism())),
        // Starting a fresh perl is slow next to a small task; the default recycles one every 500 tasks.
        maxTasksPerProcess: 20_000,
        // A failed read is retried file by file (read), and a write again would find its temporary copy there.
        taskRetries: 0,
        // Windows runs exiftool.exe, not perl with a script.
        processFactory: process.platform === 'win32' ? undefined : spawnExifToolExitingOnEof
      })
      try {
        await tool.version()
      } catch (err) {
        await tool.end().catch(() => {})
        throw new SdlError(
          `ExifTool, which reads and writes XMP sidecars, could not start: ${(err as Error).message}`,
          process.platform === 'win32' ? 'Reinstall SDL Tagger: its ExifTool is missing.' : 'ExifTool runs on perl: install perl (e.g. `apt install perl`), then try again.'
        )
      }
      return tool
    })()
    // A failed start is not kept: the user may install perl and retry in the same process.
    this.tool.catch(() => (this.tool = null))
    return this.tool
  }
}

interface RawOutput {
  stdout: string
  stderr: string
}

type ArgsTaskClass = new (args: string[], options: { ignoreMinorErrors: boolean }) => import('exiftool-vendored').ExifToolTask<RawOutput>
let argsTask: Promise<ArgsTaskClass> | null = null

/** An ExifTool task that hands back stdout and the whole of stderr, for the caller to split and judge. */
function argsTaskClass(): Promise<ArgsTaskClass> {
  argsTask ??= import('exiftool-vendored').then(
    ({ ExifToolTask }) =>
      class ArgsTask extends ExifToolTask<RawOutput> {
        private stderrText = ''

        override onStderr(buf: string | Buffer): void {
          this.stderrText += buf.toString()
          super.onStderr(buf)
        }

        protected parse(stdout: string): RawOutput {
          return { stdout, stderr: this.stderrText }
        }
      }
  )
  return argsTask
}
