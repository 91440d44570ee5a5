import { realpathSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { MEDIA_PROTOCOL, type MediaKind, type PhotoId } from '../../../shared/api'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { isInside } from '../library/folderPaths'

export interface MediaRequest {
  kind: MediaKind
  id: PhotoId
}

const ID = '([1-9][0-9]{0,14})'
const ELECTRON_URL = new RegExp(`^${MEDIA_PROTOCOL}://(thumb|photo)/${ID}/?$`)
const WEB_PATH = new RegExp(`^/media/(thumb|photo)/${ID}$`)

/**
 * The one shape a media request may have: `sdl-media://thumb/<id>` (Electron) or the raw,
 * undecoded path `/media/thumb/<id>` (web mode), id a positive integer. Anything else (a path,
 * `..`, percent-escapes, a query) is not a media request at all, so no file name ever comes from
 * the URL.
 */
export function parseMediaUrl(url: string): MediaRequest | null {
  const match = ELECTRON_URL.exec(url) ?? WEB_PATH.exec(url)
  return match ? { kind: match[1] as MediaKind, id: Number(match[2]) } : null
}

/** What the scoping rule needs to know about the photo a request names. */
export interface MediaFacts {
  /** The photo's path as the library records it; undefined when the id is not a library photo. */
  libraryPath: string | undefined
  /** Where that path really leads after following links; null when it does not exist. */
  realPath: string | null
  /** The library folders, as real paths. */
  folders: readonly string[]
}

export type MediaDecision = { allow: true; file: string } | { allow: false; status: 403 | 404; reason: string }

/**
 * Which file a media request may read: only a library photo, only once its real path (links
 * followed) lies inside a library folder. A link inside a folder that leads out of every library
 * folder is refused, as is a photo whose folder was removed from the library.
 */
export function scopeMediaFile(request: MediaRequest, facts: MediaFacts): MediaDecision {
  if (facts.libraryPath === undefined) return { allow: false, status: 404, reason: `No photo ${request.id} in the library` }
  if (facts.realPath === null) return { allow: false, status: 404, reason: `${facts.libraryPath} cannot be found (offline?)` }
  if (!facts.folders.some((folder) => isInside(facts.realPath!, folder))) {
    return { allow: false, status: 403, reason: `${facts.libraryPath} leads outside the library folders` }
  }
  return { allow: true, file: facts.realPath }
}

/** A media file to send: a file on disk, or bytes made on the fly (a browser-viewable copy). */
export type MediaFile = { contentType: string; file: string } | { contentType: string; data: Buffer }

export class MediaError extends SdlError {
  constructor(
    readonly status: 400 | 403 | 404 | 500,
    message: string
  ) {
    super(message)
  }
}

/** Formats every browser shows as they are; others (TIFF, HEIC, camera RAW) are sent as a JPEG copy. */
const BROWSER_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif'
}

/** Longest side of the JPEG copy of a photo browsers cannot show. */
const VIEW_SIZE = 2560

/** Resolves media requests for both windows (the Electron protocol handler and web mode). */
export class MediaService {
  constructor(private readonly engine: Engine) {}

  async resolve(request: MediaRequest): Promise<MediaFile> {
    const library = await this.engine.library()
    const row = (await this.engine.repositories()).catalog.byId(request.id)
    // A RAW+JPEG pair is viewed as its JPEG, the file it is tagged by, where that could be read.
    const shown = row && (row.files.find((f) => f.shown)?.path ?? row.path)
    const decision = scopeMediaFile(request, {
      libraryPath: shown,
      realPath: shown ? realOrNull(shown) : null,
      folders: library.store.folders().map((f) => realOrNull(f.path) ?? f.path)
    })
    if (!decision.allow) throw new MediaError(decision.status, decision.reason)
    if (!statSync(decision.file, { throwIfNoEntry: false })?.isFile()) throw new MediaError(404, `${row!.path} is not a file`)
    if (request.kind === 'thumb') {
      if (row!.status !== 'ok') throw new MediaError(404, `${row!.path} could not be read: ${row!.reason ?? 'unknown reason'}`)
      const thumb = await library.thumbnail(row!.path).catch((err: Error) => {
        throw new MediaError(500, err.message)
      })
      // Thumbnails are the app's own files, under the data folder.
      if (!isInside(thumb, join(this.engine.dataDir, 'thumbnails'))) throw new MediaError(500, `Unexpected thumbnail location ${thumb}`)
      return { contentType: 'image/webp', file: thumb }
    }
    const type = BROWSER_TYPES[extname(decision.file).toLowerCase()]
    if (type) return { contentType: type, file: decision.file }
    return { contentType: 'image/jpeg', data: await viewableCopy(decision.file) }
  }
}

async function viewableCopy(file: string): Promise<Buffer> {
  const [{ readFile }, { processPhoto, describeSource }, { isRawFileName }, { withRawPreview }] = await Promise.all([
    import('node:fs/promises'),
    import('../image/preprocess'),
    import('../image/photoFiles'),
    import('../image/rawPhoto')
  ])
  const encode = (bytes: Buffer) =>
    processPhoto(bytes, describeSource(file), { ignoreIcc: false }, (image) =>
      image.resize(VIEW_SIZE, VIEW_SIZE, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 88 }).toBuffer()
    )
  try {
    // A camera RAW is shown by its embedded preview, upright by the RAW's orientation.
    return isRawFileName(file) ? await withRawPreview(file, (raw) => encode(raw.jpeg)) : await encode(await readFile(file))
  } catch (err) {
    throw new MediaError(500, (err as Error).message)
  }
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}
