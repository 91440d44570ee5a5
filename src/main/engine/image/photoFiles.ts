/**
 * Which directory entries a library scan looks at. Names only: no file is opened, so scanning a
 * folder of thousands costs one directory listing.
 */

/**
 * File-name extensions of camera RAW files, lower case. Their pixels come from the JPEG preview
 * the camera embeds (see rawPhoto.ts): libvips would read many of them as TIFFs and get the
 * sensor data or a thumbnail instead.
 */
export const RAW_EXTENSIONS: readonly string[] = [
  // Canon, Nikon, Sony, Fujifilm, Olympus / OM System, Panasonic and Leica, Pentax
  ...['cr2', 'cr3', 'crw', 'nef', 'nrw', 'arw', 'sr2', 'srf', 'raf', 'orf', 'rw2', 'rwl', 'pef'],
  // Adobe DNG, Hasselblad, Phase One, Samsung, Sigma, Epson, Minolta, Kodak, Leaf, Mamiya
  ...['dng', '3fr', 'fff', 'iiq', 'srw', 'x3f', 'erf', 'mrw', 'kdc', 'dcr', 'mos', 'mef']
]

/** File-name extensions of the photos the tagger reads (see preprocess.ts), lower case. */
export const PHOTO_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'jpe', 'png', 'webp', 'avif', 'tif', 'tiff', 'gif', 'heic', 'heif', ...RAW_EXTENSIONS]

const PHOTO_EXTENSION_SET = new Set(PHOTO_EXTENSIONS)
const RAW_EXTENSION_SET = new Set(RAW_EXTENSIONS)

/**
 * Files and folders that operating systems, NAS boxes and recycle bins put among photos, lower
 * case (Windows and macOS file names are case-insensitive). Names with a leading dot (.DS_Store,
 * .Trashes, .Spotlight-V100, macOS '._' resource forks) are caught by the dot rule.
 */
const SYSTEM_NAMES = new Set([
  // Windows
  'thumbs.db',
  'ehthumbs.db',
  'ehthumbs_vista.db',
  'desktop.ini',
  '$recycle.bin',
  'recycler',
  'system volume information',
  // Linux file systems
  'lost+found',
  // macOS custom folder icons
  'icon\r',
  // Synology and QNAP NAS: thumbnail caches, recycle bins and snapshots
  '@eadir',
  '#recycle',
  '#snapshot',
  '@recycle',
  '@recently-snapshot'
])

/** Whether `name` (no folder part) has a photo extension, in any case. */
export function isPhotoFileName(name: string): boolean {
  return PHOTO_EXTENSION_SET.has(extensionOf(name))
}

/** Whether `path` names a camera RAW file, by its extension in any case. */
export function isRawFileName(path: string): boolean {
  return RAW_EXTENSION_SET.has(extensionOf(path))
}

/** Lower case, without the dot; '' where there is none (or only a leading one, as in '.nef'). */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'))
  return dot > slash + 1 ? name.slice(dot + 1).toLowerCase() : ''
}

/**
 * Whether a scan skips this file or folder (and all beneath it): hidden entries, system files
 * and folders, and XMP sidecars (edit metadata beside a photo, not a photo).
 */
export function isIgnoredEntryName(name: string): boolean {
  const lower = name.toLowerCase()
  return name.startsWith('.') || SYSTEM_NAMES.has(lower) || lower.endsWith('.xmp')
}
