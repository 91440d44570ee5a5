import { constants } from 'node:fs'
import { access, readdir, realpath, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, extname, join } from 'node:path'
import type { BrowseEntry, FolderListing } from '../../../shared/api'
import { SdlError } from '../errors'
import { expandUserPath } from './userPaths'

/** The most entries one listing holds; a folder with more says how many were left out. */
export const MAX_BROWSE_ENTRIES = 5000

export interface BrowseOptions {
  /** Also list files with these extensions (lower case, with the dot). */
  fileExtensions?: readonly string[]
  home?: string
}

/**
 * One folder's subfolders, for picking a folder where the window cannot ask the system (web
 * mode): names only, never a file's contents, hidden entries left out, and each marked readable
 * or not for the user the engine runs as, so the browser reaches no further than that user can.
 */
export async function listFolder(path: string | undefined, opts: BrowseOptions = {}): Promise<FolderListing> {
  const home = opts.home ?? homedir()
  const asked = path === undefined ? home : expandUserPath(path, home)
  const folder = await realFolder(asked, path ?? asked)
  let dirents
  try {
    dirents = await readdir(folder, { withFileTypes: true })
  } catch (err) {
    throw unreadable(folder, err)
  }
  const extensions = new Set(opts.fileExtensions ?? [])
  const entries: BrowseEntry[] = []
  for (const dirent of dirents) {
    if (dirent.name.startsWith('.')) continue
    const full = join(folder, dirent.name)
    const kind = await kindOf(full, dirent.isDirectory(), dirent.isSymbolicLink(), dirent.isFile())
    if (kind === 'folder') entries.push({ name: dirent.name, kind, readable: await canOpen(full, constants.R_OK | constants.X_OK) })
    else if (kind === 'file' && extensions.has(extname(dirent.name).toLowerCase())) entries.push({ name: dirent.name, kind, readable: await canOpen(full, constants.R_OK) })
  }
  const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })
  entries.sort((a, b) => (a.kind === b.kind ? byName.compare(a.name, b.name) : a.kind === 'folder' ? -1 : 1))
  const parent = dirname(folder)
  return { path: folder, parent: parent === folder ? null : parent, home, entries: entries.slice(0, MAX_BROWSE_ENTRIES), more: Math.max(0, entries.length - MAX_BROWSE_ENTRIES) }
}

async function realFolder(path: string, typed: string): Promise<string> {
  let real: string
  try {
    real = await realpath(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SdlError(`${typed} does not exist`, 'Check the path, or go up a folder.')
    throw unreadable(path, err)
  }
  if (!(await stat(real)).isDirectory()) throw new SdlError(`${typed} is not a folder`)
  return real
}

/** A link counts as what it points to; a broken one, or anything but a file or folder, is left out. */
async function kindOf(path: string, isDirectory: boolean, isLink: boolean, isFile: boolean): Promise<BrowseEntry['kind'] | null> {
  if (!isLink) return isDirectory ? 'folder' : isFile ? 'file' : null
  try {
    const target = await stat(path)
    return target.isDirectory() ? 'folder' : target.isFile() ? 'file' : null
  } catch {
    return null
  }
}

async function canOpen(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode)
    return true
  } catch {
    return false
  }
}

function unreadable(path: string, err: unknown): SdlError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM') return new SdlError(`${path} cannot be read by the user SDL Tagger runs as`, 'Choose another folder.')
  return new SdlError(`${path} cannot be listed: ${(err as Error).message}`)
}
