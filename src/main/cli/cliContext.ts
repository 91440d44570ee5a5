import { Engine } from '../engine/engine'
import { SdlError } from '../engine/errors'
import type { ExecutionProviderChoice } from '../engine/inference/executionProviders'
import { describeDatabaseError } from '../engine/store/damage'

export interface CliStreams {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WriteStream | NodeJS.WritableStream
  /** Answers to first use's question; without one (tests, embedding), nothing is ever asked. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean }
}

export interface GlobalOptions {
  dataDir?: string
  model?: string
  ep: ExecutionProviderChoice
  json?: boolean
}

/**
 * What every command gets: the engine configured from the global options, and the two output
 * channels. With --json, stdout carries only the JSON document; every message goes to stderr.
 */
export class CliContext {
  readonly engine: Engine
  /** Set by a command that finished but had per-item failures (an unreadable photo, say). */
  partialFailure = false

  constructor(
    readonly options: GlobalOptions,
    readonly streams: CliStreams
  ) {
    this.engine = new Engine({
      dataDir: options.dataDir,
      model: options.model,
      executionProvider: options.ep,
      onProviderFallback: (a) => this.info(`${a.provider} execution provider not used: ${a.reason}`)
    })
  }

  get json(): boolean {
    return Boolean(this.options.json)
  }

  /** A progress or status message: stderr, so stdout stays clean for results. */
  info(message: string): void {
    this.streams.stderr.write(`${message}\n`)
  }

  /** A per-item problem that does not stop the command. */
  warn(message: string): void {
    this.partialFailure = true
    this.streams.stderr.write(`warning: ${message}\n`)
  }

  /** Human output, or the JSON document with --json. */
  result(human: string, json: unknown): void {
    this.streams.stdout.write(this.json ? `${JSON.stringify(json, null, 2)}\n` : human.endsWith('\n') || human === '' ? human : `${human}\n`)
  }

  get stderrIsTty(): boolean {
    return Boolean((this.streams.stderr as NodeJS.WriteStream).isTTY)
  }
}

/** An error as the user reads it; `dataDir` lets a damaged library's message name its files and backups. */
export function describeError(err: unknown, dataDir?: string): { message: string; hint?: string } {
  if (err instanceof SdlError) return { message: err.message, hint: err.hint }
  const database = describeDatabaseError(err, dataDir)
  if (database) return { message: database.message, hint: database.hint }
  if (err instanceof Error) return { message: err.message }
  return { message: String(err) }
}
