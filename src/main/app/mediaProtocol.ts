import { readFile } from 'node:fs/promises'
import { MEDIA_PROTOCOL } from '../../shared/api'
import { MediaError, type MediaFile, type MediaRequest, parseMediaUrl } from '../engine/api/media'

/**
 * How the sdl-media scheme is registered (before the app is ready): a standard, secure scheme, so
 * `sdl-media://thumb/12` parses as host `thumb` and path `/12`, may be used from the secure app
 * page, and is fetchable. It gets no CSP bypass: the page's policy names it in img-src.
 */
export const MEDIA_SCHEME = {
  scheme: MEDIA_PROTOCOL,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true }
} as const

export interface MediaResponse {
  status: number
  headers: Record<string, string>
  body: Buffer | string
}

/**
 * Answers one sdl-media request: only the form `sdl-media://<thumb|photo>/<id>` is understood, the
 * photo is looked up by id in the library and served only from inside a library folder (see
 * scopeMediaFile); everything else is a plain-text error. Never throws.
 */
export async function mediaResponse(url: string, resolve: (request: MediaRequest) => Promise<MediaFile>): Promise<MediaResponse> {
  const request = parseMediaUrl(url)
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }
  if (!request || !url.startsWith(`${MEDIA_PROTOCOL}:`)) return { status: 400, headers, body: 'Not a media URL' }
  try {
    const media = await resolve(request)
    const body = 'file' in media ? await readFile(media.file) : media.data
    return { status: 200, headers: { 'content-type': media.contentType, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }, body }
  } catch (err) {
    return { status: err instanceof MediaError ? err.status : 500, headers, body: (err as Error).message }
  }
}
