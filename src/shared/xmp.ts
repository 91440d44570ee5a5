/**
 * XMP sidecars as front ends see them: what `export-xmp` / `import-xmp` return, and what the
 * export screen's dry-run preview lists per sidecar.
 */

/** The programs whose sidecar conventions export follows: `photo.xmp` (Lightroom, Capture One) or `photo.ext.xmp` (darktable, digiKam). */
export const XMP_PROGRAMS = ['lightroom', 'darktable', 'digikam', 'capture-one'] as const
export type XmpProgram = (typeof XMP_PROGRAMS)[number]
/** Whom new sidecars are for: a program, or `auto`: as the sidecars already in the photo's folder, else `photo.ext.xmp`. */
export type XmpSidecarsFor = 'auto' | XmpProgram

export interface XmpExportOptions {
  /** One library folder; every folder when left out. */
  folder?: string
  /** Only these photo ids (and the photos sharing a sidecar with one of them); every photo when left out. */
  photos?: readonly number[]
  /** Plan only: read the sidecars, write nothing, and return what would change. */
  dryRun?: boolean
  /**
   * Also write suggestions scoring at least this (accepted tags are always written). Left out:
   * no suggestions. Needs the photos indexed with the active model.
   */
  minScore?: number
  /** At most this many suggestions per photo (default 10); only with `minScore`. */
  top?: number
  /** Whom new sidecars are named for (default `auto`); a photo's existing sidecar is always the one updated. */
  for?: XmpSidecarsFor
  /** Also write the keywords into JPEG, TIFF, DNG and HEIC files themselves (metadata only, image data checked unchanged). */
  embed?: boolean
  /** With `embed`: a photo written into keeps its modification time. */
  keepModified?: boolean
  /** First level of the hierarchical keywords: `AI|dog`, `AI/dog` (default `AI`). */
  root?: string
}

/** One sidecar and what the export does (or, in a dry run, would do) to it. */
export interface XmpSidecarChange {
  sidecar: string
  /** The photos whose tags go into it: one, or a RAW+JPEG pair sharing `photo.xmp`. */
  photos: string[]
  /** The sidecar does not exist yet. */
  create: boolean
  /** Tags added to at least one keyword field. */
  add: string[]
  /** Tags this app wrote before and removes now (the user's own keywords are never removed). */
  remove: string[]
}

/** A photo with a sidecar under both names: the one export updated, the one it left alone, and why. */
export interface XmpSidecarChoice {
  photo: string
  used: string
  notUsed: string
  why: string
}

/** A photo file the keywords were (or, in a dry run, would be) written into. */
export interface XmpFileChange {
  file: string
  add: string[]
  remove: string[]
}

export interface XmpSkipped {
  path: string
  reason: string
}

export interface XmpExportSummary {
  /** Sidecars written (in a dry run: that would be written). */
  written: number
  /** Sidecars that needed no change, left byte for byte as they were. */
  unchanged: number
  skipped: XmpSkipped[]
  /** Things the user should know that did not stop a sidecar, e.g. two photos sharing one. */
  warnings: string[]
  dryRun: boolean
  /** Stopped early (Ctrl+C): the counts cover the sidecars done before. */
  cancelled: boolean
  /** Every sidecar written or to be written, with its keyword changes. */
  changes: XmpSidecarChange[]
  /** Photos with sidecars under both names, each with the one used and why. */
  choices: XmpSidecarChoice[]
  /** With `embed`: the photo files written into (in a dry run: that would be), and those that needed nothing. */
  embedded: { written: number; unchanged: number; changes: XmpFileChange[] }
}

export interface XmpImportOptions {
  folder?: string
  /** The hierarchy root this app writes under; its keywords are the app's own, not imported. */
  root?: string
}

export interface XmpImportSummary {
  /** Photos looked at. */
  photos: number
  /** Photos that had at least one keyword (in either sidecar or in the file). */
  withKeywords: number
  /** Tags newly stored as the user's own (source `xmp`). */
  imported: number
  /** Per photo, the tags newly stored. */
  tags: Array<{ path: string; tags: string[] }>
  skipped: XmpSkipped[]
  /** Stopped early (Ctrl+C): the counts cover the photos done before. */
  cancelled: boolean
}

/** A sidecar choice as people read it, in the export's output. */
export function describeChoice(c: XmpSidecarChoice): string {
  return `${c.photo} has two sidecars: ${c.used} is the one updated, not ${c.notUsed}, because ${c.why}`
}
