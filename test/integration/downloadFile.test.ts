import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { downloadFile } from '../../src/main/engine/download/downloadFile'
import type { Progress } from '../../src/main/engine/download/progress'
import { SdlError } from '../../src/main/engine/errors'

const data = randomBytes(3 * 1024 * 1024)
const sha = createHash('sha256').update(data).digest('hex')

/** Every request the server saw, so tests can check what the client asked for. */
const requests: { path: string; range: string | undefined }[] = []

/**
 * Serves `data` at /file with Range support. Query flags change its behaviour:
 * dropAfter=N closes the connection after N body bytes, stallAfter=N sends N bytes and then
 * nothing, ignoreRange answers 200 with the whole file, slow drips the body over ~0.6 s.
 */
function handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  requests.push({ path: url.pathname, range: req.headers.range })
  if (url.pathname !== '/file') {
    res.writeHead(404, 'Not Found').end('not here')
    return
  }
  const q = url.searchParams
  const range = q.has('ignoreRange') ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  const start = range ? Number(range[1]) : 0
  if (start >= data.length) {
    res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end()
    return
  }
  const body = data.subarray(start)
  res.writeHead(range ? 206 : 200, {
    'content-length': body.length,
    'accept-ranges': 'bytes',
    ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {})
  })
  if (q.has('dropAfter')) {
    res.write(body.subarray(0, Number(q.get('dropAfter'))))
    // Give the client time to read every byte sent, so the .part size is exact.
    setTimeout(() => res.socket?.destroy(), 200)
  } else if (q.has('stallAfter')) {
    res.write(body.subarray(0, Number(q.get('stallAfter'))))
  } else if (q.has('slow')) {
    const step = 128 * 1024
    let offset = 0
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + step))
      offset += step
      if (offset >= body.length) {
        clearInterval(timer)
        res.end()
      }
    }, 25)
    res.on('close', () => clearInterval(timer))
  } else {
    res.end(body)
  }
}

let server: Server
let base: string
let dir: string
let dest: string

beforeAll(async () => {
  server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dir = await mkdtemp(join(tmpdir(), 'sdl-download-'))
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

let testNo = 0
beforeEach(() => {
  requests.length = 0
  dest = join(dir, `model-${++testNo}`, 'file.bin')
})

/** Plants a .part as an earlier, interrupted run would have left it. */
async function writePart(content: Buffer): Promise<void> {
  await mkdir(dirname(dest), { recursive: true })
  await writeFile(`${dest}.part`, content)
}

async function expectSdlError(promise: Promise<unknown>): Promise<SdlError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(SdlError)
  return err as SdlError
}

describe('downloadFile', () => {
  it('downloads the whole file, hashes it and leaves no .part', async () => {
    const result = await downloadFile({ url: `${base}/file`, dest, expectedSha256: sha })
    expect(result).toEqual({ path: dest, bytes: data.length, sha256: sha, resumed: false })
    expect((await readFile(dest)).equals(data)).toBe(true)
    expect(existsSync(`${dest}.part`)).toBe(false)
    expect(requests[0].range).toBeUndefined()
  })

  it('leaves a .part and no file when interrupted, then resumes with a Range request', async () => {
    const url = `${base}/file?dropAfter=1000000`
    const err = await expectSdlError(downloadFile({ url, dest }))
    expect(err.message).toContain(url)
    expect(err.message).toMatch(/interrupted/)
    expect(existsSync(dest)).toBe(false)
    expect((await stat(`${dest}.part`)).size).toBe(1_000_000)

    const result = await downloadFile({ url: `${base}/file`, dest, expectedSha256: sha })
    expect(requests.at(-1)?.range).toBe('bytes=1000000-')
    expect(result).toMatchObject({ bytes: data.length, sha256: sha, resumed: true })
    expect((await readFile(dest)).equals(data)).toBe(true)
    expect(existsSync(`${dest}.part`)).toBe(false)
  })

  it('starts over when the server ignores the Range header', async () => {
    // A prefix that is not the file's: if it were kept, the hash and content would be wrong.
    await writePart(Buffer.alloc(500_000, 7))
    const result = await downloadFile({ url: `${base}/file?ignoreRange`, dest, expectedSha256: sha })
    expect(requests.at(-1)?.range).toBe('bytes=500000-')
    expect(result).toMatchObject({ bytes: data.length, sha256: sha, resumed: false })
    expect((await readFile(dest)).equals(data)).toBe(true)
  })

  it('treats a complete .part answered with 416 as done', async () => {
    await writePart(data)
    const result = await downloadFile({ url: `${base}/file`, dest, expectedSha256: sha })
    expect(result).toMatchObject({ bytes: data.length, sha256: sha, resumed: true })
    expect((await readFile(dest)).equals(data)).toBe(true)
  })

  it('restarts when a 416 says the .part is longer than the file', async () => {
    await writePart(Buffer.concat([data, Buffer.from('extra')]))
    const result = await downloadFile({ url: `${base}/file`, dest, expectedSha256: sha })
    expect(requests.map((r) => r.range).slice(-2)).toEqual([`bytes=${data.length + 5}-`, undefined])
    expect(result).toMatchObject({ bytes: data.length, sha256: sha, resumed: false })
  })

  it('deletes the download and names both hashes when the checksum does not match', async () => {
    const url = `${base}/file`
    const wrong = '0'.repeat(64)
    const err = await expectSdlError(downloadFile({ url, dest, expectedSha256: wrong }))
    expect(err.message).toContain(url)
    expect(err.message).toContain(wrong)
    expect(err.message).toContain(sha)
    expect(existsSync(dest)).toBe(false)
    expect(existsSync(`${dest}.part`)).toBe(false)
  })

  it('reports an HTTP error status with the URL', async () => {
    const url = `${base}/missing`
    const err = await expectSdlError(downloadFile({ url, dest }))
    expect(err.message).toContain(url)
    expect(err.message).toContain('404')
    expect(err.hint).toBeTruthy()
    expect(existsSync(dest)).toBe(false)
  })

  it('fails fast and clearly when the connection is refused', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`
    await new Promise((resolve) => closed.close(resolve))

    const started = Date.now()
    const err = await expectSdlError(downloadFile({ url, dest }))
    expect(Date.now() - started).toBeLessThan(5000)
    expect(err.message).toContain(`Could not reach ${url}`)
    expect(err.message).toMatch(/refused.*ECONNREFUSED/)
  })

  it('fails fast and clearly when the host name cannot be resolved', async () => {
    const url = 'http://sdl-tagger-offline.invalid/x'
    const started = Date.now()
    const err = await expectSdlError(downloadFile({ url, dest, connectTimeoutMs: 4000 }))
    expect(Date.now() - started).toBeLessThan(5000)
    expect(err.message).toContain(`Could not reach ${url}`)
    expect(err.message).toMatch(/host name could not be resolved|no answer within/)
  })

  it('gives up on a stalled body after the idle timeout and keeps the .part', async () => {
    const url = `${base}/file?stallAfter=100000`
    const started = Date.now()
    const err = await expectSdlError(downloadFile({ url, dest, idleTimeoutMs: 300 }))
    expect(Date.now() - started).toBeLessThan(3000)
    expect(err.message).toContain(url)
    expect(err.message).toMatch(/no data received for 0.3 s/)
    expect((await stat(`${dest}.part`)).size).toBe(100_000)
    expect(existsSync(dest)).toBe(false)
  })

  it('rethrows the abort reason when the caller cancels, keeping the .part', async () => {
    const controller = new AbortController()
    const promise = downloadFile({
      url: `${base}/file?slow`,
      dest,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done > 500_000) controller.abort()
      }
    })
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' })
    expect((await stat(`${dest}.part`)).size).toBeGreaterThan(0)
    expect(existsSync(dest)).toBe(false)
  })

  it('reports monotonic progress, at most ~10 events a second, ending at the total', async () => {
    const events: { p: Progress; at: number }[] = []
    const started = performance.now()
    await downloadFile({
      url: `${base}/file?slow`,
      dest,
      onProgress: (p) => events.push({ p, at: performance.now() })
    })
    const elapsedMs = performance.now() - started

    expect(events.length).toBeGreaterThanOrEqual(3)
    expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2)
    for (let i = 1; i < events.length; i++) expect(events[i].p.done).toBeGreaterThanOrEqual(events[i - 1].p.done)
    for (const { p } of events) {
      expect(p).toMatchObject({ phase: 'download', unit: 'bytes', total: data.length, item: 'file.bin' })
    }
    const last = events.at(-1)!.p
    expect(last.done).toBe(data.length)
    expect(events.slice(1, -1).some(({ p }) => p.ratePerSecond > 0 && p.etaSeconds !== null)).toBe(true)
  })
})
