/** A watched photo folder as front ends see it. */
export interface FolderInfo {
  path: string
  photos: number
  /** Set while the folder cannot be found (an unplugged drive): its photos are kept, marked offline. */
  offlineSince: string | null
  lastScanAt: string | null
}

export type PhotoStatus = 'ok' | 'error' | 'offline'

/** `sdl-tagger status --json` and the UI's library summary. */
export interface LibraryStatus {
  photos: number
  /** Photos with principal vectors from the active model. */
  indexed: number
  offline: number
  /** Photos whose files are gone, kept with their tags until purged (purge-missing, or the grace period). */
  missing: number
  errors: Array<{ path: string; reason: string }>
  folders: FolderInfo[]
}
