import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent, ModelInstallProgress, Result } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { VOCAB_DIR } from '../helpers/sdlFixtures'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

/** Resolves with the first event `match` accepts (events seen so far included). */
function nextEvent(api: EngineApi, match: (e: ApiEvent) => boolean, timeoutMs = 60_000): Promise<ApiEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error('no matching event'))
    }, timeoutMs)
    const off = api.events.subscribe((e) => {
      if (!match(e)) return
      clearTimeout(timer)
      off()
      resolve(e)
    })
  })
}

// The API's background jobs over a real engine: model installs (a local mirror that is slow, or
// lacks the files), folder states with unreadable photos and offline folders, and watching.
describe('engine API jobs', () => {
  const tmp = tempDir()
  const folder = join(tmp.dir, 'Photos')
  let engine: Engine
  let api: EngineApi
  let mirror: Server
  let mirrorUrl = ''

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of readdirSync(COCO_DIR)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 3))
      copyFileSync(join(COCO_DIR, name), join(folder, name))
    writeFileSync(join(folder, 'broken.jpg'), 'this is not a JPEG')
    engine = new Engine({ dataDir: join(tmp.dir, 'data'), executionProvider: 'cpu' })
    api = createEngineApi(engine)
    // A mirror with the real vocabulary that trickles the checkpoint, so an install can be cancelled mid-download.
    mirror = createServer((req, res) => {
      const name = (req.url ?? '/').slice(1)
      if (readdirSync(VOCAB_DIR).includes(name)) return void res.writeHead(200).end(readFileSync(join(VOCAB_DIR, name)))
      if (name !== 'NUS_mtresnet_224.pth') return void res.writeHead(404).end()
      res.writeHead(200, { 'content-length': 50_000_000 })
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 20)
      res.on('close', () => clearInterval(timer))
    })
    await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
    mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await api.stop()
    await engine.close()
    mirror.closeAllConnections()
    await new Promise((resolve) => mirror.close(resolve))
    tmp.cleanup()
  })

  it('reports a model download in bytes and stops it on cancel', async () => {
    const events: ModelInstallProgress[] = []
    const off = api.events.subscribe((e) => e.type === 'model-install' && events.push(e.progress))
    const checkpoint = (p: ModelInstallProgress) => p.phase === 'download' && p.done > 0 && Boolean(p.step?.includes('NUS_mtresnet_224.pth'))
    const firstBytes = nextEvent(api, (e) => e.type === 'model-install' && checkpoint(e.progress))
    const install = api.installModel('sdl-nus-wide', { mirror: mirrorUrl })
    await firstBytes
    expect(await api.installModel('sdl-nus-wide', { mirror: mirrorUrl })).toMatchObject({ ok: false, error: { message: 'sdl-nus-wide is being installed' } })
    expect(value(await api.cancelModelInstall())).toEqual({ cancelled: true })
    expect((await install).ok).toBe(false)
    off()
    // The vocabulary first, then the checkpoint, each reported in bytes.
    expect(events.some((p) => p.phase === 'download' && p.done > 0 && Boolean(p.step?.includes('classes.pickle')))).toBe(true)
    expect(events.filter(checkpoint)[0]).toMatchObject({ name: 'sdl-nus-wide', unit: 'bytes', total: 50_000_000 })
    expect(events.at(-1)).toMatchObject({ phase: 'cancelled' })
    expect(value(await api.cancelModelInstall())).toEqual({ cancelled: false })
    expect(value(await api.listCatalog()).available).toEqual([expect.objectContaining({ name: 'sdl-nus-wide', installed: false, approxBytes: expect.any(Number) })])
  })

  it('answers a failed install or import as an error envelope and a failed event', async () => {
    const failed = nextEvent(api, (e) => e.type === 'model-install' && e.progress.phase === 'failed')
    const unknown = await api.installModel('no-such-model')
    expect(unknown).toMatchObject({ ok: false, error: { message: "'no-such-model' is not a model SDL Tagger knows how to install" } })
    expect(await failed).toMatchObject({ progress: { name: 'no-such-model', error: { message: expect.stringMatching(/no-such-model/) } } })
    const missing = join(tmp.dir, 'missing.pth')
    expect(await api.importModel({ checkpointPath: missing, vocabDir: tmp.dir })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/classes\.pickle/) } })
    const imported = await api.importModel({ checkpointPath: missing, vocabDir: VOCAB_DIR })
    expect(imported).toMatchObject({ ok: false, error: { message: expect.stringMatching(/missing\.pth/) } })
    expect(await api.importModel({} as never)).toMatchObject({ ok: false, error: { message: "importModel: argument 'request.checkpointPath' must be text (got nothing)" } })
  })

  it('activates a pack and says the model changed', async () => {
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    expect(await api.activateModel('nope')).toMatchObject({ ok: false })
    const changed = nextEvent(api, (e) => e.type === 'library-changed' && e.change === 'model')
    expect(value(await api.activateModel('conse'))).toMatchObject({ name: 'conse', active: true })
    await changed
  })

  it('shows each folder with its unreadable photos and reasons, and offline folders', async () => {
    value(await api.addFolder(folder))
    const done = nextEvent(api, (e) => e.type === 'indexing' && e.progress.phase === 'done')
    value(await api.startIndexing())
    const last = await done
    expect(last).toMatchObject({ progress: { summary: { indexed: 3, failed: 1 }, errors: [{ path: expect.stringMatching(/broken\.jpg$/), reason: expect.any(String) }] } })
    const [state] = value(await api.listFolders())
    expect(state).toMatchObject({ photos: 4, indexed: 3, offline: false })
    expect(state.errors).toEqual([{ path: expect.stringMatching(/broken\.jpg$/), reason: expect.stringMatching(/.+/) }])
    expect(value(await api.getPhoto(value(await api.listPhotos({ offset: 0, limit: 10 })).photos.find((p) => p.name === 'broken.jpg')!.id))).toMatchObject({
      status: 'error',
      indexed: false,
      reason: expect.any(String),
      facets: []
    })
    expect(await api.addFolder(join(folder, 'nowhere'))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/does not exist/) } })

    renameSync(folder, `${folder}-away`)
    const offline = nextEvent(api, (e) => e.type === 'indexing' && e.progress.phase === 'done')
    value(await api.rescanFolder(folder))
    expect(await offline).toMatchObject({ progress: { summary: { offlineFolders: [folder] } } })
    expect(value(await api.listFolders())[0]).toMatchObject({ offline: true, offlineSince: expect.any(String), photos: 4 })
    renameSync(`${folder}-away`, folder)
  })

  it('a newer search supersedes one still running: its hits are dropped, not shown late', async () => {
    const [older, newer] = await Promise.all([api.search('dog'), api.search('person', { all: true })])
    expect(value(older)).toMatchObject({ query: 'dog', superseded: true, hits: [] })
    expect(value(newer)).toMatchObject({ query: 'person', superseded: false })
    expect(value(newer).hits.length).toBeGreaterThan(0)
  })

  it('follows the folders while watching, and stops when asked', async () => {
    const watching = nextEvent(api, (e) => e.type === 'watch' && e.state === 'watching')
    expect(value(await api.setWatching(true)).state).toMatch(/starting|watching/)
    expect(await watching).toMatchObject({ folders: [folder] })
    expect(value(await api.getSettings()).watchFolders).toBe(true)
    expect(value(await api.listFolders())[0]).toMatchObject({ watch: 'watching', offline: false })

    const changed = nextEvent(api, (e) => e.type === 'library-changed' && e.change === 'photos')
    await writeTestPhoto(join(folder, 'new', 'arrived.jpg'), 42)
    await changed
    const page = value(await api.listPhotos({ offset: 0, limit: 10 }))
    expect(page.photos.map((p) => p.name)).toContain('arrived.jpg')

    expect(value(await api.setWatching(false))).toEqual({ state: 'off' })
    expect(value(await api.getSettings()).watchFolders).toBe(false)
    expect(JSON.parse(readFileSync(join(engine.dataDir, 'app-settings.json'), 'utf8')).watchFolders).toBe(false)
  })

  it('removes a folder with its photos (the files stay)', async () => {
    const changed = nextEvent(api, (e) => e.type === 'library-changed' && e.change === 'folders')
    expect(value(await api.removeFolder(folder))).toEqual({ removed: folder })
    await changed
    expect(value(await api.listFolders())).toEqual([])
    expect(value(await api.listPhotos({ offset: 0, limit: 10 })).total).toBe(0)
    expect(readdirSync(folder)).toContain('broken.jpg')
    expect(await api.startIndexing()).toMatchObject({ ok: false, error: { message: 'The library has no folders yet' } })
  })
})

describe('the engine API on malformed calls', () => {
  it('answers null or missing arguments with an error envelope or the defaults, never a crash', async () => {
    const tmp = tempDir()
    const engine = new Engine({ dataDir: tmp.dir })
    const api = createEngineApi(engine)
    try {
      // Checked against the contract's schemas before any part of the engine sees them.
      expect(await api.listPhotos(null as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^listPhotos: argument 'request'/) } })
      expect(await api.getPhoto(null as never, null as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^getPhoto: argument 'id'/) } })
      expect(await api.search(undefined as never)).toMatchObject({ ok: false, error: { message: "search: argument 'query' must be text (got nothing)" } })
      expect(await api.addFolder({ path: '/' } as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^addFolder: argument 'path' must be text/) } })
      expect(await api.updateSettings(null as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Settings must be an object/) } })
      expect(await api.exportXmp(null as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^exportXmp: argument 'request'/) } })
      expect(value(await api.listPhotos({ offset: 0, limit: 10 }))).toEqual({ total: 0, offset: 0, photos: [] })
    } finally {
      await engine.close()
      tmp.cleanup()
    }
  })
})

describe('the engine API when the library cannot be opened', () => {
  it('starting with watching on reports a watch error event instead of throwing', async () => {
    const tmp = tempDir()
    // A folder where the database file should be: SQLite cannot open it.
    mkdirSync(join(tmp.dir, 'library.sqlite'))
    writeFileSync(join(tmp.dir, 'app-settings.json'), JSON.stringify({ watchFolders: true }))
    const engine = new Engine({ dataDir: tmp.dir })
    const api = createEngineApi(engine)
    const events: ApiEvent[] = []
    api.events.subscribe((e) => events.push(e))
    try {
      await api.start()
      const cannotOpen = expect.stringMatching(/may not read and write the library file .*library\.sqlite/)
      expect(events).toContainEqual({ type: 'watch', state: 'error', folders: [], error: { message: cannotOpen, hint: expect.any(String) } })
      expect(await api.listFolders()).toMatchObject({ ok: false, error: { message: cannotOpen } })
    } finally {
      await engine.close()
      tmp.cleanup()
    }
  })
})
