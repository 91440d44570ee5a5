import { extname } from 'node:path'
import type { XmpSidecarsFor } from '../../../shared/xmp'
import { isEmbeddable } from './embeddedFile'
import { PROGRAM_TITLES } from './sidecarPaths'

/** Photo types whose keywords Lightroom and Capture One read from inside the file, never from a sidecar. */
const READ_INSIDE = new Set(['.jpg', '.jpeg', '.jpe', '.tif', '.tiff', '.png', '.heic', '.heif', '.dng'])

/**
 * What the user of `sidecarsFor` should know about an export of `photos`, once per run: Lightroom
 * and Capture One read sidecars for proprietary RAW files only, so the keywords of the other
 * photos reach them only written into the files (JPEG, TIFF, DNG, HEIC; never PNG).
 */
export function programNotes(sidecarsFor: XmpSidecarsFor, photos: readonly string[], embed: boolean): string[] {
  if (sidecarsFor !== 'lightroom' && sidecarsFor !== 'capture-one') return []
  const program = PROGRAM_TITLES[sidecarsFor]
  const unread = photos.filter((p) => READ_INSIDE.has(extname(p).toLowerCase()) && !(embed && isEmbeddable(p)))
  if (!unread.length) return []
  const example = `e.g. ${unread[0]}`
  const count = `${unread.length} photo${unread.length === 1 ? '' : 's'}`
  if (embed) return [`${program} reads the keywords of PNG photos from inside the file, which export does not write into: ${count} will not show their keywords there (${example})`]
  return [
    `${program} reads the keywords of JPEG, TIFF, PNG, HEIC and DNG photos from inside the file, not from a sidecar: the sidecars of ${count} will not show there (${example}). ` +
      'Write the keywords into the files with --embed (JPEG, TIFF, DNG and HEIC)'
  ]
}
