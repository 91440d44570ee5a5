/** A folder's entry as a path, with the folder's own separator (the server may be Windows, the page not). */
export function childPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/'
  return folder.endsWith(sep) ? folder + name : folder + sep + name
}
