import catalogJson from '../../../../models/catalog.json'
import { SdlError } from '../errors'

export interface CatalogAsset {
  file: string
  url: string
  /** Known checksum; null where the publisher gives none (we then record it on first download). */
  sha256: string | null
}

export interface CatalogEntry {
  description: string
  checkpoint: CatalogAsset & { approxBytes: number }
  vocabulary: CatalogAsset[]
}

const catalog = catalogJson as Record<string, CatalogEntry>

export function catalogNames(): string[] {
  return Object.keys(catalog)
}

export function catalogEntry(name: string): CatalogEntry {
  const entry = catalog[name]
  if (!entry) throw new SdlError(`'${name}' is not a model SDL Tagger knows how to install`, `Installable: ${catalogNames().join(', ')}.`)
  return entry
}

/** Points every asset at a mirror that serves the same file names (a local or company mirror). */
export function withMirror(entry: CatalogEntry, mirror: string | undefined): CatalogEntry {
  if (!mirror) return entry
  const base = mirror.replace(/\/+$/, '')
  const move = <T extends CatalogAsset>(a: T): T => ({ ...a, url: `${base}/${a.file}` })
  return { ...entry, checkpoint: move(entry.checkpoint), vocabulary: entry.vocabulary.map(move) }
}
