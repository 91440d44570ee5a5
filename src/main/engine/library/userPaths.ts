import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { SdlError } from '../errors'

/**
 * A path as the person typing it means it: `~` (or `~/…`) is the home folder of the user the
 * engine runs as, also where a shell left it unexpanded (quoted), and a relative path starts at
 * `base`: the current folder at a prompt, the home folder in the window (the engine's own working
 * folder means nothing to someone at the window, least of all in web mode).
 */
export function expandUserPath(path: string, home = homedir(), base = home): string {
  if (path === '~') return home
  if (path.startsWith('~/') || (process.platform === 'win32' && path.startsWith('~\\'))) return join(home, path.slice(2))
  if (path.startsWith('~')) {
    throw new SdlError(`${path}: another user's home folder (~name) is not supported`, `Type the full path, or ~/… for a folder in ${home}.`)
  }
  return isAbsolute(path) ? resolve(path) : resolve(base, path)
}
