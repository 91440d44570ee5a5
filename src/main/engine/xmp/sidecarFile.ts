import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { access, chmod, link, lstat, readFile, readdir, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { isProcessAlive } from '../processAlive'
import type { ExifToolOutput, ExifToolRunner, ExifToolTags } from './exifToolRunner'
import { FIELD_NAMES, type FieldEntries, type FileKeywords, MANAGED_FIELDS, fileKeywords, managedEntries } from './keywordFields'

/** A sidecar as read before planning: its exact bytes (to notice a change before replacing it) and tags. */
export type SidecarState =
  | { kind: 'missing'; path: string }
  | { kind: 'file'; path: string; bytes: Buffer; sha256: string; mode: number; tags: ExifToolTags; entries: FileKeywords }
  | { kind: 'unusable'; path: string; reason: string }

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The file's bytes, or why they cannot be used as a sidecar (a folder, unreadable); null when absent. */
export async function sidecarBytes(path: string): Promise<{ bytes: Buffer; mode: number } | { reason: string } | null> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    return { reason: `cannot be read: ${(err as Error).message}` }
  }
  if (!info.isFile()) return { reason: info.isDirectory() ? 'is a folder, not a sidecar file' : 'is not a regular file' }
  try {
    return { bytes: await readFile(path), mode: info.mode }
  } catch (err) {
    return { reason: `cannot be read: ${(err as Error).message}` }
  }
}

/** What a sidecar is compared on: all of its XMP, and what ExifTool says about the file. */
const SIDECAR_TAGS = ['-XMP:all', '-File:FileType', '-ExifTool:Warning', '-ExifTool:Error']

/**
 * sidecarBytes, refusing what a rename would quietly change: a file its owner made read-only,
 * and a symbolic link (the rename would replace the link, not the file it points to).
 */
async function replaceableBytes(path: string): Promise<{ bytes: Buffer; mode: number } | { reason: string } | null> {
  const entry = await lstat(path).catch(() => null)
  if (entry?.isSymbolicLink()) return { reason: 'is a symbolic link; left as it is' }
  const found = await sidecarBytes(path)
  if (found && 'mode' in found && (found.mode & 0o200) === 0) return { reason: 'is read-only; left as it is' }
  return found
}

/** Reads sidecars through ExifTool in one command; one that is not well-formed XMP is unusable, never rewritten. */
export async function readSidecars(exiftool: ExifToolRunner, paths: readonly string[]): Promise<SidecarState[]> {
  const found = await Promise.all(paths.map((path) => replaceableBytes(path)))
  const toRead = paths.filter((_, i) => found[i] !== null && 'bytes' in found[i]!)
  const reads = new Map((await exiftool.read(toRead, SIDECAR_TAGS)).map((r, i) => [toRead[i], r]))
  return paths.map((path, i): SidecarState => {
    const f = found[i]
    if (f === null) return { kind: 'missing', path }
    if ('reason' in f) return { kind: 'unusable', path, reason: f.reason }
    const { tags, errors } = reads.get(path)!
    const problem = xmpProblem(tags, errors)
    if (problem) return { kind: 'unusable', path, reason: problem }
    return { kind: 'file', path, bytes: f.bytes, sha256: sha256(f.bytes), mode: f.mode, tags: tags!, entries: fileKeywords(tags) }
  })
}

/** Why ExifTool's read shows the file is not an XMP packet it can safely rewrite, or null. */
export function xmpProblem(tags: ExifToolTags | null, errors: readonly string[]): string | null {
  if (!tags) return errors[0] ?? 'ExifTool could not read it'
  if (tags['File:FileType'] !== 'XMP') return `is not an XMP file (ExifTool reads it as ${String(tags['File:FileType'] ?? 'unknown')})`
  const warning = tags['ExifTool:Warning'] ?? tags['ExifTool:Error']
  if (warning !== undefined && /XMP|format|error|corrupt/i.test(String(warning))) return `is not well-formed XMP: ${String(warning)}`
  return null
}

export type WriteOutcome = { ok: true; sha256: string; notes: string[] } | { ok: false; reason: string }

/** ExifTool's tags that describe the file, not its metadata: never compared. */
const FILE_GROUPS = /^(SourceFile|System:|File:|ExifTool:)/
export const METADATA_DATE = 'XMP-xmp:MetadataDate'
export const TOOLKIT = 'XMP-x:XMPToolkit'
let tempCounter = 0
/** The temporary copies ExifTool writes, `.<name>.sdl-tagger-<pid>-<n>.<ext>`: hidden, and naming the process writing them. */
const TEMP_NAME = /^\..*\.sdl-tagger-(\d+)-\d+\.[^.]+$/

/** A temporary copy's path beside `path`, with its extension: ExifTool writes a file of the type its name says. */
export function tempBeside(path: string): string {
  const ext = extname(path)
  return join(dirname(path), `.${basename(path, ext)}.sdl-tagger-${process.pid}-${++tempCounter}${ext}`)
}

export interface SidecarWrite {
  state: SidecarState & { kind: 'missing' | 'file' }
  add: FieldEntries
  remove: FieldEntries
}

/**
 * Applies keyword changes to sidecars without ever exposing a half-written file: ExifTool
 * writes a temporary copy beside each (`-o`, the original untouched), all in one batch; the
 * copies of existing sidecars are read back, and each must hold every property its original
 * had, with only the keyword fields (exactly as planned) and xmp:MetadataDate changed. Then a
 * copy replaces its original in one rename, but only if the original still has the bytes it
 * had when it was read; a new sidecar is linked into place only if no file has appeared there
 * meanwhile.
 */
export async function writeSidecars(exiftool: ExifToolRunner, writes: readonly SidecarWrite[]): Promise<WriteOutcome[]> {
  const temps = writes.map(({ state }) => tempBeside(state.path))
  try {
    let outputs: ExifToolOutput[]
    try {
      outputs = await exiftool.runMany(writes.map((w, i) => writeCommand(w, temps[i])))
    } catch (err) {
      // A keyword ExifTool cannot take as an argument (a line break) fails the whole batch; say so for each.
      return writes.map(() => ({ ok: false, reason: `ExifTool could not write it: ${(err as Error).message}` }))
    }
    const written = await Promise.all(
      temps.map((t) =>
        stat(t).then(
          (s) => s.isFile(),
          () => false
        )
      )
    )
    // Only a copy of an existing sidecar has properties of the user's to check; a new one holds
    // nothing but what was written, and reading it back would cost as much as writing it.
    const toCheck = temps.filter((_, i) => written[i] && writes[i].state.kind === 'file')
    const readBack = await exiftool.read(toCheck, SIDECAR_TAGS)
    const readByTemp = new Map(readBack.map((r, i) => [toCheck[i], r.tags]))
    return await Promise.all(
      writes.map(async (w, i): Promise<WriteOutcome> => {
        const output = outputs[i]
        if (!written[i] || output.errors.length) return { ok: false, reason: `ExifTool could not write it: ${output.errors[0] ?? output.stdout.trim()}` }
        try {
          return await verifyAndReplace(w, temps[i], readByTemp.get(temps[i]) ?? null, output.warnings)
        } catch (err) {
          return { ok: false, reason: (err as Error).message }
        }
      })
    )
  } finally {
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})))
  }
}

/**
 * Removes the temporary copies that exports killed midway left in `folder`, and nothing else:
 * only regular files named as tempBeside names them, whose process is gone (the copies of an
 * export still running, in this process or another, stay).
 */
export async function removeAbandonedTemps(folder: string): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const pid = TEMP_NAME.exec(entry.name)?.[1]
    if (pid && entry.isFile() && !isProcessAlive(Number(pid))) await unlink(join(folder, entry.name)).catch(() => {})
  }
}

/** ExifTool's arguments for the keyword changes and the metadata date, and nothing else. */
export function keywordWriteArgs(add: FieldEntries, remove: FieldEntries): string[] {
  const args = ['-charset', 'filename=utf8']
  for (const field of FIELD_NAMES) {
    for (const entry of remove[field]) args.push(`-${MANAGED_FIELDS[field]}-=${entry}`)
    for (const entry of add[field]) args.push(`-${MANAGED_FIELDS[field]}+=${entry}`)
  }
  args.push(`-${METADATA_DATE}=now`)
  return args
}

/** ExifTool would otherwise sign an existing packet as its own (x:xmptk); that attribute is not ours to change. */
export function keepToolkitArg(tags: ExifToolTags): string {
  const toolkit = tags[TOOLKIT]
  return `-${TOOLKIT}=${toolkit === undefined ? '' : String(toolkit)}`
}

function writeCommand({ state, add, remove }: SidecarWrite, temp: string): string[] {
  const args = keywordWriteArgs(add, remove)
  if (state.kind === 'missing') return [...args, temp]
  return [...args, keepToolkitArg(state.tags), '-o', temp, state.path]
}

async function verifyAndReplace({ state, add, remove }: SidecarWrite, temp: string, written: ExifToolTags | null, warnings: readonly string[]): Promise<WriteOutcome> {
  let notes: string[] = []
  if (state.kind === 'file') {
    const now = await sidecarBytes(state.path)
    if (!now || !('bytes' in now) || !now.bytes.equals(state.bytes)) return { ok: false, reason: 'changed on disk during the export; run it again' }
    if (!written) return { ok: false, reason: 'ExifTool could not read back what it wrote; left untouched' }
    const mismatch = compareAfterWrite(state.tags, written, add, remove)
    const dropped = droppedEmptyLists(warnings)
    const isDroppedEmptyList = (key: string) => dropped.has(key.toLowerCase().replace(/^xmp-/, '')) && state.tags[key] === '' && !(key in written)
    const unexplained = mismatch.filter((key) => !isDroppedEmptyList(key))
    if (unexplained.length) return { ok: false, reason: `left untouched: ExifTool would also change ${unexplained.join(', ')}` }
    notes = mismatch.map((key) => `${key} was an empty list, which ExifTool does not write: left out`)
  }
  const bytes = await readFile(temp)
  if (state.kind === 'file') {
    // Once more, as late as possible: an application may have saved it while ExifTool worked.
    const now = await sidecarBytes(state.path)
    if (!now || !('bytes' in now) || !now.bytes.equals(state.bytes)) return { ok: false, reason: 'changed on disk during the export; run it again' }
    await chmod(temp, state.mode & 0o7777)
    await rename(temp, state.path)
  } else {
    await placeNew(temp, state.path)
  }
  return { ok: true, sha256: sha256(bytes), notes }
}

/** Moves a new file into place unless one appeared there; link(2) refuses atomically where it exists. */
async function placeNew(temp: string, target: string): Promise<void> {
  try {
    await link(temp, target)
    return
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new Error('appeared on disk during the export; run it again', { cause: err })
    // File systems without hard links (FAT, exFAT, some network shares): check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err
  }
  const exists = await access(target, constants.F_OK).then(
    () => true,
    () => false
  )
  if (exists) throw new Error('appeared on disk during the export; run it again')
  await rename(temp, target)
}

/**
 * Properties that differ between the original and ExifTool's copy other than as planned: every
 * property must be unchanged, except the keyword fields, which must be exactly the original's
 * minus `remove` plus `add`, xmp:MetadataDate, and those `ignored` says are not metadata.
 */
export function compareAfterWrite(before: ExifToolTags, after: ExifToolTags, add: FieldEntries, remove: FieldEntries, ignored: (key: string) => boolean = () => false): string[] {
  const differ: string[] = []
  const managed = new Map(FIELD_NAMES.map((f) => [MANAGED_FIELDS[f] as string, f]))
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  for (const key of keys) {
    if (FILE_GROUPS.test(key) || key === METADATA_DATE || ignored(key)) continue
    const field = managed.get(key)
    if (field) {
      const was = managedEntries({ [key]: before[key] })[field]
      const removed = new Set(remove[field])
      const expected = [...was.filter((e) => !removed.has(e)), ...add[field]]
      const got = managedEntries({ [key]: after[key] })[field]
      if (!isDeepStrictEqual(got, expected)) differ.push(key)
    } else if (key === TOOLKIT && !(key in before)) {
      continue
    } else if (!isDeepStrictEqual(before[key], after[key])) {
      differ.push(key)
    }
  }
  return differ
}

/** `darktable:masks_history` and the like from ExifTool's "Ignored empty rdf:Seq list for …" warnings, lower-cased. */
function droppedEmptyLists(warnings: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const w of warnings) {
    const m = /Ignored empty rdf:\w+ list for (\S+)/.exec(w)
    if (m) out.add(m[1].toLowerCase())
  }
  return out
}
