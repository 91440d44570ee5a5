import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FolderListing, Result } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { MAX_BROWSE_ENTRIES, listFolder } from '../../src/main/engine/library/folderBrowser'
import { tempDir } from '../helpers/sharedData'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

// chmod 000 does not keep root out: as root the unreadable folder is readable, so that case cannot be shown.
const runningAsRoot = process.getuid?.() === 0

// Web mode's folder browser through the engine API, on a home folder of the test's own: what a
// person at the browser can see of the server's folders, and the paths they type.
describe('folder browser and typed paths', () => {
  const tmp = tempDir()
  const home = join(tmp.dir, 'home')
  const pictures = join(home, 'Pictures')
  let api: EngineApi

  beforeAll(() => {
    for (const dir of ['Pictures/2024', 'Pictures/2023', 'Pictures/10 trip', 'Pictures/2 beach', 'Pictures/.thumbnails', 'Pictures/locked/inside', 'Models'])
      mkdirSync(join(home, dir), { recursive: true })
    writeFileSync(join(pictures, 'cat.jpg'), 'a photo, never listed')
    writeFileSync(join(home, 'Models', 'conse.onnx'), 'model')
    writeFileSync(join(home, 'Models', 'NUS.PTH'), 'checkpoint')
    writeFileSync(join(home, 'Models', 'notes.txt'), 'notes')
    symlinkSync(join(pictures, '2024'), join(pictures, 'latest'))
    symlinkSync(join(tmp.dir, 'gone'), join(pictures, 'broken link'))
    chmodSync(join(pictures, 'locked'), 0o000)
    vi.stubEnv('HOME', home)
    api = createEngineApi(new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' }))
  })

  afterAll(() => {
    vi.unstubAllEnvs()
    chmodSync(join(pictures, 'locked'), 0o755)
    tmp.cleanup()
  })

  it('starts at the home folder and lists its subfolders by name only', async () => {
    const listing = value(await api.browseFolder())
    expect(listing).toEqual({
      path: home,
      parent: tmp.dir,
      home,
      entries: [
        { name: 'Models', kind: 'folder', readable: true },
        { name: 'Pictures', kind: 'folder', readable: true }
      ],
      more: 0
    } satisfies FolderListing)
  })

  it('leaves hidden folders, files and broken links out, follows a link to a folder, and sorts numbers as numbers', async () => {
    const listing = value(await api.browseFolder({ path: pictures }))
    expect(listing.entries.map((e) => e.name)).toEqual(['2 beach', '10 trip', '2023', '2024', 'latest', 'locked'])
    expect(listing.entries.every((e) => e.kind === 'folder')).toBe(true)
    expect(listing.parent).toBe(home)
  })

  it('expands ~/… and a path relative to the home folder', async () => {
    expect(value(await api.browseFolder({ path: '~/Pictures' })).path).toBe(pictures)
    expect(value(await api.browseFolder({ path: 'Pictures/2024' })).path).toBe(join(pictures, '2024'))
    expect(value(await api.browseFolder({ path: '~' })).path).toBe(home)
  })

  it('lists model files (.onnx, .pth in any case) beside the folders only when asked for', async () => {
    expect(value(await api.browseFolder({ path: '~/Models' })).entries).toEqual([])
    expect(value(await api.browseFolder({ path: '~/Models', files: 'models' })).entries).toEqual([
      { name: 'conse.onnx', kind: 'file', readable: true },
      { name: 'NUS.PTH', kind: 'file', readable: true }
    ])
  })

  it.skipIf(runningAsRoot)('marks a folder the user cannot read, and refuses to list it', async () => {
    const listing = value(await api.browseFolder({ path: pictures }))
    expect(listing.entries.find((e) => e.name === 'locked')).toEqual({ name: 'locked', kind: 'folder', readable: false })
    const refused = await api.browseFolder({ path: join(pictures, 'locked') })
    expect(refused).toEqual({ ok: false, error: { message: `${join(pictures, 'locked')} cannot be read by the user SDL Tagger runs as`, hint: 'Choose another folder.' } })
  })

  it('says what is wrong with a path that is no folder', async () => {
    expect(await api.browseFolder({ path: '~/Nowhere' })).toMatchObject({ ok: false, error: { message: '~/Nowhere does not exist' } })
    expect(await api.browseFolder({ path: '~/Pictures/cat.jpg' })).toMatchObject({ ok: false, error: { message: '~/Pictures/cat.jpg is not a folder' } })
    expect(await api.browseFolder({ path: '~bob' })).toMatchObject({ ok: false, error: { message: "~bob: another user's home folder (~name) is not supported" } })
    expect(await api.browseFolder({ files: 'photos' } as never)).toMatchObject({
      ok: false,
      error: { message: 'browseFolder: argument \'request.files\' must be "models" (got "photos")' }
    })
  })

  it('holds at most its share of a huge folder and says how many were left out', async () => {
    const huge = join(tmp.dir, 'huge')
    for (let i = 0; i < MAX_BROWSE_ENTRIES + 3; i++) mkdirSync(join(huge, `d${i}`), { recursive: true })
    const listing = await listFolder(huge, { home })
    expect(listing.entries).toHaveLength(MAX_BROWSE_ENTRIES)
    expect(listing.more).toBe(3)
  })

  it('adds a library folder typed as ~/… or relative to the home folder', async () => {
    const added = value(await api.addFolder('~/Pictures/2024'))
    expect(added.path).toBe(join(pictures, '2024'))
    expect(value(await api.addFolder('Pictures/2023')).path).toBe(join(pictures, '2023'))
    expect(await api.addFolder('~/Nowhere')).toMatchObject({ ok: false, error: { message: `${join(home, 'Nowhere')} does not exist` } })
  })
})
