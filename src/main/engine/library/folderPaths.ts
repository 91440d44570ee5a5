import { realpathSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { SdlError } from '../errors'
import type { FolderRow } from './libraryStore'

/**
 * Whether `child` lies inside the folder `parent` (not the folder itself): the one test of folder
 * containment, for library folders, media scoping, the watcher and the indexer. Both are absolute
 * paths. A name that only starts with two dots (`..x`) is inside; another drive (Windows) is not.
 */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child)
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel)
}

/** The folder itself, or anything inside it. */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || isInside(path, folder)
}

/** The real absolute path where it exists, else the absolute path: how the library names files. */
export function safeRealpath(path: string): string {
  try {
    return realpathSync(resolve(path))
  } catch {
    return resolve(path)
  }
}

/**
 * The library folder a path names, as given or through links (the library records real paths):
 * the one lookup of a folder the user typed.
 */
export function findFolder(folders: { folder(path: string): FolderRow | undefined }, path: string): FolderRow | undefined {
  return folders.folder(resolve(path)) ?? folders.folder(safeRealpath(path))
}

/** findFolder, or an error that says how to add it. */
export function requireFolder(folders: { folder(path: string): FolderRow | undefined }, path: string): FolderRow {
  const row = findFolder(folders, path)
  if (!row) throw new SdlError(`${path} is not a library folder`, 'Add it first with `sdl-tagger folders add`.')
  return row
}
