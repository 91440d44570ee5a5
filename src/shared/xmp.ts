/**
 * XMP sidecars as front ends see them: what `export-xmp` / `import-xmp` return, and what the
 * export screen's dry-run preview lists per sidecar.
 */

/** `ext`: `photo.jpg.xmp` (darktable, digiKam); `adobe`: `photo.xmp` (Lightroom, Bridge). */
export type XmpNaming = 'ext' | 'adobe'

export interface XmpExportOptions {
  /** One library folder; every folder when left out. */
  folder?: string
  /** Plan only: read the sidecars, write nothing, and return what would change. */
  dryRun?: boolean
  /**
   * Also write suggestions scoring at least this (accepted tags are always written). Left out:
   * no suggestions. Needs the photos indexed with the active model.
   */
  minScore?: number
  /** At most this many suggestions per photo (default 10); only with `minScore`. */
  top?: number
  naming?: XmpNaming
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
}

export interface XmpImportOptions {
  folder?: string
  /** The hierarchy root this app writes under; its keywords are the app's own, not imported. */
  root?: string
}

export interface XmpImportSummary {
  /** Photos looked at. */
  photos: number
  /** Photos that had at least one keyword (sidecar or embedded). */
  withKeywords: number
  /** Tags newly stored as the user's own (source `xmp`). */
  imported: number
  /** Per photo, the tags newly stored. */
  tags: Array<{ path: string; tags: string[] }>
  skipped: XmpSkipped[]
  /** Stopped early (Ctrl+C): the counts cover the photos done before. */
  cancelled: boolean
}
