import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { libraryPath } from './store/paths'

/**
 * Where SDL Tagger keeps model packs and the library, following each platform's convention for
 * per-user application data. SDL_TAGGER_DATA_DIR overrides it, which tests and portable installs use.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.SDL_TAGGER_DATA_DIR) return env.SDL_TAGGER_DATA_DIR
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'sdl-tagger')
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'sdl-tagger')
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'sdl-tagger')
}

/**
 * The window's data folder. Earlier builds kept the window's library in Electron's appData
 * (`~/.config/sdl-tagger` on Linux), apart from the command line's: a library found only there is
 * still the one used, so that nobody's tags vanish with an update; otherwise both share the default.
 */
export function windowDataDir(legacyDir: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const dir = defaultDataDir(env, platform)
  if (env.SDL_TAGGER_DATA_DIR || resolve(legacyDir) === resolve(dir)) return dir
  return existsSync(libraryPath(legacyDir)) && !existsSync(libraryPath(dir)) ? legacyDir : dir
}
