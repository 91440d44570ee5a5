import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Command, InvalidArgumentError } from 'commander'
import { EngineApi } from '../../engine/api/engineApi'
import { MediaService } from '../../engine/api/media'
import { DEFAULT_HOST, DEFAULT_PORT, checkBinding } from '../../server/binding'
import { startWebServer } from '../../server/webServer'
import type { CliContext } from '../cliContext'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one)')
  return n
}

/**
 * The built renderer: out/renderer beside the bundled CLI (out/main/cli.js), or, when run from
 * source (tests, tsx), the project's out/renderer.
 */
export function defaultRendererDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const candidates = [join(here, '../renderer'), join(here, '../../../../out/renderer')]
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
      const api = new EngineApi(c.engine)
      const media = new MediaService(c.engine)
      const rendererDir = defaultRendererDir()
      if (!existsSync(join(rendererDir, 'index.html'))) c.info(`warning: the app's pages are not built (${rendererDir}); run \`npm run build\`. The API works without them.`)
      const server = await startWebServer({
        api,
        subscribe: (listener) => api.events.subscribe(listener),
        resolveMedia: (request) => media.resolve(request),
        rendererDir,
        host: opts.host,
        port: opts.port,
        token: opts.token
      })
      // The one line on stdout: scripts (and the end-to-end tests) read the address from it.
      c.streams.stdout.write(`Listening on ${server.url}\n`)
      c.info('Web mode is running; Ctrl+C stops.')
      api.events.subscribe((event) => {
        if (event.type === 'notice') c.info(event.message)
      })
      await api.start()
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      c.info('Stopping…')
      await server.close()
      await api.stop()
    })
}
