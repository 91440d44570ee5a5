import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkBinding } from '../server/binding'
import { type RunningWebServer, startWebServer } from '../server/webServer'
import { forkEngine } from './engineFork'
import { EngineProcess } from './engineProcess'

export { DEFAULT_HOST, DEFAULT_PORT, checkBinding } from '../server/binding'

export interface WebModeOptions {
  dataDir: string
  model?: string
  executionProvider?: string
  host: string
  port: number
  token?: string
  /** Where the one line naming the address goes: scripts (and the end-to-end tests) read it. */
  announce: (line: string) => void
  /** Messages for the person who started it. */
  info: (message: string) => void
  /** Web mode stops when this settles (Ctrl+C). */
  until: Promise<void>
}

/**
 * The built renderer: out/renderer beside the bundled CLI (out/main/cli.js, or a chunk of it in
 * out/main/chunks), or, when run from source (tests, tsx), the project's out/renderer.
 */
export function defaultRendererDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const candidates = [join(here, '../renderer'), join(here, '../../renderer'), join(here, '../../../out/renderer')]
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]
}

/**
 * Web mode, what `sdl-tagger serve` runs: the engine in a process of its own (so its synchronous
 * stretches, hashing photos or parsing the lexicon, never hold up the HTTP answers) and the web
 * server in front of it, until `until` settles.
 */
export async function runWebMode(opts: WebModeOptions): Promise<void> {
  // Refused before anything is opened or bound.
  checkBinding(opts.host, opts.token)
  const rendererDir = defaultRendererDir()
  if (!existsSync(join(rendererDir, 'index.html'))) opts.info(`warning: the app's pages are not built (${rendererDir}); run \`npm run build\`. The API works without them.`)
  const engine = new EngineProcess(() => forkEngine({ dataDir: opts.dataDir, model: opts.model, executionProvider: opts.executionProvider }))
  let server: RunningWebServer
  try {
    server = await startWebServer({
      api: engine.api,
      subscribe: (listener) => engine.subscribe(listener),
      resolveMedia: (request) => engine.resolveMedia(request),
      rendererDir,
      host: opts.host,
      port: opts.port,
      token: opts.token
    })
  } catch (err) {
    await engine.stop()
    throw err
  }
  opts.announce(`Listening on ${server.url}`)
  opts.info('Web mode is running; Ctrl+C stops.')
  engine.subscribe((event) => {
    if (event.type === 'notice') opts.info(event.message)
  })
  engine.start()
  await opts.until
  opts.info('Stopping…')
  await server.close()
  await engine.stop()
}
