import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { downloadFile } from '../../src/main/engine/download/downloadFile'
import type { Progress } from '../../src/main/engine/download/progress'
import { SdlError } from '../../src/main/engine/errors'

const data = randomBytes(3 * 1024 * 1024)
const sha = createHash('sha256').update(data).digest('hex')

/** Every request the server saw, so tests can check what the client asked for. */
const requests: { path: string; range: string | undefined }[] = []
/** What a dropAfter request waits for before it closes the connection. */
let clientReadAll: Promise<void> = Promise.resolve()

/**
 * Serves `data` at /file with Range support. Query flags change its behaviour:
 * dropAfter=N closes the connection after N body bytes, stallAfter=N sends N bytes and then
 * nothing, ignoreRange answers 200 with the whole file.
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
    // Only once the client has every byte sent on disk: closing earlier can discard what it
    // received but had not read yet, and the .part size would depend on how fast it reads.
    void clientReadAll.then(() => res.socket?.end())
  } else if (q.has('stallAfter')) {
    res.write(body.subarray(0, Number(q.get('stallAfter'))))
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
afterEach(() => {
  vi.useRealTimers()
})

/**
 * A clock for progress pacing that moves on `stepMs` each time it is read, so how many events a
 * download reports depends on how many chunks it reads, not on how fast this machine is.
 */
function steppingClock(stepMs: number) {
  const clock = { ms: 0, now: () => (clock.ms += stepMs) }
  return clock
}

/** Only the timers (the download's watchdog among them) are fake; the network stays real. */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
}

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
    let readAll: () => void
    clientReadAll = new Promise((resolve) => (readAll = resolve))
    const err = await expectSdlError(downloadFile({ url, dest, now: steppingClock(1000).now, onProgress: (p) => p.done === 1_000_000 && readAll() }))
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

    // With the timers held still, only the refusal itself can end the download: no timeout was waited out.
    fakeTimers()
    const err = await expectSdlError(downloadFile({ url, dest }))
    expect(err.message).toContain(`Could not reach ${url}`)
    expect(err.message).toMatch(/refused.*ECONNREFUSED/)
  })

  it('fails clearly when the host name cannot be resolved', async () => {
    const url = 'http://sdl-tagger-offline.invalid/x'
    // Offline, the look-up may hang instead of failing: the connect timeout (next test) bounds it.
    const err = await expectSdlError(downloadFile({ url, dest, connectTimeoutMs: 4000 }))
    expect(err.message).toContain(`Could not reach ${url}`)
    expect(err.message).toMatch(/host name could not be resolved|no answer within 4 s/)
  })

  it('gives up after the connect timeout when the server never answers', async () => {
    const silent = createTcpServer()
    const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/x`
    try {
      fakeTimers()
      const failed = expectSdlError(downloadFile({ url, dest, connectTimeoutMs: 4000 }))
      // The watchdog is armed before the request goes out, so it is running once the server sees the connection.
      await connected
      vi.advanceTimersByTime(4000)
      const err = await failed
      expect(err.message).toBe(`Could not reach ${url} (no answer within 4 s)`)
      expect(existsSync(dest)).toBe(false)
    } finally {
      vi.useRealTimers()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('gives up on a stalled body after the idle timeout and keeps the .part', async () => {
    const url = `${base}/file?stallAfter=100000`
    fakeTimers()
    let received: () => void
    const allReceived = new Promise<void>((resolve) => (received = resolve))
    const clock = steppingClock(1000)
    const failed = expectSdlError(downloadFile({ url, dest, idleTimeoutMs: 300, now: clock.now, onProgress: (p) => p.done === 100_000 && received() }))
    // Every byte the server sent is on disk; only then does the body go quiet for the idle timeout.
    await allReceived
    vi.advanceTimersByTime(300)
    const err = await failed
    expect(err.message).toContain(url)
    expect(err.message).toMatch(/no data received for 0.3 s/)
    expect((await stat(`${dest}.part`)).size).toBe(100_000)
    expect(existsSync(dest)).toBe(false)
  })

  it('rethrows the abort reason when the caller cancels, keeping the .part', async () => {
    const controller = new AbortController()
    const promise = downloadFile({
      url: `${base}/file`,
      dest,
      signal: controller.signal,
      now: steppingClock(50).now,
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
    const clock = steppingClock(10)
    await downloadFile({
      url: `${base}/file`,
      dest,
      now: clock.now,
      onProgress: (p) => events.push({ p, at: clock.ms })
    })
    const elapsedMs = clock.ms - events[0].at

    expect(events.length).toBeGreaterThanOrEqual(3)
    expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2)
    // Only the final event may follow the one before it sooner than 100 ms.
    for (let i = 1; i < events.length - 1; i++) expect(events[i].at - events[i - 1].at).toBeGreaterThanOrEqual(100)
    for (let i = 1; i < events.length; i++) expect(events[i].p.done).toBeGreaterThanOrEqual(events[i - 1].p.done)
    for (const { p } of events) {
      expect(p).toMatchObject({ phase: 'download', unit: 'bytes', total: data.length, item: 'file.bin' })
    }
    const last = events.at(-1)!.p
    expect(last.done).toBe(data.length)
    expect(events.slice(1, -1).some(({ p }) => p.ratePerSecond > 0 && p.etaSeconds !== null)).toBe(true)
  })
})
