import type { KeywordImportReport, Result, SdlTaggerApi, XmpExportEntry, XmpExportReport, XmpExportRequest } from '../../../shared/api'
import { type XmpExportSummary, describeChoice } from '../../../shared/xmp'
import type { Engine } from '../engine'
import type { EventHub } from './eventHub'
import { toResult } from './result'

export const XMP_METHODS = ['exportXmp', 'importKeywords'] as const

/** XMP sidecar export from the window, with the settings' naming and keyword root, and the import of the keywords photos already have. */
export class XmpApi implements Pick<SdlTaggerApi, (typeof XMP_METHODS)[number]> {
  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub
  ) {}

  exportXmp(request: XmpExportRequest): Promise<Result<XmpExportReport>> {
    return toResult(async () => {
      const settings = await this.engine.settings.get()
      const summary = await (
        await this.engine.xmp()
      ).exportSidecars({
        dryRun: request.dryRun,
        photos: request.photos,
        minScore: request.minScore,
        for: request.for ?? settings.xmpFor,
        embed: request.embed ?? settings.xmpEmbed,
        keepModified: request.keepModified ?? settings.xmpKeepModified,
        root: settings.xmpRoot ?? undefined
      })
      return toXmpReport(summary)
    }, this.engine.dataDir)
  }

  importKeywords(): Promise<Result<KeywordImportReport>> {
    return toResult(async () => {
      const settings = await this.engine.settings.get()
      // The keywords under this app's own root are the ones it wrote: they are not the user's.
      const summary = await (await this.engine.xmp()).importKeywords({ root: settings.xmpRoot ?? undefined })
      if (summary.imported) this.events.emit({ type: 'library-changed', change: 'tags' })
      return { photos: summary.photos, withKeywords: summary.withKeywords, imported: summary.imported, skipped: summary.skipped }
    }, this.engine.dataDir)
  }
}

/** The XMP service's summary as the export screen lists it: one entry per sidecar, and per photo skipped. */
function toXmpReport(summary: XmpExportSummary): XmpExportReport {
  const entries: XmpExportEntry[] = summary.changes.map((c) => ({
    photoPath: c.photos.join(' + '),
    sidecarPath: c.sidecar,
    action: c.create ? 'create' : 'update',
    tags: c.add,
    removed: c.remove
  }))
  for (const s of summary.skipped) entries.push({ photoPath: s.path, sidecarPath: '', action: 'error', tags: [], reason: s.reason })
  return {
    dryRun: summary.dryRun,
    written: summary.written,
    unchanged: summary.unchanged,
    failed: summary.skipped.length,
    entries,
    warnings: [...summary.choices.map(describeChoice), ...summary.warnings],
    choices: summary.choices,
    embedded: { written: summary.embedded.written, unchanged: summary.embedded.unchanged, files: summary.embedded.changes }
  }
}
