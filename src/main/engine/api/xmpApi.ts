import type { Result, SdlTaggerApi, XmpExportEntry, XmpExportReport, XmpExportRequest } from '../../../shared/api'
import type { XmpExportSummary } from '../../../shared/xmp'
import type { Engine } from '../engine'
import { toResult } from './result'

export const XMP_METHODS = ['exportXmp'] as const

/** XMP sidecar export from the window, with the settings' naming and keyword root. */
export class XmpApi implements Pick<SdlTaggerApi, (typeof XMP_METHODS)[number]> {
  constructor(private readonly engine: Engine) {}

  exportXmp(request: XmpExportRequest): Promise<Result<XmpExportReport>> {
    return toResult(async () => {
      const settings = await this.engine.settings.get()
      const summary = await (
        await this.engine.xmp()
      ).exportSidecars({
        dryRun: request.dryRun,
        minScore: request.minScore,
        naming: (request.naming ?? settings.xmpNaming) === 'photo.xmp' ? 'adobe' : 'ext',
        root: settings.xmpRoot ?? undefined
      })
      return toXmpReport(summary)
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
  return { dryRun: summary.dryRun, written: summary.written, unchanged: summary.unchanged, failed: summary.skipped.length, entries, warnings: summary.warnings }
}
