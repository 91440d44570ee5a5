import { basename, dirname, extname, join } from 'node:path'
import type { XmpNaming } from '../../../shared/xmp'

/** `photo.jpg.xmp` (darktable, digiKam) or `photo.xmp` (Lightroom, Bridge, Capture One). */
export function sidecarPath(photoPath: string, naming: XmpNaming): string {
  if (naming === 'ext') return `${photoPath}.xmp`
  const name = basename(photoPath)
  const ext = extname(name)
  return join(dirname(photoPath), `${ext ? name.slice(0, -ext.length) : name}.xmp`)
}

/** Where a photo's existing sidecar may be, in the order it is looked for. */
export function sidecarCandidates(photoPath: string): string[] {
  return [sidecarPath(photoPath, 'ext'), sidecarPath(photoPath, 'adobe')]
}

/**
 * Photos grouped by the sidecar each would get. With `adobe` naming a RAW+JPEG pair
 * (`IMG_1.CR2`, `IMG_1.JPG`) shares `IMG_1.xmp`: Lightroom treats the pair as one photo.
 */
export function groupBySidecar<T extends { path: string }>(photos: readonly T[], naming: XmpNaming): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const photo of photos) {
    const sidecar = sidecarPath(photo.path, naming)
    let group = groups.get(sidecar)
    if (!group) groups.set(sidecar, (group = []))
    group.push(photo)
  }
  return groups
}
