import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Command, InvalidArgumentError } from 'commander'
import { EngineProcess } from '../../app/engineProcess'
import { DEFAULT_HOST, DEFAULT_PORT, checkBinding } from '../../server/binding'
import { forkEngine } from '../../server/engineFork'
import { type RunningWebServer, startWebServer } from '../../server/webServer'
import type { CliContext } from '../cliContext'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one)')
  return n
}

/**
 * The built renderer: out/renderer beside the bundled CLI (out/main/cli.js, or a chunk of it in
 * out/main/chunks), or, when run from
 * source (tests, tsx), the project's out/renderer.
 */
export function defaultRendererDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const candidates = [join(here, '../renderer'), join(here, '../../renderer'), join(here, '../../../../out/renderer')]
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]
}

export function registerServeCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description(`the app in a browser (web mode): the window's API and pages over HTTP, on ${DEFAULT_HOST} unless --host is given; Ctrl+C stops`)
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, DEFAULT_PORT)
    .option('--host <host>', 'address to listen on; any but the loopback address needs --token', DEFAULT_HOST)
    .option('--token <token>', 'secret every browser must present (opened once as ?token=…, then kept in a cookie)')
    .action(async (opts: { port: number; host: string; token?: string }) => {
      // Refused before anything is opened or bound.
      checkBinding(opts.host, opts.token)
      const c = ctx()
      const rendererDir = defaultRendererDir()
      if (!existsSync(join(rendererDir, 'index.html'))) c.info(`warning: the app's pages are not built (${rendererDir}); run \`npm run build\`. The API works without them.`)
      // The engine works in a process of its own, so its synchronous stretches (hashing photos,
      // parsing the lexicon) never hold up the HTTP answers.
      const engine = new EngineProcess(() => forkEngine({ dataDir: c.engine.dataDir, model: c.options.model, executionProvider: c.options.ep }))
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
      // The one line on stdout: scripts (and the end-to-end tests) read the address from it.
      c.streams.stdout.write(`Listening on ${server.url}\n`)
      c.info('Web mode is running; Ctrl+C stops.')
      engine.subscribe((event) => {
        if (event.type === 'notice') c.info(event.message)
      })
      engine.start()
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      c.info('Stopping…')
      await server.close()
      await engine.stop()
    })
}
