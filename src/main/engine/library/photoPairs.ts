import { basename, dirname } from 'node:path'
import { isRawFileName } from '../image/photoFiles'

/**
 * One photo as a person sees it: a file, and for a camera RAW shot as RAW+JPEG, the JPEG beside
 * it (same folder, same name in any case), whose pixels stand for the pair.
 */
export interface PhotoUnit<F extends { path: string }> {
  file: F
  companion?: F
  /** Files of the same name that were not paired (a second JPEG, a second RAW): photos of their own. */
  passedOver: F[]
}

/**
 * Groups files into photos. Where one name has several RAWs or several JPEGs (IMG.JPG and
 * IMG.jpeg), the first of each in character-code order of the file name pairs, so every run and
 * every machine picks the same one; the others are photos of their own.
 */
export function pairUp<F extends { path: string }>(files: readonly F[]): Array<PhotoUnit<F>> {
  const units: Array<PhotoUnit<F>> = []
  const groups = new Map<string, { raws: F[]; jpegs: F[] }>()
  for (const file of files) {
    const key = pairKey(file.path)
    if (key === null) {
      units.push({ file, passedOver: [] })
      continue
    }
    let group = groups.get(key)
    if (!group) groups.set(key, (group = { raws: [], jpegs: [] }))
    group[isRawFileName(file.path) ? 'raws' : 'jpegs'].push(file)
  }
  const byName = (a: F, b: F) => (basename(a.path) < basename(b.path) ? -1 : basename(a.path) > basename(b.path) ? 1 : 0)
  for (const { raws, jpegs } of groups.values()) {
    raws.sort(byName)
    jpegs.sort(byName)
    if (!raws.length || !jpegs.length) {
      for (const file of [...raws, ...jpegs]) units.push({ file, passedOver: [] })
      continue
    }
    const [raw, ...otherRaws] = raws
    const [jpeg, ...otherJpegs] = jpegs
    const others = [...otherRaws, ...otherJpegs]
    units.push({ file: raw, companion: jpeg, passedOver: others })
    for (const file of others) units.push({ file, passedOver: [] })
  }
  return units
}

/** The folder and case-folded base name a RAW or JPEG pairs by; null for a file that never pairs. */
export function pairKey(path: string): string | null {
  const name = basename(path)
  const dot = name.lastIndexOf('.')
  if (dot <= 0) return null
  if (!isRawFileName(name) && !JPEG.test(name)) return null
  return `${dirname(path)}/${name.slice(0, dot).toLowerCase()}`
}

const JPEG = /\.jpe?g$/i

/** What the indexer says when a name had more files than one pair. */
export function passedOverNotice(unit: PhotoUnit<{ path: string }>): string | undefined {
  if (!unit.companion || !unit.passedOver.length) return undefined
  const others = unit.passedOver.map((f) => basename(f.path)).join(', ')
  return `${basename(unit.file.path)} is paired with ${basename(unit.companion.path)} (the first of its RAW and JPEG files by name); ${others} ${unit.passedOver.length > 1 ? 'are photos of their own' : 'is a photo of its own'}`
}
