import { dirname, extname } from 'node:path'
import type { XmpExportOptions, XmpExportSummary, XmpImportOptions, XmpImportSummary, XmpSidecarChoice, XmpSidecarsFor } from '../../../shared/xmp'
import { type Progress, progressReporter } from '../download/progress'
import { SdlError } from '../errors'
import { requireFolder } from '../library/folderPaths'
import type { LibraryStore } from '../library/libraryStore'
import type { AutoTagger } from '../tagging/autoTagger'
import type { TagStore } from '../tagging/tagStore'
import { isEmbeddable, readPhotoKeywords, writePhotos } from './embeddedFile'
import { ExifToolRunner, type ExifToolTags } from './exifToolRunner'
import {
  DEFAULT_ROOT,
  FIELD_NAMES,
  type FieldEntries,
  type FieldPlan,
  KEYWORD_READ_TAGS,
  type KeywordToWrite,
  type ManagedField,
  checkRoot,
  emptyEntries,
  importableKeywordsFrom,
  planIsEmpty,
  planKeywordChanges,
  userKeywordPaths
} from './keywordFields'
import { programNotes } from './programNotes'
import { type SidecarState, type SidecarWrite, readSidecars, removeAbandonedTemps, sha256, sidecarBytes, writeSidecars, xmpProblem } from './sidecarFile'
import { FolderListing, type SidecarPlace, groupBy, placeSidecar, sidecarCandidates } from './sidecarPaths'
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

interface FileJob {
  photo: LibraryPhoto
  tags: KeywordToWrite[]
}

type ExportOutcome = { kind: 'unchanged' } | { kind: 'skipped'; reason: string } | { kind: 'written'; plan: FieldPlan; create: boolean; notes: string[] }

export interface XmpRunOptions {
  onProgress?: (p: Progress) => void
  signal?: AbortSignal
}

const FIELD_TITLES: Record<ManagedField, string> = { subject: 'dc:subject', hierarchical: 'lr:hierarchicalSubject', tagsList: 'digiKam:TagsList' }

/**
 * XMP sidecars for the library's photos, through ExifTool: export writes the app's tags as
 * keywords (flat, `ROOT|tag` and `ROOT/tag`) into each photo's one sidecar (and, asked to, into
 * the photo file itself) and removes only keywords it wrote itself; import stores the keywords
 * users already have, in both sidecars and the file, as their own tags. One ExifTool cluster per
 * service, ended by close() (the engine's close).
 */
export class XmpService {
  private readonly exiftool = new ExifToolRunner()

  constructor(private readonly parts: XmpParts) {}

  async exportSidecars(opts: XmpExportOptions = {}, run: XmpRunOptions = {}): Promise<XmpExportSummary> {
    const root = opts.root ?? DEFAULT_ROOT
    const rootProblem = checkRoot(root)
    if (rootProblem) throw new SdlError(`Cannot export: ${rootProblem}`, 'Choose another --root, e.g. AI.')
    const sidecarsFor = opts.for ?? 'auto'
    const dryRun = Boolean(opts.dryRun)
    const folderId = this.folderId(opts.folder)
    const xmpStore = this.parts.sidecars
    const photos = withSidecarSharers(xmpStore.photos(folderId), opts.photos)
    const tagsByPhoto = await this.tagsToExport(photos, opts)

    const summary: XmpExportSummary = {
      written: 0,
      unchanged: 0,
      skipped: [],
      warnings: [],
      dryRun,
      cancelled: false,
      changes: [],
      choices: [],
      embedded: { written: 0, unchanged: 0, changes: [] }
    }
    const sidecarOf = await this.placeSidecars(photos, sidecarsFor, root, summary)
    const jobs: ExportJob[] = []
    for (const [sidecar, group] of groupBy(photos, (p) => sidecarOf.get(p.id)!)) {
      const tags = [...new Map(group.flatMap((p) => tagsByPhoto.get(p.id) ?? []).map((tag) => [signatureItem(tag), tag])).values()]
      if (group.length > 1) {
        summary.warnings.push(`${group.map((p) => p.path).join(' and ')} share ${sidecar}: it gets the tags of all of them`)
      }
      if (tags.length || xmpStore.sidecar(sidecar)) jobs.push({ sidecar, photos: group, tags })
    }
    // A photo written into before keeps being updated, so a tag rejected since leaves it too.
    const fileJobs: FileJob[] = opts.embed
      ? photos.filter((p) => isEmbeddable(p.path) && (tagsByPhoto.get(p.id)?.length || xmpStore.sidecar(p.path))).map((photo) => ({ photo, tags: tagsByPhoto.get(photo.id) ?? [] }))
      : []
    summary.warnings.push(
      ...programNotes(
        sidecarsFor,
        jobs.flatMap((j) => j.photos.map((p) => p.path)),
        Boolean(opts.embed)
      )
    )

    if (!dryRun) {
      const folders = new Set([...jobs.map((job) => dirname(job.sidecar)), ...fileJobs.map((job) => dirname(job.photo.path))])
      await Promise.all([...folders].map((folder) => removeAbandonedTemps(folder)))
    }
    const report = progressReporter(run.onProgress, { phase: dryRun ? 'plan XMP' : 'write XMP', unit: 'items' })
    const total = jobs.length + fileJobs.length
    let done = 0
    report(0, total, true)
    const seeded = new Map<ManagedField, { count: number; example: string }>()
    const noteSeeded = (plan: FieldPlan, file: string) => {
      for (const field of FIELD_NAMES) {
        if (!plan.seeded[field].length) continue
        const known = seeded.get(field)
        if (known) known.count++
        else seeded.set(field, { count: 1, example: `${plan.seeded[field].slice(0, 3).join(', ')} in ${file}` })
      }
    }
    await forEachChunk(jobs, run.signal, async (chunk) => {
      const outcomes = await this.exportChunk(xmpStore, chunk, root, dryRun)
      chunk.forEach((job, i) => {
        const outcome = outcomes[i]
        if (outcome.kind === 'unchanged') summary.unchanged++
        else if (outcome.kind === 'skipped') summary.skipped.push({ path: job.sidecar, reason: outcome.reason })
        else {
          summary.written++
          summary.changes.push({
            sidecar: job.sidecar,
            photos: job.photos.map((p) => p.path),
            create: outcome.create,
            add: outcome.plan.addedTags,
            remove: outcome.plan.removedTags
          })
          noteSeeded(outcome.plan, job.sidecar)
          for (const note of outcome.notes) summary.warnings.push(`${job.sidecar}: ${note}`)
        }
      })
      report((done += chunk.length), total)
    })
    await forEachChunk(fileJobs, run.signal, async (chunk) => {
      const outcomes = await this.exportFileChunk(xmpStore, chunk, root, dryRun, Boolean(opts.keepModified))
      chunk.forEach((job, i) => {
        const outcome = outcomes[i]
        if (outcome.kind === 'unchanged') summary.embedded.unchanged++
        else if (outcome.kind === 'skipped') summary.skipped.push({ path: job.photo.path, reason: outcome.reason })
        else {
          summary.embedded.written++
          summary.embedded.changes.push({ file: job.photo.path, add: outcome.plan.addedTags, remove: outcome.plan.removedTags })
          noteSeeded(outcome.plan, job.photo.path)
        }
      })
      report((done += chunk.length), total)
    })
    report(done, total, true)
    for (const [field, { count, example }] of seeded) {
      summary.warnings.push(
        `${FIELD_TITLES[field]} was new in ${count} file${count === 1 ? '' : 's'}: it starts with the keywords each already had (${example}), so programs that read it first still show them`
      )
    }
    summary.cancelled = done < total
    summary.changes.sort((a, b) => a.sidecar.localeCompare(b.sidecar))
    summary.embedded.changes.sort((a, b) => a.file.localeCompare(b.file))
    summary.skipped.sort((a, b) => a.path.localeCompare(b.path))
    summary.choices.sort((a, b) => a.photo.localeCompare(b.photo))
    return summary
  }

  async importKeywords(opts: XmpImportOptions = {}, run: XmpRunOptions = {}): Promise<XmpImportSummary> {
    const root = opts.root ?? DEFAULT_ROOT
    const folderId = this.folderId(opts.folder)
    const xmpStore = this.parts.sidecars
    const tagStore = this.parts.tags
    const photos = xmpStore.photos(folderId)
    const summary: XmpImportSummary = { photos: photos.length, withKeywords: 0, imported: 0, tags: [], skipped: [], cancelled: false }
    const listings = new Map<string, Promise<FolderListing>>()
    const report = progressReporter(run.onProgress, { phase: 'read XMP', unit: 'items' })
    let done = 0
    report(0, photos.length, true)
    await forEachChunk(photos, run.signal, async (chunk) => {
      const sidecars = await Promise.all(chunk.map((photo) => this.existingSidecars(photo.path, listings, summary)))
      const files = chunk.flatMap((photo, i) => [...sidecars[i], photo.path])
      const reads = new Map((await this.exiftool.read(files, ['-File:FileType', '-ExifTool:Warning', '-ExifTool:Error', ...KEYWORD_READ_TAGS])).map((r, i) => [files[i], r]))
      chunk.forEach((photo, i) => {
        // Each file with its own record of what this app wrote there: both sidecars and the photo itself.
        const sources: Array<{ tags: ExifToolTags | null; ours: FieldEntries }> = []
        for (const sidecar of sidecars[i]) {
          const r = reads.get(sidecar)!
          const problem = xmpProblem(r.tags, r.errors)
          if (problem) summary.skipped.push({ path: sidecar, reason: problem })
          else sources.push({ tags: r.tags, ours: xmpStore.sidecar(sidecar)?.written ?? emptyEntries() })
        }
        // A photo ExifTool could not read (or was not given) is reported; its sidecars' keywords still count.
        const embedded = reads.get(photo.path)!
        if (!embedded.tags) summary.skipped.push({ path: photo.path, reason: embedded.errors[0] ?? 'ExifTool could not read it' })
        sources.push({ tags: embedded.tags, ours: xmpStore.sidecar(photo.path)?.written ?? emptyEntries() })
        const { keywords, refused } = importableKeywordsFrom(sources, root)
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

  /** The photo's sidecars under either name and in any case, `photo.ext.xmp` first; one that is a folder or unreadable is reported. */
  private async existingSidecars(photoPath: string, listings: Map<string, Promise<FolderListing>>, summary: XmpImportSummary): Promise<string[]> {
    const folder = dirname(photoPath)
    let listed = listings.get(folder)
    if (!listed) listings.set(folder, (listed = FolderListing.read(folder)))
    const listing = await listed
    const found: string[] = []
    for (const candidate of sidecarCandidates(photoPath)) {
      const path = listing.find(candidate)
      if (path === null || found.includes(path)) continue
      const bytes = await sidecarBytes(path)
      if (bytes === null) continue
      if ('reason' in bytes) summary.skipped.push({ path, reason: bytes.reason })
      else found.push(path)
    }
    return found
  }

  /**
   * Each photo's sidecar (placeSidecar). Where both names exist, the one used is, in this order:
   * the one the program asked for names; the only one ExifTool can use; the only one holding
   * keywords of the user's (the other holding only this app's, as an earlier version made them
   * beside the user's); the folder's convention, else `photo.ext.xmp`. Each such choice is said.
   */
  private async placeSidecars(photos: readonly LibraryPhoto[], sidecarsFor: XmpSidecarsFor, root: string, summary: XmpExportSummary): Promise<Map<number, string>> {
    const listings = new Map<string, FolderListing>()
    for (const folder of new Set(photos.map((p) => dirname(p.path)))) listings.set(folder, await FolderListing.read(folder))
    const out = new Map<number, string>()
    const both: Array<{ photo: LibraryPhoto; place: SidecarPlace & { kind: 'both' } }> = []
    for (const photo of photos) {
      const place = placeSidecar(photo.path, listings.get(dirname(photo.path))!, sidecarsFor)
      if (place.kind === 'both') both.push({ photo, place })
      else out.set(photo.id, place.path)
    }
    for (let i = 0; i < both.length; i += CHUNK) {
      const chunk = both.slice(i, i + CHUNK)
      const states = await readSidecars(
        this.exiftool,
        chunk.flatMap(({ place }) => [place.ext, place.adobe])
      )
      chunk.forEach(({ photo, place }, k) => {
        const choice = this.chooseSidecar(photo.path, place, states[2 * k], states[2 * k + 1], sidecarsFor !== 'auto', root)
        out.set(photo.id, choice.used)
        summary.choices.push(choice)
      })
    }
    return out
  }

  private chooseSidecar(photo: string, place: SidecarPlace & { kind: 'both' }, ext: SidecarState, adobe: SidecarState, asked: boolean, root: string): XmpSidecarChoice {
    const pick = (used: SidecarState, notUsed: SidecarState, why: string): XmpSidecarChoice => ({ photo, used: used.path, notUsed: notUsed.path, why })
    const [preferred, other] = place.preferred === 'ext' ? [ext, adobe] : [adobe, ext]
    if (asked) return pick(preferred, other, place.why)
    if (ext.kind === 'unusable' && adobe.kind !== 'unusable') return pick(adobe, ext, `the other ${ext.reason}`)
    if (adobe.kind === 'unusable' && ext.kind !== 'unusable') return pick(ext, adobe, `the other ${adobe.reason}`)
    const holdsUsers = (s: SidecarState) => s.kind === 'file' && userKeywordPaths(s.entries, root, this.parts.sidecars.sidecar(s.path)?.written ?? emptyEntries()).length > 0
    if (holdsUsers(ext) !== holdsUsers(adobe)) {
      const [used, notUsed] = holdsUsers(ext) ? [ext, adobe] : [adobe, ext]
      return pick(used, notUsed, "it holds your keywords, the other only SDL Tagger's")
    }
    return pick(preferred, other, place.why)
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
      outcomes[i] = { kind: 'written', plan, create: state.kind === 'missing', notes: [] }
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

  /**
   * Writes the keywords into the photo files themselves. What the app wrote into a photo is
   * recorded as for a sidecar, under the photo's own path, so it is removed when no longer
   * wanted and never imported as the user's.
   */
  private async exportFileChunk(xmpStore: XmpStore, jobs: readonly FileJob[], root: string, dryRun: boolean, keepModified: boolean): Promise<ExportOutcome[]> {
    const outcomes: ExportOutcome[] = new Array(jobs.length)
    const states = await readPhotoKeywords(
      this.exiftool,
      jobs.map((job) => job.photo.path)
    )
    const writes: Array<{ index: number; plan: FieldPlan; state: (typeof states)[number] & { kind: 'file' } }> = []
    jobs.forEach((job, i) => {
      const state = states[i]
      if (state.kind === 'unusable') {
        outcomes[i] = { kind: 'skipped', reason: state.reason }
        return
      }
      const record = xmpStore.sidecar(job.photo.path)
      const plan = planKeywordChanges(state.entries, job.tags, root, record?.written ?? emptyEntries())
      if (planIsEmpty(plan)) {
        if (!dryRun && record) xmpStore.saveSidecar({ ...record, written: plan.ours, exportedTags: exportSignature(job.tags, root) }, job.photo.id)
        outcomes[i] = { kind: 'unchanged' }
        return
      }
      outcomes[i] = { kind: 'written', plan, create: false, notes: [] }
      if (!dryRun) writes.push({ index: i, plan, state })
    })
    const results = await writePhotos(
      this.exiftool,
      writes.map(({ state, plan }) => ({ state, add: plan.add, remove: plan.remove })),
      { keepModified }
    )
    writes.forEach(({ index, plan }, k) => {
      const result = results[k]
      const job = jobs[index]
      if (!result.ok) outcomes[index] = { kind: 'skipped', reason: result.reason }
      else xmpStore.saveSidecar({ sidecarPath: job.photo.path, written: plan.ours, exportedTags: exportSignature(job.tags, root), sha256: result.sha256 }, job.photo.id)
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

/** The photos asked for, with those of the same name in the same folder (a RAW+JPEG pair may share `photo.xmp`); all when none are named. */
function withSidecarSharers(photos: LibraryPhoto[], ids: readonly number[] | undefined): LibraryPhoto[] {
  if (!ids) return photos
  const stem = (p: LibraryPhoto) => p.path.slice(0, p.path.length - extname(p.path).length).toLowerCase()
  const wanted = new Set(ids)
  const stems = new Set(photos.filter((p) => wanted.has(p.id)).map(stem))
  return photos.filter((p) => stems.has(stem(p)))
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
