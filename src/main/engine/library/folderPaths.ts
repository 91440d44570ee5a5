import { relative, sep } from 'node:path'

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
