import { type Command, InvalidArgumentError, Option } from 'commander'
import type { XmpExportSummary, XmpImportSummary, XmpNaming } from '../../../shared/xmp'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'
import { createProgressBar } from '../progressBar'
import { withCancellation } from './libraryCommands'

function finiteNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number')
  return n
}

export function registerXmpCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('export-xmp [folder]')
    .description(
      "write each photo's tags to its XMP sidecar (dc:subject, lr:hierarchicalSubject `AI|tag`, digiKam:TagsList `AI/tag`), " +
        'changing nothing else; keywords this app wrote before and no longer has are removed, yours never'
    )
    .option('--dry-run', 'read the sidecars and list what would change, writing nothing')
    .option('--min-score <s>', 'also write suggestions scoring at least this (accepted tags are always written)', finiteNumber)
    .option('--top <n>', 'at most this many suggestions per photo (with --min-score)', positiveInt, 10)
    .addOption(new Option('--naming <style>', 'sidecar names: photo.jpg.xmp (ext) or photo.xmp (adobe, Lightroom)').choices(['ext', 'adobe']).default('ext'))
    .option('--root <name>', 'first level of the hierarchical keywords', 'AI')
    .action(async (folder: string | undefined, opts: { dryRun?: boolean; minScore?: number; top: number; naming: XmpNaming; root: string }) => {
      const c = ctx()
      const xmp = await c.engine.xmp()
      const summary = await withCancellation(c, (signal) => {
        const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
        return xmp
          .exportSidecars(
            { folder, dryRun: opts.dryRun, minScore: opts.minScore, top: opts.top, naming: opts.naming, root: opts.root },
            { signal, onProgress: (p) => bar.update(p) }
          )
          .finally(() => bar.done())
      })
      for (const w of summary.warnings) c.info(`note: ${w}`)
      for (const s of summary.skipped) c.warn(`${s.path}: ${s.reason}`)
      c.result(describeExport(summary), summary)
    })

  program
    .command('import-xmp [folder]')
    .description(
      'store the keywords your photos already have (sidecar photo.jpg.xmp or photo.xmp, and the photo itself: dc:subject, ' +
        'lr:hierarchicalSubject, digiKam:TagsList, MicrosoftPhoto, IPTC) as your own tags'
    )
    .option('--root <name>', 'hierarchy root of the keywords this app writes (not imported)', 'AI')
    .action(async (folder: string | undefined, opts: { root: string }) => {
      const c = ctx()
      const xmp = await c.engine.xmp()
      const summary = await withCancellation(c, (signal) => {
        const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
        return xmp.importKeywords({ folder, root: opts.root }, { signal, onProgress: (p) => bar.update(p) }).finally(() => bar.done())
      })
      for (const s of summary.skipped) c.warn(`${s.path}: ${s.reason}`)
      c.result(describeImport(summary), summary)
    })
}

function describeExport(s: XmpExportSummary): string {
  const lines = s.changes.map((ch) => {
    const parts = [ch.add.length ? `+ ${ch.add.join(', ')}` : '', ch.remove.length ? `- ${ch.remove.join(', ')}` : ''].filter(Boolean)
    return `${ch.sidecar}${ch.create ? ' (new)' : ''}: ${parts.join('  ')}`
  })
  const verb = s.dryRun ? 'would be written' : 'written'
  lines.push(
    `${s.written} sidecars ${verb}, ${s.unchanged} unchanged, ${s.skipped.length} skipped` +
      (s.dryRun ? ' (dry run: nothing was written)' : '') +
      (s.cancelled ? ' (stopped early: run it again to finish)' : '')
  )
  return lines.join('\n')
}

function describeImport(s: XmpImportSummary): string {
  const lines = s.tags.map((t) => `${t.path}: ${t.tags.join(', ')}`)
  lines.push(
    `${s.imported} tags imported from ${s.withKeywords} of ${s.photos} photos with keywords, ${s.skipped.length} sidecars skipped` +
      (s.cancelled ? ' (stopped early: run it again to finish)' : '')
  )
  return lines.join('\n')
}
