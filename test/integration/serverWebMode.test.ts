import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent, IndexingProgress, PhotoSummary, Result } from '../../src/shared/api'
import { createHttpApi } from '../../src/shared/httpApi'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { MediaService } from '../../src/main/engine/api/media'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { type RunningWebServer, startWebServer } from '../../src/main/server/webServer'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

/** A raw HTTP request: unlike fetch, it sends the path exactly as given (no `..` folding). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = ''
      res.on('data', (c) => (body += String(c)))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Collects server-sent events until `until` says stop. */
async function collectEvents(
  base: string,
  until: (e: ApiEvent) => boolean,
  headers: Record<string, string> = {}
): Promise<{ events: ApiEvent[]; ready: Promise<void>; done: Promise<ApiEvent[]> }> {
  const response = await fetch(`${base}/api/events`, { headers })
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const reader = response.body!.getReader()
  const events: ApiEvent[] = []
  let buffer = ''
  let markReady = () => {}
  const ready = new Promise<void>((r) => (markReady = r))
  const done = (async () => {
    const decoder = new TextDecoder()
    for (;;) {
      const { value, done: ended } = await reader.read()
      if (ended) return events
      buffer += decoder.decode(value, { stream: true })
      let at: number
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, at)
        buffer = buffer.slice(at + 2)
        if (message.startsWith(': connected')) markReady()
        if (!message.startsWith('data: ')) continue
        const event = JSON.parse(message.slice(6)) as ApiEvent
        events.push(event)
        if (until(event)) {
          await reader.cancel()
          return events
        }
      }
    }
  })()
  return { events, ready, done }
}

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

// Web mode over a real library: the ConSE pack, five COCO photos and one generated photo, the
// engine behind EngineApi, and the HTTP server in front of it, driven as the browser drives it.
describe('web mode over a real library', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const outside = join(tmp.dir, 'Private')
  const rendererDir = join(tmp.dir, 'renderer')
  const names = readdirSync(COCO_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, 5)
  let engine: Engine
  let api: EngineApi
  let server: RunningWebServer
  let base: string

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    await writeTestPhoto(join(folder, 'sub', 'generated.jpg'), 7)
    await writeTestPhoto(join(outside, 'secret.jpg'), 9)
    mkdirSync(join(rendererDir, 'assets'), { recursive: true })
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>SDL Tagger</title><script type="module" src="/assets/app.js"></script>')
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app")')
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    api = createEngineApi(engine)
    const media = new MediaService(engine)
    server = await startWebServer({
      api,
      subscribe: (l) => api.events.subscribe(l),
      resolveMedia: (r) => media.resolve(r),
      rendererDir,
      host: '127.0.0.1',
      port: 0
    })
    base = server.url.replace(/\/$/, '')
  }, 300_000)
  afterAll(async () => {
    await server?.close()
    await api?.stop()
    await engine?.close()
    tmp.cleanup()
  })

  const http = () => createHttpApi({ baseUrl: base })

  it('adds a folder and indexes it, with server-sent progress to the end', async () => {
    const client = http()
    const added = value(await client.addFolder(folder))
    expect(added).toMatchObject({ photos: 0, indexed: 0, offline: false, watch: 'off', errors: [] })
    const stream = await collectEvents(base, (e) => e.type === 'indexing' && ['done', 'failed', 'cancelled'].includes(e.progress.phase))
    await stream.ready
    const started = value(await client.startIndexing())
    expect(started.phase).toBe('starting')
    const events = await stream.done
    const progress = events.filter((e): e is { type: 'indexing'; progress: IndexingProgress } => e.type === 'indexing').map((e) => e.progress)
    const last = progress.at(-1)!
    expect(last).toMatchObject({ runId: started.runId, phase: 'done', done: 6, total: 6, errors: [] })
    expect(last.summary).toMatchObject({ indexed: 6, failed: 0, cancelled: false })
    // Progress only ever moves forward.
    for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThanOrEqual(progress[i - 1].done)
    expect(events.some((e) => e.type === 'indexing' && e.progress.phase === 'indexing')).toBe(true)
    expect(value(await client.getIndexing())).toMatchObject({ phase: 'done', done: 6 })
    const [state] = value(await client.listFolders())
    expect(state).toMatchObject({ photos: 6, indexed: 6, errors: [] })
  })

  it('pages photos in path order with what the grid needs', async () => {
    const client = http()
    const first = value(await client.listPhotos({ offset: 0, limit: 4, sort: 'path' }))
    const rest = value(await client.listPhotos({ offset: 4, limit: 4, sort: 'path' }))
    expect(first.total).toBe(6)
    expect(first.photos).toHaveLength(4)
    expect(rest.photos).toHaveLength(2)
    const all = [...first.photos, ...rest.photos]
    expect(all.map((p) => p.path)).toEqual([...all.map((p) => p.path)].sort())
    const generated = all.find((p) => p.name === 'generated.jpg')!
    expect(generated).toMatchObject({ width: 96, height: 64, status: 'ok', offline: false })
    const bad = await client.listPhotos({ offset: -1, limit: 10 })
    expect(bad).toMatchObject({ ok: false, error: { message: expect.stringMatching(/offset/) } })
  })

  it('searches with photo ids, scores and match explanations, and completes words', async () => {
    const client = http()
    const response = value(await client.search('dog | person | car', { all: true, limit: 10 }))
    expect(response).toMatchObject({ model: 'conse', photos: 6, superseded: false })
    expect(response.hits).toHaveLength(6)
    const { photos } = value(await client.listPhotos({ offset: 0, limit: 10 }))
    const byId = new Map(photos.map((p: PhotoSummary) => [p.id, p]))
    for (const hit of response.hits) {
      expect(byId.get(hit.photoId)?.path).toBe(hit.path)
      expect(hit.name).toBe(byId.get(hit.photoId)?.name)
      expect(hit.match.nearestWords.length).toBeGreaterThan(0)
    }
    for (let i = 1; i < response.hits.length; i++) expect(response.hits[i - 1].score).toBeGreaterThanOrEqual(response.hits[i].score)
    const unknown = await client.search('qwzxv')
    expect(unknown).toMatchObject({ ok: false, error: { message: "Unknown word 'qwzxv' in the query" } })

    const completions = value(await client.complete('sunset -bea'))
    expect(completions.length).toBeGreaterThan(0)
    for (const c of completions) {
      expect(c.word.startsWith('bea')).toBe(true)
      expect(c.query).toBe(`sunset -${c.word}`)
    }
    expect(value(await client.complete('dog '))).toEqual([])
  })

  it('shows a photo with scored tags, decisions and its seven facets', async () => {
    const client = http()
    const { photos } = value(await client.listPhotos({ offset: 0, limit: 10 }))
    const id = photos[0].id
    const details = value(await client.getPhoto(id, { top: 5 }))
    expect(details).toMatchObject({ id, indexed: true, status: 'ok', folder: expect.any(String) })
    expect(details.tags.suggestions).toHaveLength(5)
    expect(details.facets).toHaveLength(7)
    for (const facet of details.facets) {
      expect(facet.nearestWords).toHaveLength(5)
      expect(facet.norm).toBeGreaterThan(0)
      for (let i = 1; i < facet.nearestWords.length; i++) expect(facet.nearestWords[i - 1].score).toBeGreaterThanOrEqual(facet.nearestWords[i].score)
    }
    const [best, second] = details.tags.suggestions
    const accepted = value(await client.acceptTag(id, best.tag))
    expect(accepted.decided).toEqual([{ tag: best.tag, state: 'accepted', score: expect.closeTo(best.score, 5), unseen: best.unseen }])
    expect(accepted.suggestions.map((s) => s.tag)).not.toContain(best.tag)
    const rejected = value(await client.rejectTag(id, second.tag))
    expect(rejected.decided.map((d) => [d.tag, d.state])).toEqual([
      [best.tag, 'accepted'],
      [second.tag, 'rejected']
    ])
    const own = value(await client.addTag(id, 'Birthday Party'))
    const ownTag = own.decided.find((d) => d.state === 'user')!
    expect(ownTag).toMatchObject({ tag: 'Birthday Party', unseen: true, score: expect.any(Number) })
    // A keyword the lexicon does not know is the user's own, unscored; an empty one is refused.
    expect(value(await client.addTag(id, 'Smyrnakis')).decided.find((d) => d.tag === 'Smyrnakis')).toMatchObject({ state: 'user', score: null })
    expect(await client.addTag(id, ' ')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/cannot be empty/) } })
    expect(await client.getPhoto(999_999)).toMatchObject({ ok: false, error: { message: 'No photo 999999 in the library' } })
  })

  it('exports XMP sidecars: the dry run previews without writing, the export writes the accepted tags', async () => {
    const client = http()
    const { photos } = value(await client.listPhotos({ offset: 0, limit: 10 }))
    const photo = photos[0]
    const { decided } = value(await client.getPhoto(photo.id)).tags
    const accepted = decided.find((d) => d.state === 'accepted')!.tag
    const sidecar = `${photo.path}.xmp`
    const preview = value(await client.exportXmp({ dryRun: true }))
    expect(preview).toMatchObject({ dryRun: true, failed: 0 })
    const entry = preview.entries.find((e) => e.sidecarPath === sidecar)!
    expect(entry).toMatchObject({ photoPath: photo.path, action: 'create' })
    expect(entry.tags).toEqual(expect.arrayContaining([accepted, 'Birthday Party', 'Smyrnakis']))
    expect(existsSync(sidecar)).toBe(false)
    const written = value(await client.exportXmp({ dryRun: false }))
    expect(written).toMatchObject({ dryRun: false, written: preview.written, failed: 0 })
    expect(readFileSync(sidecar, 'utf8')).toContain(accepted)
    // Nothing changed since: the sidecar is left as it is.
    expect(value(await client.exportXmp({ dryRun: true }))).toMatchObject({ written: 0, unchanged: written.written })
    expect(await client.exportXmp({ dryRun: true, minScore: 'high' as never })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/minScore/) } })
  })

  it('keeps settings in the data folder and refuses bad values by name', async () => {
    const client = http()
    expect(value(await client.getSettings())).toMatchObject({ topN: 10, theme: 'system' })
    expect(value(await client.updateSettings({ theme: 'dark', topN: 5 }))).toMatchObject({ theme: 'dark', topN: 5 })
    expect(JSON.parse(readFileSync(join(dataDir, 'app-settings.json'), 'utf8'))).toMatchObject({ theme: 'dark', topN: 5 })
    expect(await client.updateSettings({ theme: 'purple' } as never)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Setting 'theme'/) } })
    expect(await client.updateSettings({ colour: 1 } as never)).toMatchObject({ ok: false, error: { message: "Unknown setting 'colour'" } })
    expect(value(await client.getSettings())).toMatchObject({ theme: 'dark', topN: 5 })
  })

  it('puts the security headers on pages, API answers, media and errors', async () => {
    const { photos } = value(await http().listPhotos({ offset: 0, limit: 1 }))
    const responses = [
      await fetch(`${base}/`),
      await fetch(`${base}/api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args":[]}' }),
      await fetch(`${base}/media/thumb/${photos[0].id}`),
      await fetch(`${base}/media/photo/${photos[0].id}`),
      await fetch(`${base}/media/photo/999999`)
    ]
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404])
    for (const r of responses) {
      const csp = r.headers.get('content-security-policy')!
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("connect-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-eval')
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
      expect(r.headers.get('referrer-policy')).toBe('no-referrer')
    }
    expect(responses[0].headers.get('content-type')).toMatch(/^text\/html/)
    expect(responses[2].headers.get('content-type')).toBe('image/webp')
    expect(responses[3].headers.get('content-type')).toBe('image/jpeg')
    // The photo is served as it is on disk.
    expect(Buffer.from(await responses[3].arrayBuffer()).equals(readFileSync(photos[0].path))).toBe(true)
    // App routes fall back to the page; missing assets do not.
    expect((await fetch(`${base}/photos/12`)).headers.get('content-type')).toMatch(/^text\/html/)
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404)
  })

  it('refuses path traversal, encoded or not, and any path in place of a photo id', async () => {
    const port = server.port
    for (const path of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/media/../../etc/passwd',
      '/media/photo/..%2f..%2f..%2fetc%2fpasswd',
      '/media/photo/%2fetc%2fpasswd',
      '/media/photo//etc/passwd',
      '/media/photo/1/../../../../etc/passwd',
      '/media/thumb/0',
      '/media/photo/1e3',
      '/..%5c..%5cetc%5cpasswd',
      '//etc/passwd'
    ]) {
      const r = await rawGet(port, path)
      expect(r.body, path).not.toMatch(/root:/)
      expect(r.body, path).not.toContain('secret')
      if (path !== '//etc/passwd') expect(r.status, path).toBeGreaterThanOrEqual(400)
      expect(r.headers['content-security-policy'], path).toBeDefined()
    }
    // A path where the API wants a photo id is no photo.
    expect(await http().getPhoto('/etc/passwd' as never)).toMatchObject({ ok: false })
  })

  it('refuses a library photo that became a link leading out of the library folders', async () => {
    const client = http()
    const { photos } = value(await client.listPhotos({ offset: 0, limit: 10 }))
    const victim = photos.find((p) => p.name === 'generated.jpg')!
    expect((await fetch(`${base}/media/photo/${victim.id}`)).status).toBe(200)
    rmSync(victim.path)
    symlinkSync(join(outside, 'secret.jpg'), victim.path)
    for (const kind of ['photo', 'thumb']) {
      const r = await fetch(`${base}/media/${kind}/${victim.id}`)
      expect(r.status, kind).toBe(403)
      expect(await r.text()).toMatch(/outside the library folders/)
    }
  })

  it('refuses requests naming another host (DNS rebinding) and API calls from other origins', async () => {
    const port = server.port
    expect((await rawGet(port, '/', { host: `evil.example:${port}` })).status).toBe(421)
    expect((await rawGet(port, '/', { host: `localhost:${port}` })).status).toBe(200)
    const foreign = await fetch(`${base}/api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' })
    expect(foreign.status).toBe(403)
    const form = await fetch(`${base}/api/getStatus`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })
    expect(form.status).toBe(415)
    const unknown = await fetch(`${base}/api/constructor`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(unknown.status).toBe(404)
  })

  it('with a token: every request needs it, the first page trades it for an HttpOnly cookie', async () => {
    const token = 'a-very-long-test-token-0123456789'
    const media = new MediaService(engine)
    const guarded = await startWebServer({
      api,
      subscribe: (l) => api.events.subscribe(l),
      resolveMedia: (r) => media.resolve(r),
      rendererDir,
      host: '127.0.0.1',
      port: 0,
      token
    })
    try {
      expect(guarded.url).toBe(`http://127.0.0.1:${guarded.port}/?token=${token}`)
      const root = `http://127.0.0.1:${guarded.port}`
      for (const path of ['/', '/api/events', '/media/thumb/1']) expect((await fetch(`${root}${path}`)).status, path).toBe(401)
      expect((await fetch(`${root}/api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401)
      expect((await fetch(`${root}/?token=wrong`, { redirect: 'manual' })).status).toBe(401)

      const first = await fetch(guarded.url, { redirect: 'manual' })
      expect(first.status).toBe(303)
      expect(first.headers.get('location')).toBe('/')
      const cookie = first.headers.get('set-cookie')!
      expect(cookie).toMatch(/HttpOnly/)
      expect(cookie).toMatch(/SameSite=Strict/)
      const withCookie = { cookie: cookie.split(';')[0] }
      expect((await fetch(`${root}/`, { headers: withCookie })).status).toBe(200)
      expect(
        value(await createHttpApi({ baseUrl: root, fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as object), ...withCookie } }) }).getStatus()).dataDir
      ).toBe(dataDir)
      expect(value(await createHttpApi({ baseUrl: root, token }).getSettings())).toMatchObject({ theme: 'dark' })
      expect(await createHttpApi({ baseUrl: root, token: 'another-long-token-that-is-wrong' }).getSettings()).toMatchObject({ ok: false })
      // With a token, the Host header is no longer the defence: any name reaching the port works.
      expect((await rawGet(guarded.port, '/', { host: 'photos.lan:80', authorization: `Bearer ${token}` })).status).toBe(200)
    } finally {
      await guarded.close()
    }
  })

  it('cancels indexing and reports it; the next run finishes the rest', async () => {
    const client = http()
    // Changed content on every photo, so a run has work to do.
    for (let i = 0; i < 12; i++) await writeTestPhoto(join(folder, 'more', `p${i}.jpg`), 100 + i)
    const stream = await collectEvents(base, (e) => e.type === 'indexing' && ['done', 'failed', 'cancelled'].includes(e.progress.phase))
    await stream.ready
    value(await client.startIndexing({ folder }))
    expect(value(await client.cancelIndexing())).toEqual({ cancelled: true })
    const last = (await stream.done).at(-1) as { type: 'indexing'; progress: IndexingProgress }
    expect(['cancelled', 'done']).toContain(last.progress.phase)
    expect(value(await client.cancelIndexing())).toEqual({ cancelled: false })
    const again = await collectEvents(base, (e) => e.type === 'indexing' && ['done', 'failed', 'cancelled'].includes(e.progress.phase))
    await again.ready
    value(await client.rescanFolder(folder))
    const finished = (await again.done).at(-1) as { type: 'indexing'; progress: IndexingProgress }
    expect(finished.progress.phase).toBe('done')
    expect(value(await client.listPhotos({ offset: 0, limit: 100 })).total).toBe(18)
  })

  it('serve refuses a non-loopback address without a token, before opening anything', async () => {
    const run = await runCliCaptured(['--data-dir', join(tmp.dir, 'never'), 'serve', '--host', '0.0.0.0', '--port', '0'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/Refusing to serve on 0\.0\.0\.0 without a token/)
    expect(run.stderr).toMatch(/hint: Add --token/)
    expect(run.stdout).toBe('')
    expect(readdirSync(tmp.dir)).not.toContain('never')
  })
})
