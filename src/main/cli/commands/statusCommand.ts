import type { Command } from 'commander'
import type { CliContext } from '../cliContext'

export function registerStatusCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('show the data folder, the installed model packs and the usable execution providers')
    .action(async () => {
      const status = await ctx().engine.status()
      const lines = [
        `SDL Tagger ${status.version}`,
        `data folder: ${status.dataDir}`,
        `active model: ${status.activeModel ? status.activeModel.name : 'none (run `sdl-tagger model install sdl-nus-wide`)'}`,
        `model packs: ${status.models.length ? status.models.map((m) => m.name).join(', ') : 'none'}`,
        'execution providers (tried in this order):',
        ...status.executionProviders.map((p) => `  ${p.name}: ${p.usable ? 'will be tried' : `skipped, ${p.reason}`}`)
      ]
      ctx().result(lines.join('\n'), status)
    })
}
