import { dirname } from 'node:path'
import type { XmpExportOptions, XmpExportSummary, XmpImportOptions, XmpImportSummary, XmpSidecarChange } from '../../../shared/xmp'
import { type Progress, progressReporter } from '../download/progress'
import { SdlError } from '../errors'
import { requireFolder } from '../library/folderPaths'
import type { LibraryStore } from '../library/libraryStore'
import type { AutoTagger } from '../tagging/autoTagger'
import type { TagStore } from '../tagging/tagStore'
import { ExifToolRunner, type ExifToolTags } from './exifToolRunner'
import {
  DEFAULT_ROOT,
  type FieldEntries,
  KEYWORD_READ_TAGS,
  type KeywordToWrite,
  checkRoot,
  emptyEntries,
  importableKeywords,
  planIsEmpty,
  planKeywordChanges
} from './keywordFields'
import { type SidecarWrite, readSidecars, removeAbandonedTemps, sha256, sidecarBytes, writeSidecars, xmpProblem } from './sidecarFile'
import { groupBySidecar, sidecarCandidates } from './sidecarPaths'
import { type LibraryPhoto, type XmpStore, exportSignature, signatureItem } from './xmpStore'

/** What XMP sidecars are made from: the library's folders, the user's tags, what was written, and suggestions. */
export interface XmpParts {
  photos: LibraryStore
  tags: TagStore
  sidecars: XmpStore
  /** Only export with --min-score needs it: opened then. */
  tagger: () => Promise<AutoTagger>
}

/** Sidecars per ExifTool batch. */
const CHUNK = 32
/** Batches in flight: one per ExifTool process, plus one being read and renamed meanwhile. */
const WORKERS = 3

interface ExportJob {
  sidecar: string
  photos: LibraryPhoto[]
  tags: KeywordToWrite[]
}

type ExportOutcome = { kind: 'unchanged' } | { kind: 'skipped'; reason: string } | { kind: 'written'; change: XmpSidecarChange; notes: string[] }

export interface XmpRunOptions {
  onProgress?: (p: Progress) => void
  signal?: AbortSignal
}

/**
 * XMP sidecars for the library's photos, through ExifTool: export writes the app's tags as
 * keywords (flat, `ROOT|tag` and `ROOT/tag`) and removes only keywords it wrote itself; import
 * stores the keywords users already have as their own tags. One ExifTool cluster per service,
 * ended by close() (the engine's close).
 */
export class XmpService {
  private readonly exiftool = new ExifToolRunner()

  constructor(private readonly parts: XmpParts) {}

  async exportSidecars(opts: XmpExportOptions = {}, run: XmpRunOptions = {}): Promise<XmpExportSummary> {
    const root = opts.root ?? DEFAULT_ROOT
    const rootProblem = checkRoot(root)
    if (rootProblem) throw new SdlError(`Cannot export: ${rootProblem}`, 'Choose another --root, e.g. AI.')
    const naming = opts.naming ?? 'ext'
    const dryRun = Boolean(opts.dryRun)
    const folderId = this.folderId(opts.folder)
    const xmpStore = this.parts.sidecars
    const photos = xmpStore.photos(folderId)
    const tagsByPhoto = await this.tagsToExport(photos, opts)

    const summary: XmpExportSummary = { written: 0, unchanged: 0, skipped: [], warnings: [], dryRun, cancelled: false, changes: [] }
    const jobs: ExportJob[] = []
    for (const [sidecar, group] of groupBySidecar(photos, naming)) {
      const tags = [...new Map(group.flatMap((p) => tagsByPhoto.get(p.id) ?? []).map((tag) => [signatureItem(tag), tag])).values()]
      if (group.length > 1) {
        summary.warnings.push(`${group.map((p) => p.path).join(' and ')} share ${sidecar}: it gets the tags of all of them`)
      }
      if (tags.length || xmpStore.sidecar(sidecar)) jobs.push({ sidecar, photos: group, tags })
    }

    if (!dryRun) await Promise.all([...new Set(jobs.map((job) => dirname(job.sidecar)))].map((folder) => removeAbandonedTemps(folder)))
    const report = progressReporter(run.onProgress, { phase: dryRun ? 'plan XMP' : 'write XMP', unit: 'items' })
    let done = 0
    report(0, jobs.length, true)
    await forEachChunk(jobs, run.signal, async (chunk) => {
      const outcomes = await this.exportChunk(xmpStore, chunk, root, dryRun)
      chunk.forEach((job, i) => {
        const outcome = outcomes[i]
        if (outcome.kind === 'unchanged') summary.unchanged++
        else if (outcome.kind === 'skipped') summary.skipped.push({ path: job.sidecar, reason: outcome.reason })
        else {
          summary.written++
          summary.changes.push(outcome.change)
          for (const note of outcome.notes) summary.warnings.push(`${job.sidecar}: ${note}`)
        }
      })
      report((done += chunk.length), jobs.length)
    })
    report(done, jobs.length, true)
    summary.cancelled = done < jobs.length
    summary.changes.sort((a, b) => a.sidecar.localeCompare(b.sidecar))
    summary.skipped.sort((a, b) => a.path.localeCompare(b.path))
    return summary
  }

  async importKeywords(opts: XmpImportOptions = {}, run: XmpRunOptions = {}): Promise<XmpImportSummary> {
    const root = opts.root ?? DEFAULT_ROOT
    const folderId = this.folderId(opts.folder)
    const xmpStore = this.parts.sidecars
    const tagStore = this.parts.tags
    const photos = xmpStore.photos(folderId)
    const summary: XmpImportSummary = { photos: photos.length, withKeywords: 0, imported: 0, tags: [], skipped: [], cancelled: false }
    const report = progressReporter(run.onProgress, { phase: 'read XMP', unit: 'items' })
    let done = 0
    report(0, photos.length, true)
    await forEachChunk(photos, run.signal, async (chunk) => {
      const sidecars = await Promise.all(chunk.map((photo) => this.existingSidecar(photo.path, summary)))
      const files = chunk.flatMap((photo, i) => (sidecars[i] ? [sidecars[i]!, photo.path] : [photo.path]))
      const reads = new Map((await this.exiftool.read(files, ['-File:FileType', '-ExifTool:Warning', '-ExifTool:Error', ...KEYWORD_READ_TAGS])).map((r, i) => [files[i], r]))
      chunk.forEach((photo, i) => {
        const sidecar = sidecars[i]
        let fromSidecar: ExifToolTags | null = null
        if (sidecar) {
          const r = reads.get(sidecar)!
          const problem = xmpProblem(r.tags, r.errors)
          if (problem) summary.skipped.push({ path: sidecar, reason: problem })
          else fromSidecar = r.tags
        }
        // A photo ExifTool could not read (or was not given) is reported; its sidecar's keywords still count.
        const embedded = reads.get(photo.path)!
        if (!embedded.tags) summary.skipped.push({ path: photo.path, reason: embedded.errors[0] ?? 'ExifTool could not read it' })
        const ours = sidecar ? (xmpStore.sidecar(sidecar)?.written ?? emptyEntries()) : emptyEntries()
        const { keywords, refused } = importableKeywords([fromSidecar, embedded.tags], root, ours)
        for (const r of refused) summary.skipped.push({ path: photo.path, reason: `keyword ${JSON.stringify(r.keyword)} left out: ${r.reason}` })
        if (keywords.length) summary.withKeywords++
        const added = tagStore.importPhotoTags(photo.id, keywords)
        if (added.length) {
          summary.imported += added.length
          summary.tags.push({ path: photo.path, tags: added })
        }
      })
      report((done += chunk.length), photos.length)
    })
    report(done, photos.length, true)
    summary.cancelled = done < photos.length
    summary.tags.sort((a, b) => a.path.localeCompare(b.path))
    summary.skipped.sort((a, b) => a.path.localeCompare(b.path))
    return summary
  }

  async close(): Promise<void> {
    await this.exiftool.close()
  }

  /** The first sidecar that exists, `photo.ext.xmp` before `photo.xmp`; a folder in the way is reported. */
  private async existingSidecar(photoPath: string, summary: XmpImportSummary): Promise<string | null> {
    for (const candidate of sidecarCandidates(photoPath)) {
      const found = await sidecarBytes(candidate)
      if (found === null) continue
      if ('reason' in found) {
        summary.skipped.push({ path: candidate, reason: found.reason })
        continue
      }
      return candidate
    }
    return null
  }

  private async exportChunk(xmpStore: XmpStore, jobs: readonly ExportJob[], root: string, dryRun: boolean): Promise<ExportOutcome[]> {
    const outcomes: ExportOutcome[] = new Array(jobs.length)
    const signatures = jobs.map((job) => exportSignature(job.tags, root))
    const records = jobs.map((job) => xmpStore.sidecar(job.sidecar))
    // Exported with these very tags and untouched since: nothing to read, nothing to write.
    await Promise.all(
      jobs.map(async (job, i) => {
        const record = records[i]
        if (!record || record.exportedTags !== signatures[i]) return
        const found = await sidecarBytes(job.sidecar)
        if (found && 'bytes' in found && sha256(found.bytes) === record.sha256) outcomes[i] = { kind: 'unchanged' }
      })
    )
    const pending = jobs.map((_, i) => i).filter((i) => !outcomes[i])
    const states = await readSidecars(
      this.exiftool,
      pending.map((i) => jobs[i].sidecar)
    )
    const writes: Array<{ index: number; write: SidecarWrite; ours: FieldEntries }> = []
    pending.forEach((i, k) => {
      const job = jobs[i]
      const state = states[k]
      if (state.kind === 'unusable') {
        outcomes[i] = { kind: 'skipped', reason: state.reason }
        return
      }
      const plan = planKeywordChanges(state.kind === 'file' ? state.entries : emptyEntries(), job.tags, root, records[i]?.written ?? emptyEntries())
      if (planIsEmpty(plan)) {
        if (!dryRun && state.kind === 'file')
          xmpStore.saveSidecar({ sidecarPath: job.sidecar, written: plan.ours, exportedTags: signatures[i], sha256: state.sha256 }, job.photos[0].id)
        outcomes[i] = { kind: 'unchanged' }
        return
      }
      const change: XmpSidecarChange = {
        sidecar: job.sidecar,
        photos: job.photos.map((p) => p.path),
        create: state.kind === 'missing',
        add: plan.addedTags,
        remove: plan.removedTags
      }
      outcomes[i] = { kind: 'written', change, notes: [] }
      if (!dryRun) writes.push({ index: i, write: { state, add: plan.add, remove: plan.remove }, ours: plan.ours })
    })
    const results = await writeSidecars(
      this.exiftool,
      writes.map((w) => w.write)
    )
    writes.forEach(({ index, ours }, k) => {
      const result = results[k]
      const job = jobs[index]
      if (!result.ok) {
        outcomes[index] = { kind: 'skipped', reason: result.reason }
        return
      }
      xmpStore.saveSidecar({ sidecarPath: job.sidecar, written: ours, exportedTags: signatures[index], sha256: result.sha256 }, job.photos[0].id)
      ;(outcomes[index] as { notes: string[] }).notes = result.notes
    })
    return outcomes
  }

  /** Accepted tags and the user's own (added in the app), plus suggestions at or above `minScore`. */
  private async tagsToExport(photos: readonly LibraryPhoto[], opts: XmpExportOptions): Promise<Map<number, KeywordToWrite[]>> {
    const out = new Map<number, KeywordToWrite[]>()
    for (const [id, tags] of this.parts.tags.exportableTags())
      out.set(
        id,
        tags.map((t) => (t.own ? { tag: t.tag, path: t.path } : t.tag))
      )
    if (opts.minScore === undefined) return out
    const suggested = await (await this.parts.tagger()).autotag(opts.folder, { top: opts.top ?? 10, minScore: opts.minScore })
    const idByPath = new Map(photos.map((p) => [p.path, p.id]))
    for (const { path, suggestions } of suggested) {
      const id = idByPath.get(path)
      if (id === undefined || !suggestions.length) continue
      out.set(id, [...(out.get(id) ?? []), ...suggestions.map((s) => s.tag)])
    }
    return out
  }

  private folderId(folder: string | undefined): number | undefined {
    return folder === undefined ? undefined : requireFolder(this.parts.photos, folder).id
  }
}

/**
 * Runs `work` over `items` in chunks of CHUNK, WORKERS chunks at a time; stops starting new ones
 * once `signal` aborts. A chunk goes to ExifTool as one batch: its per-command round trip, not
 * its work on a small sidecar, is what limits one-at-a-time throughput.
 */
async function forEachChunk<T>(items: readonly T[], signal: AbortSignal | undefined, work: (chunk: T[]) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const chunk = items.slice(next, (next += CHUNK))
      await work(chunk)
    }
  }
  await Promise.all(Array.from({ length: Math.min(WORKERS, Math.ceil(items.length / CHUNK)) }, worker))
}
