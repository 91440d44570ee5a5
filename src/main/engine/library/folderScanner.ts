import { type Dirent, promises as fs } from 'node:fs'
import { join } from 'node:path'
import { isIgnoredEntryName, isPhotoFileName } from '../image/photoFiles'

export interface ScannedFile {
  path: string
  size: number
  mtimeMs: number
}

export interface ScanResult {
  files: ScannedFile[]
  /** Photo-named entries that cannot even be looked at (a symbolic link loop, say). */
  unreadable: Array<{ path: string; reason: string }>
  /** Sub-folders that could not be listed: reported, never fatal. */
  skippedFolders: Array<{ path: string; reason: string }>
}

/**
 * Lists every photo file below `root`, following symbolic links but visiting each real folder
 * once, so a link back up the tree cannot make the walk endless. Hidden and system entries and
 * sidecars are skipped without descending into them.
 */
export async function scanFolder(root: string, signal?: AbortSignal): Promise<ScanResult> {
  const result: ScanResult = { files: [], unreadable: [], skippedFolders: [] }
  const visited = new Set<string>()
  const pending = [root]
  while (pending.length) {
    signal?.throwIfAborted()
    const dir = pending.pop()!
    let entries: Dirent[]
    try {
      const real = await fs.realpath(dir)
      if (visited.has(real)) continue
      visited.add(real)
      entries = await fs.readdir(dir, { withFileTypes: true })
    } catch (err) {
      result.skippedFolders.push({ path: dir, reason: describeFsError(err) })
      continue
    }
    for (const entry of entries) {
      if (isIgnoredEntryName(entry.name)) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        pending.push(path)
        continue
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue
      try {
        const stat = await fs.stat(path)
        if (stat.isDirectory()) pending.push(path)
        else if (stat.isFile() && isPhotoFileName(entry.name)) result.files.push({ path, size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) })
      } catch (err) {
        // Gone since the listing: nothing to record. Anything else named like a photo is an error the user should see.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && isPhotoFileName(entry.name)) {
          result.unreadable.push({ path, reason: describeFsError(err) })
        }
      }
    }
  }
  return result
}

/** A file-system error in words a user understands. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ELOOP':
      return 'it is a symbolic link that points back to itself (a link loop)'
    case 'ENOENT':
      return 'it no longer exists'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: this user may not read it'
    case 'EIO':
      return 'the disk reported a read error'
    default:
      return (err as Error).message
  }
}
