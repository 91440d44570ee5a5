import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/sharedData'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { VOCAB_DIR, gunzipFixture } from '../helpers/sdlFixtures'

/**
 * A local mirror of the official hosts: serves the fixture checkpoint under the official file
 * name, and the vocabulary pickles, with Range support and a switch that drops the connection
 * part-way through the checkpoint once.
 */
describe('model install', () => {
  const tmp = tempDir()
  const files = new Map<string, Buffer>()
  const requests: Array<{ path: string; range?: string }> = []
  let dropCheckpointAfter: number | null = null
  let server: Server
  let mirror = ''

  beforeAll(async () => {
    files.set('NUS_mtresnet_224.pth', readFileSync(await gunzipFixture('zip', tmp.dir)))
    for (const f of readdirSync(VOCAB_DIR)) files.set(f, readFileSync(join(VOCAB_DIR, f)))
    server = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '/').slice(1))
      requests.push({ path: name, range: req.headers.range })
      const body = files.get(name)
      if (!body) return void res.writeHead(404).end()
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
      const headers: Record<string, string | number> = { 'content-length': body.length - start, 'accept-ranges': 'bytes' }
      if (start) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`
      res.writeHead(start ? 206 : 200, headers)
      if (name === 'NUS_mtresnet_224.pth' && dropCheckpointAfter !== null) {
        const cut = dropCheckpointAfter
        dropCheckpointAfter = null
        res.write(body.subarray(start, cut), () => res.destroy())
      } else {
        res.end(body.subarray(start))
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    tmp.cleanup()
  })

  it('resumes an interrupted download, records the checkpoint checksum, and imports', async () => {
    const dataDir = join(tmp.dir, 'resume')
    dropCheckpointAfter = 40_000_000
    const first = await runCliCaptured(['--data-dir', dataDir, 'model', 'install', 'sdl-nus-wide', '--mirror', mirror])
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/NUS_mtresnet_224\.pth/)
    expect(first.stderr).toMatch(/model import/)
    expect(existsSync(join(dataDir, 'models', 'sdl-nus-wide'))).toBe(false)

    requests.length = 0
    const second = await runCliCaptured(['--data-dir', dataDir, '--json', 'model', 'install', 'sdl-nus-wide', '--mirror', mirror])
    expect(second.stderr).not.toMatch(/^error/m)
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ name: 'sdl-nus-wide', origin: 'install', tagCount: 1006, active: true })
    // The server destroys the socket after writing 40 MB, so the client kept somewhat less: what
    // was still in the socket buffers, however slowly it read (those hold a few MB, not 30).
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests.find((r) => r.path === 'NUS_mtresnet_224.pth')?.range ?? '')?.[1])
    expect(resumedFrom).toBeGreaterThan(10_000_000)
    expect(resumedFrom).toBeLessThanOrEqual(40_000_000)
    // Vocabulary files that were complete and verified are not fetched again.
    expect(requests.map((r) => r.path)).toEqual(['NUS_mtresnet_224.pth'])

    const recorded = JSON.parse(readFileSync(join(dataDir, 'downloads', 'checksums.json'), 'utf8'))
    expect(recorded['NUS_mtresnet_224.pth']).toMatch(/^[0-9a-f]{64}$/)
    expect(existsSync(join(dataDir, 'downloads', 'sdl-nus-wide'))).toBe(false)
  })

  it('refuses a vocabulary file whose checksum is wrong, leaving no pack', async () => {
    const dataDir = join(tmp.dir, 'tampered')
    const original = files.get('classes.pickle')!
    files.set('classes.pickle', Buffer.concat([original, Buffer.from('x')]))
    try {
      const run = await runCliCaptured(['--data-dir', dataDir, 'model', 'install', 'sdl-nus-wide', '--mirror', mirror])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/classes\.pickle/)
      expect(run.stderr).toMatch(/a8abc64a04f3810afe6357a9a8fa104aec78f590727a607c7557e33c13af6087/)
      expect(existsSync(join(dataDir, 'models', 'sdl-nus-wide'))).toBe(false)
    } finally {
      files.set('classes.pickle', original)
    }
  })

  it('fails offline, naming the URL, the reason and the `model import` alternative', async () => {
    const dataDir = join(tmp.dir, 'offline')
    const run = await runCliCaptured(['--data-dir', dataDir, 'model', 'install', 'sdl-nus-wide', '--mirror', 'http://sdl-tagger-offline.invalid/zsl'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/http:\/\/sdl-tagger-offline\.invalid\/zsl\/classes\.pickle/)
    // Either the look-up fails, or (a resolver that never answers) the connect timeout ends it:
    // downloadFile.test.ts shows that timeout firing.
    expect(run.stderr).toMatch(/host name could not be resolved|no answer within/)
    expect(run.stderr).toMatch(/sdl-tagger model import/)
    expect(existsSync(join(dataDir, 'models', 'sdl-nus-wide'))).toBe(false)
  })

  it('knows only the models in its catalogue', async () => {
    const run = await runCliCaptured(['--data-dir', join(tmp.dir, 'unknown'), 'model', 'install', 'yolo'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/'yolo' is not a model .* Installable: sdl-nus-wide/s)
  })
})
