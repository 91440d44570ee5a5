import { type Command, InvalidArgumentError } from 'commander'
import { DEFAULT_HOST, DEFAULT_PORT, checkBinding, runWebMode } from '../../host/webMode'
import type { CliContext } from '../cliContext'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one)')
  return n
}

export function registerServeCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description(`the app in a browser (web mode): the window's API and pages over HTTP, on ${DEFAULT_HOST} unless --host is given; Ctrl+C stops`)
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, DEFAULT_PORT)
    .option('--host <host>', 'address to listen on; any but the loopback address needs --token', DEFAULT_HOST)
    .option('--token <token>', 'secret every browser must present (opened once as ?token=…, then kept in a cookie)')
    .action(async (opts: { port: number; host: string; token?: string }) => {
      // Refused before the data folder is touched.
      checkBinding(opts.host, opts.token)
      const c = ctx()
      await runWebMode({
        dataDir: c.engine.dataDir,
        model: c.options.model,
        executionProvider: c.options.ep,
        host: opts.host,
        port: opts.port,
        token: opts.token,
        // The one line on stdout.
        announce: (line) => c.streams.stdout.write(`${line}\n`),
        info: (message) => c.info(message),
        until: new Promise<void>((resolve) => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
        })
      })
    })
}
