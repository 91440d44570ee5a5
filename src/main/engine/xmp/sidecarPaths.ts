import { readdir } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import type { XmpProgram, XmpSidecarsFor } from '../../../shared/xmp'
import { isPhotoFileName } from '../image/photoFiles'

/** `ext`: `photo.jpg.xmp` (darktable, digiKam); `adobe`: `photo.xmp` (Lightroom, Bridge, Capture One). */
export type SidecarNaming = 'ext' | 'adobe'

export const PROGRAM_NAMING: Record<XmpProgram, SidecarNaming> = { lightroom: 'adobe', 'capture-one': 'adobe', darktable: 'ext', digikam: 'ext' }

export function sidecarPath(photoPath: string, naming: SidecarNaming): string {
  if (naming === 'ext') return `${photoPath}.xmp`
  const name = basename(photoPath)
  const ext = extname(name)
  return join(dirname(photoPath), `${ext ? name.slice(0, -ext.length) : name}.xmp`)
}

/** The names a photo's sidecar may have, in the order import reads them. */
export function sidecarCandidates(photoPath: string): string[] {
  return [sidecarPath(photoPath, 'ext'), sidecarPath(photoPath, 'adobe')]
}

/**
 * One folder's entry names, read once per run: sidecars written on Windows or macOS may differ
 * from the photo's name in case (`IMG_1.XMP`), and the folder's own sidecars say which
 * convention it follows.
 */
export class FolderListing {
  private readonly names: Set<string>
  private readonly byLowerName = new Map<string, string>()
  /** The naming most of the folder's sidecars have; null when it has none, or as many of each. */
  readonly naming: SidecarNaming | null

  constructor(
    readonly folder: string,
    names: readonly string[]
  ) {
    this.names = new Set(names)
    for (const name of [...names].sort()) if (!this.byLowerName.has(name.toLowerCase())) this.byLowerName.set(name.toLowerCase(), name)
    const photoStems = new Set(names.filter(isPhotoFileName).map((n) => n.slice(0, n.length - extname(n).length).toLowerCase()))
    let ext = 0
    let adobe = 0
    for (const lower of this.byLowerName.keys()) {
      if (!lower.endsWith('.xmp')) continue
      const base = lower.slice(0, -'.xmp'.length)
      if (isPhotoFileName(base) && this.byLowerName.has(base)) ext++
      else if (photoStems.has(base)) adobe++
    }
    this.naming = ext === adobe ? null : ext > adobe ? 'ext' : 'adobe'
  }

  static async read(folder: string): Promise<FolderListing> {
    // An unreadable folder lists nothing: writing there fails too, and says why.
    return new FolderListing(folder, await readdir(folder).catch(() => []))
  }

  /** The entry at `path` under any case, exactly as the folder spells it (the exact case first), or null. */
  find(path: string): string | null {
    const name = basename(path)
    const found = this.names.has(name) ? name : this.byLowerName.get(name.toLowerCase())
    return found === undefined ? null : join(this.folder, found)
  }
}

/** Where a photo's sidecar is: one existing, a new one, or two existing ones to choose between. */
export type SidecarPlace =
  { kind: 'existing'; path: string } | { kind: 'new'; path: string; why: string } | { kind: 'both'; ext: string; adobe: string; preferred: SidecarNaming; why: string }

/**
 * The sidecar of the photo at `photoPath` (for a RAW+JPEG pair, the RAW's path: the sidecar
 * follows the RAW). An existing sidecar under either name is the one used, so a second is never
 * made beside it; a new one is named for `sidecarsFor`, or under `auto` as most sidecars in the
 * folder are, else `photo.ext.xmp`. With both names present the caller decides, `preferred`
 * naming (with why) being the choice when nothing else tells them apart.
 */
export function placeSidecar(photoPath: string, listing: FolderListing, sidecarsFor: XmpSidecarsFor): SidecarPlace {
  const ext = listing.find(sidecarPath(photoPath, 'ext'))
  const adobe = listing.find(sidecarPath(photoPath, 'adobe'))
  const wanted = newSidecarNaming(listing, sidecarsFor)
  if (ext && adobe) return { kind: 'both', ext, adobe, preferred: wanted.naming, why: wanted.why }
  if (ext ?? adobe) return { kind: 'existing', path: (ext ?? adobe)! }
  return { kind: 'new', path: sidecarPath(photoPath, wanted.naming), why: wanted.why }
}

function newSidecarNaming(listing: FolderListing, sidecarsFor: XmpSidecarsFor): { naming: SidecarNaming; why: string } {
  if (sidecarsFor !== 'auto') return { naming: PROGRAM_NAMING[sidecarsFor], why: `sidecars are for ${PROGRAM_TITLES[sidecarsFor]}` }
  if (listing.naming) return { naming: listing.naming, why: `most sidecars in ${listing.folder} are named ${NAMING_TITLES[listing.naming]}` }
  return { naming: 'ext', why: `${NAMING_TITLES.ext} is the default` }
}

export const PROGRAM_TITLES: Record<XmpProgram, string> = { lightroom: 'Lightroom', darktable: 'darktable', digikam: 'digiKam', 'capture-one': 'Capture One' }
const NAMING_TITLES: Record<SidecarNaming, string> = { ext: 'photo.ext.xmp', adobe: 'photo.xmp' }

/** Photos grouped by sidecar: a RAW+JPEG pair named `photo.xmp` shares one, as Lightroom treats the pair as one photo. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    let group = groups.get(k)
    if (!group) groups.set(k, (group = []))
    group.push(item)
  }
  return groups
}
