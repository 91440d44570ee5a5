import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultDataDir, windowDataDir } from '../../src/main/engine/dataDir'
import { tempDir } from '../helpers/sharedData'

describe("the window's data folder", () => {
  const tmp = tempDir('sdl-data-dir-')
  afterEach(() => tmp.cleanup())
  const env = { XDG_DATA_HOME: join(tmp.dir, 'share') }
  const legacy = join(tmp.dir, 'config', 'sdl-tagger')
  const library = (dir: string) => {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'library.sqlite'), '')
  }

  it("is the command line's folder when no earlier window library exists", () => {
    expect(windowDataDir(legacy, env, 'linux')).toBe(defaultDataDir(env, 'linux'))
    expect(defaultDataDir(env, 'linux')).toBe(join(tmp.dir, 'share', 'sdl-tagger'))
  })

  it('keeps using the library an earlier build made in Electron’s folder, so its tags do not vanish', () => {
    library(legacy)
    expect(windowDataDir(legacy, env, 'linux')).toBe(legacy)
  })

  it("prefers the command line's library when both exist", () => {
    library(legacy)
    library(defaultDataDir(env, 'linux'))
    expect(windowDataDir(legacy, env, 'linux')).toBe(defaultDataDir(env, 'linux'))
  })

  it('follows SDL_TAGGER_DATA_DIR whatever else exists', () => {
    library(legacy)
    expect(windowDataDir(legacy, { ...env, SDL_TAGGER_DATA_DIR: join(tmp.dir, 'portable') }, 'linux')).toBe(join(tmp.dir, 'portable'))
  })
})
