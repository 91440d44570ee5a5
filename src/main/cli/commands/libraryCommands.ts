import type { Command } from 'commander'
import type { IndexSummary } from '../../engine/library/indexer'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'
import { createProgressBar } from '../progressBar'

export function registerLibraryCommands(program: Command, ctx: () => CliContext): void {
  const folders = program.command('folders').description('the photo folders in the library')

  folders
    .command('add <folders...>')
    .description('add folders (with all their sub-folders) to the library; `index` or `watch` then reads them')
    .action(async (paths: string[]) => {
      const library = await ctx().engine.library()
      const added = paths.map((p) => library.addFolder(p))
      ctx().result(added.map((f) => `Added ${f.path}`).join('\n'), added)
    })

  folders
    .command('remove <folder>')
    .description('remove a folder from the library (its photos stay on disk; their vectors are forgotten)')
    .action(async (path: string) => {
      ;(await ctx().engine.library()).removeFolder(path)
      ctx().result(`Removed ${path}`, { removed: path })
    })

  folders
    .command('list')
    .description('list library folders')
    .action(async () => {
      const list = (await ctx().engine.library()).folders()
      const human = list.length
        ? list.map((f) => `${f.path}  ${f.photos} photos${f.offlineSince ? `  OFFLINE since ${f.offlineSince}` : ''}`).join('\n')
        : 'No folders yet. Add one with `sdl-tagger folders add <folder>`.'
      ctx().result(human, list)
    })

  program
    .command('index [folder]')
    .description('read new and changed photos of every library folder (or one) and store their principal vectors; Ctrl+C stops cleanly')
    .option('--batch <n>', 'photos per inference run', positiveInt, 16)
    .action(async (folder: string | undefined, opts: { batch: number }) => {
      const c = ctx()
      const library = await c.engine.library()
      const summary = await withCancellation(c, (signal) => {
        const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
        return library
          .index(folder, { signal, batchSize: opts.batch, onProgress: (p) => bar.update(p), onNotice: (m) => (bar.done(), c.info(m)) })
          .finally(() => bar.done())
      })
      reportSummary(c, summary)
    })

  program
    .command('watch')
    .description('index, then keep following every library folder for new, changed, moved and deleted photos until Ctrl+C')
    .option('--poll', 'poll for changes instead of native file watching (network shares)')
    .action(async (opts: { poll?: boolean }) => {
      const c = ctx()
      const library = await c.engine.library()
      c.info('Watching library folders; Ctrl+C stops.')
      await withCancellation(c, (signal) =>
        library.watch({
          signal,
          usePolling: opts.poll,
          onNotice: (m) => c.info(m),
          onApplied: (batch, s) =>
            c.info(
              `${batch.added.length} added, ${batch.changed.length} changed, ${batch.removed.length} removed: ` +
                `${s.indexed} indexed, ${s.moved} moved, ${s.failed} unreadable, ${s.removed} dropped`
            )
        })
      )
    })
}

/** Runs work that stops cleanly on Ctrl+C or SIGTERM: the batch in flight is written first. */
export async function withCancellation<T>(c: CliContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const stop = () => {
    c.info('Stopping after the current batch…')
    controller.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    return await work(controller.signal)
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

function reportSummary(c: CliContext, s: IndexSummary): void {
  if (s.failed) c.partialFailure = true
  const lines = [
    `${s.indexed} indexed, ${s.moved} moved or renamed, ${s.unchanged} unchanged, ${s.failed} unreadable, ${s.removed} removed` +
      (s.cancelled ? ' (stopped early: run `sdl-tagger index` again to continue)' : '')
  ]
  for (const folder of s.offlineFolders) lines.push(`offline: ${folder} (photos kept)`)
  if (s.failed) lines.push('Run `sdl-tagger status` to see which photos could not be read and why.')
  c.result(lines.join('\n'), s)
}
