import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Where SDL Tagger keeps model packs and (later) the library, following each platform's
 * convention for per-user application data. SDL_TAGGER_DATA_DIR overrides it, which tests and
 * portable installs use.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SDL_TAGGER_DATA_DIR) return env.SDL_TAGGER_DATA_DIR
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'sdl-tagger')
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'sdl-tagger')
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'sdl-tagger')
}
