import { type MediaKind, type PhotoId, type SdlTaggerBridge, type Transport, mediaUrl } from '../../../shared/api'
import { createHttpApi } from '../../../shared/httpApi'
import type { ShellBridge } from '../../../shared/shell'

/**
 * The renderer's only way to the engine: the preload's bridge in Electron, or the same API over
 * HTTP and server-sent events in web mode (the page's own origin, authenticated by the cookie
 * the first `?token=` load set).
 */
export const transport: Transport = window.sdlTagger ? 'electron' : 'web'
export const api: SdlTaggerBridge = window.sdlTagger ?? createHttpApi()
/** The system's pickers and dropped folders' paths: Electron only (null in web mode, where `api.browseFolder` lists the server's folders). */
export const shell: ShellBridge | null = window.sdlShell ?? null

export function media(kind: MediaKind, id: PhotoId): string {
  return mediaUrl(kind, id, transport)
}
