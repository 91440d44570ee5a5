import type { Command } from 'commander'
import type { LibraryStatus } from '../../../shared/library'
import type { CliContext } from '../cliContext'

export function registerStatusCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('show the library (photos, indexed, offline, unreadable), the model packs and the execution providers')
    .action(async () => {
      const c = ctx()
      const engine = await c.engine.status()
      const library = await (await c.engine.library()).status()
      const lines = [
        `SDL Tagger ${engine.version}`,
        `data folder: ${engine.dataDir}`,
        `active model: ${engine.activeModel ? engine.activeModel.name : 'none (run `sdl-tagger model install sdl-nus-wide`)'}`,
        `model packs: ${engine.models.length ? engine.models.map((m) => m.name).join(', ') : 'none'}`,
        'execution providers (tried in this order):',
        ...engine.executionProviders.map((p) => `  ${p.name}: ${p.usable ? 'will be tried' : `skipped, ${p.reason}`}`),
        `photos: ${library.photos}, indexed by the active model: ${library.indexed}, offline: ${library.offline}, unreadable: ${library.errors.length}`,
        ...toIndex(engine.activeModel?.name, library),
        ...(library.missing ? [`missing: ${library.missing} (files gone; kept with their tags until \`sdl-tagger purge-missing\` or the grace period)`] : []),
        ...library.folders.map((f) => `  ${f.path}: ${f.photos} photos${f.offlineSince ? ' (OFFLINE)' : ''}`),
        ...library.errors.map((e) => `  unreadable: ${e.path}: ${e.reason}`)
      ]
      c.result(lines.join('\n'), { ...engine, ...library })
    })
}

/** The photos the active model has still to index, said plainly: a count of indexed photos alone reads as done. */
function toIndex(model: string | undefined, library: LibraryStatus): string[] {
  const pending = library.photos - library.errors.length - library.indexed
  if (!model || pending <= 0) return []
  return [`${pending} ${pending === 1 ? 'photo needs' : 'photos need'} indexing with ${model}: run \`sdl-tagger index\``]
}
