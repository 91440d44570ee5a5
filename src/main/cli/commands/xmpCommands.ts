import { type Command, InvalidArgumentError, Option } from 'commander'
import { XMP_PROGRAMS, type XmpExportSummary, type XmpImportSummary, type XmpSidecarsFor, describeChoice } from '../../../shared/xmp'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'
import { createProgressBar } from '../progressBar'
import { withCancellation } from './libraryCommands'

function finiteNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number')
  return n
}

const NAMING_FOR = { ext: 'darktable', adobe: 'lightroom' } as const satisfies Record<string, XmpSidecarsFor>

export function registerXmpCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('export-xmp [folder]')
    .description(
      "write each photo's tags to its XMP sidecar (dc:subject, lr:hierarchicalSubject `AI|tag`, digiKam:TagsList `AI/tag`), " +
        'changing nothing else; keywords this app wrote before and no longer has are removed, yours never. A photo with a sidecar ' +
        '(photo.ext.xmp or photo.xmp) gets that one updated; a new one is named for --for'
    )
    .option('--dry-run', 'read the sidecars and list what would change, writing nothing')
    .option('--min-score <s>', 'also write suggestions scoring at least this (accepted tags are always written)', finiteNumber)
    .option('--top <n>', 'at most this many suggestions per photo (with --min-score)', positiveInt, 10)
    .addOption(
      new Option(
        '--for <program>',
        'name new sidecars for this program: photo.xmp (lightroom, capture-one) or photo.ext.xmp (darktable, digikam); auto: as the ' +
          "folder's other sidecars, else photo.ext.xmp (default: the xmpFor setting, auto)"
      ).choices(['auto', ...XMP_PROGRAMS])
    )
    .addOption(
      // The option before --for existed; scripts written for it keep working.
      new Option('--naming <style>', 'older form of --for: ext (photo.ext.xmp, as --for darktable) or adobe (photo.xmp, as --for lightroom)').choices(['ext', 'adobe']).hideHelp()
    )
    .option('--embed', 'also write the keywords into JPEG, TIFF, DNG and HEIC files themselves (metadata only; the image data is checked unchanged)')
    .option('--no-embed', 'write sidecars only, whatever the xmpEmbed setting says')
    .option('--keep-mtime', 'with --embed: a photo written into keeps its modification time')
    .option('--no-keep-mtime', 'with --embed: a photo written into gets the time of the write')
    .option('--root <name>', 'first level of the hierarchical keywords', 'AI')
    .action(
      async (
        folder: string | undefined,
        opts: { dryRun?: boolean; minScore?: number; top: number; for?: XmpSidecarsFor; naming?: 'ext' | 'adobe'; embed?: boolean; keepMtime?: boolean; root: string }
      ) => {
        const c = ctx()
        const settings = await c.engine.settings.get()
        const xmp = await c.engine.xmp()
        const summary = await withCancellation(c, (signal) => {
          const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
          return xmp
            .exportSidecars(
              {
                folder,
                dryRun: opts.dryRun,
                minScore: opts.minScore,
                top: opts.top,
                for: opts.for ?? (opts.naming && NAMING_FOR[opts.naming]) ?? settings.xmpFor,
                embed: opts.embed ?? settings.xmpEmbed,
                keepModified: opts.keepMtime ?? settings.xmpKeepModified,
                root: opts.root
              },
              { signal, onProgress: (p) => bar.update(p) }
            )
            .finally(() => bar.done())
        })
        for (const choice of summary.choices) c.info(`note: ${describeChoice(choice)}`)
        for (const w of summary.warnings) c.info(`note: ${w}`)
        for (const s of summary.skipped) c.warn(`${s.path}: ${s.reason}`)
        c.result(describeExport(summary), summary)
      }
    )

  program
    .command('import-xmp [folder]')
    .description(
      'store the keywords your photos already have (sidecars photo.jpg.xmp and photo.xmp, and the photo itself: dc:subject, ' +
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
  for (const f of s.embedded.changes) {
    const parts = [f.add.length ? `+ ${f.add.join(', ')}` : '', f.remove.length ? `- ${f.remove.join(', ')}` : ''].filter(Boolean)
    lines.push(`${f.file} (in the file): ${parts.join('  ')}`)
  }
  const verb = s.dryRun ? 'would be written' : 'written'
  const embedded = s.embedded.written || s.embedded.unchanged ? `; ${s.embedded.written} photo files ${verb}, ${s.embedded.unchanged} unchanged` : ''
  lines.push(
    `${s.written} sidecars ${verb}, ${s.unchanged} unchanged${embedded}, ${s.skipped.length} skipped` +
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
