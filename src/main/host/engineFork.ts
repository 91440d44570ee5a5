import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EngineChild } from './engineProcess'
import type { FromEngine } from './engineChannel'

export interface EngineForkOptions {
  dataDir: string
  model?: string
  executionProvider?: string
  /** The Node binary to run it on (default: this process's). */
  execPath?: string
}

/**
 * The engine process's entry: out/main/engine.js beside the bundled CLI (which may sit in
 * out/main/chunks), or src/main/engineProcess.ts when running from source (tests, tsx).
 */
export function engineEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(new URL('.', import.meta.url))
  for (const file of [join(here, 'engine.js'), join(here, '../engine.js')]) if (existsSync(file)) return { file, execArgv: [] }
  return { file: join(here, 'engineMain.ts'), execArgv: ['--import', 'tsx'] }
}

/** Starts the engine in a Node child process that talks structured-cloned messages over IPC. */
export function forkEngine(opts: EngineForkOptions): EngineChild {
  const entry = engineEntry()
  const child = fork(entry.file, [], {
    execPath: opts.execPath,
    execArgv: entry.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      SDL_TAGGER_DATA_DIR: opts.dataDir,
      SDL_TAGGER_MODEL: opts.model ?? '',
      SDL_TAGGER_EP: opts.executionProvider ?? '',
      // sharp decodes on libuv's pool (4 threads by default): size it to the machine, as bin/ does.
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, availableParallelism()))
    }
  })
  return {
    // A message to a process that just died is answered by its exit, not by an error event.
    postMessage: (message) => void child.send(message, () => {}),
    on: (event: 'message' | 'exit', listener: ((message: FromEngine) => void) | ((code: number) => void)) =>
      event === 'message' ? child.on('message', listener as (m: unknown) => void) : child.on('exit', (code) => (listener as (code: number) => void)(code ?? -1)),
    kill: () => child.kill()
  } as EngineChild
}
