import type { Command } from 'commander'
import type { IndexSummary } from '../../engine/library/indexer'
import type { CliContext } from '../cliContext'
import { ageInDays, positiveInt } from '../options'
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
    .description('take a folder out of the library (its files are not touched; its photos are kept as missing, with their tags, until purged)')
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
        return library.index(folder, { signal, batchSize: opts.batch, onProgress: (p) => bar.update(p), onNotice: (m) => (bar.done(), c.info(m)) }).finally(() => bar.done())
      })
      reportSummary(c, summary)
    })

  program
    .command('purge-missing')
    .description('forget photos whose files are gone (kept until now with their vectors and tags); see `status` for how many there are')
    .option('--older-than <age>', 'only photos missing for longer than this, e.g. 30d (default: all of them)', ageInDays)
    .option('--dry-run', 'list what would be forgotten, forget nothing')
    .action(async (opts: { olderThan?: number; dryRun?: boolean }) => {
      const library = await ctx().engine.library()
      const photos = opts.dryRun ? library.missingPhotos(opts.olderThan) : await library.purgeMissing(opts.olderThan)
      const decisions = photos.reduce((n, p) => n + p.decisions, 0)
      const verb = opts.dryRun ? 'Would forget' : 'Forgot'
      const human = photos.length
        ? [
            `${verb} ${photos.length} missing photo${photos.length === 1 ? '' : 's'} and ${decisions} tag decision${decisions === 1 ? '' : 's'} on them:`,
            ...photos.map((p) => `  ${p.path} (missing since ${p.missingSince})`)
          ].join('\n')
        : 'No missing photos to forget.'
      ctx().result(human, { dryRun: Boolean(opts.dryRun), photos, decisions })
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
                `${s.indexed} indexed, ${s.moved} moved, ${s.failed} unreadable, ${s.missing} missing`
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
    `${s.indexed} indexed, ${s.moved} moved or renamed, ${s.unchanged} unchanged, ${s.failed} unreadable, ${s.missing} missing` +
      (s.removed ? `, ${s.removed} forgotten (missing longer than the grace period)` : '') +
      (s.cancelled ? ' (stopped early: run `sdl-tagger index` again to continue)' : '')
  ]
  for (const folder of s.offlineFolders) lines.push(`offline: ${folder} (photos kept)`)
  if (s.missing) lines.push('Missing photos are kept with their tags; a file of the same content found later takes them back. `sdl-tagger purge-missing` forgets them.')
  if (s.failed) lines.push('Run `sdl-tagger status` to see which photos could not be read and why.')
  c.result(lines.join('\n'), s)
}
