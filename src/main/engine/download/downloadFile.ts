import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { SdlError } from '../errors'
import { progressReporter, type Progress } from './progress'

export interface DownloadOptions {
  url: string
  dest: string
  /** Hex SHA-256 of the whole file; the download fails (and is discarded) if it does not match. */
  expectedSha256?: string
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
  /** How long to wait for the server's response headers (DNS, connect, TLS and first answer). */
  connectTimeoutMs?: number
  /** How long the body may go without delivering a byte before the download counts as stalled. */
  idleTimeoutMs?: number
  /** The millisecond clock that paces progress events and measures the rate; tests pass their own. */
  now?: () => number
}

export interface DownloadResult {
  path: string
  bytes: number
  /** Hex SHA-256 of the whole file, including any part downloaded by an earlier, resumed run. */
  sha256: string
  /** Whether bytes from an earlier, interrupted run were kept. */
  resumed: boolean
}

const RESUME_HINT = 'Check the network connection and run the command again; the download continues where it stopped.'

/**
 * Downloads `url` to `dest` through `dest + '.part'`, which is renamed into place only once the
 * file is complete and verified, so `dest` never holds a partial or corrupt file. A `.part` left by
 * an interrupted run is resumed with an HTTP Range request. Failures throw SdlError naming the URL;
 * a user abort rethrows the signal's reason. Either way the `.part` stays for the next run, except
 * when it failed verification.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest } = opts
  const part = `${dest}.part`
  await mkdir(dirname(dest), { recursive: true }).catch((err) => {
    throw fileError(dirname(dest), err)
  })
  const report = progressReporter(opts.onProgress, { phase: 'download', unit: 'bytes', item: basename(dest), now: opts.now })

  let got = await fetchIntoPart(opts, part, await sizeOf(part), report)
  if (got === 'restart') {
    await rm(part, { force: true })
    got = await fetchIntoPart(opts, part, 0, report)
  }
  if (got === 'restart') {
    // Only reachable if a server answers a request without Range with a 206 for some other range.
    throw new SdlError(`Download of ${url} failed (the server sent an inconsistent byte range)`, RESUME_HINT)
  }

  const sha256 = got.hash.digest('hex')
  if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256.trim().toLowerCase()) {
    // A corrupt prefix would poison every later resume, so start afresh next time.
    await rm(part, { force: true })
    throw new SdlError(
      `The file downloaded from ${url} is corrupt: expected SHA-256 ${opts.expectedSha256} but got ${sha256}`,
      'The partial download was deleted; run the command again to download it afresh. ' + 'If this keeps happening, the file on the server has changed.'
    )
  }
  await rename(part, dest).catch((err) => {
    throw fileError(dest, err)
  })
  report(got.bytes, got.bytes, true)
  return { path: dest, bytes: got.bytes, sha256, resumed: got.resumed }
}

interface Fetched {
  bytes: number
  /** SHA-256 state covering all `bytes`, not yet digested. */
  hash: Hash
  resumed: boolean
}

/**
 * One request: resumes from `offset` (the .part's size) when the server honours the Range, starts
 * over when it ignores it, and returns 'restart' when the .part cannot be trusted to be a prefix.
 */
async function fetchIntoPart(opts: DownloadOptions, part: string, offset: number, report: (done: number, total: number | null) => void): Promise<Fetched | 'restart'> {
  const { url } = opts
  // Hash the existing prefix before the request, so a large .part cannot trip the idle timeout.
  const prefixHash = createHash('sha256')
  if (offset > 0) await hashFile(part, prefixHash)

  const dog = watchdog(opts.connectTimeoutMs ?? 15_000, opts.idleTimeoutMs ?? 30_000)
  const signal = opts.signal ? AbortSignal.any([opts.signal, dog.signal]) : dog.signal
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let file: FileHandle | undefined
  try {
    const headers: Record<string, string> = { 'accept-encoding': 'identity' }
    if (offset > 0) headers.range = `bytes=${offset}-`
    const res = await fetch(url, { headers, signal }).catch((err) => {
      throw networkError(opts, dog, err, 'connect')
    })
    dog.connected()

    if (res.status === 416 && offset > 0) {
      // Nothing left after `offset`: the .part is complete if and only if it is exactly the file's size.
      await res.body?.cancel()
      return parseContentRange(res.headers.get('content-range'))?.total === offset ? { bytes: offset, hash: prefixHash, resumed: true } : 'restart'
    }
    if (!res.ok) {
      await res.body?.cancel()
      throw httpError(url, res)
    }

    let start = 0
    let total: number | null
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'))
      if (range?.start !== offset) {
        await res.body?.cancel()
        return 'restart'
      }
      start = offset
      total = range.total
    } else {
      // A 200 is the whole file even if we asked for a range: the server does not support resuming.
      const length = res.headers.get('content-length')
      const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity'
      total = length === null || encoded ? null : Number(length)
    }

    const hash = start > 0 ? prefixHash : createHash('sha256')
    file = await open(part, start > 0 ? 'a' : 'w').catch((err) => {
      throw fileError(part, err)
    })
    let done = start
    report(done, total)
    if (res.body) {
      reader = res.body.getReader()
      for (;;) {
        const chunk = await reader.read().catch((err) => {
          throw networkError(opts, dog, err, 'body')
        })
        if (chunk.done) break
        dog.alive()
        await file.write(chunk.value).catch((err) => {
          throw fileError(part, err)
        })
        hash.update(chunk.value)
        done += chunk.value.length
        report(done, total)
      }
      reader = undefined
    }
    if (total !== null && done !== total) {
      throw new SdlError(`Download of ${url} was interrupted (the server sent ${done} of ${total} bytes)`, RESUME_HINT)
    }
    return { bytes: done, hash, resumed: start > 0 }
  } finally {
    dog.stop()
    // Release the connection if we stopped reading early (e.g. the disk is full).
    await reader?.cancel().catch(() => {})
    await file?.close()
  }
}

/**
 * One abort signal driven by a timer: first it bounds the wait for response headers, then it is
 * re-armed on every chunk so that only a stalled body (not a slow, steady one) is cut off.
 */
function watchdog(connectMs: number, idleMs: number) {
  const controller = new AbortController()
  let fired: 'connect' | 'idle' | undefined
  const arm = (ms: number, kind: 'connect' | 'idle') =>
    setTimeout(() => {
      fired = kind
      controller.abort()
    }, ms)
  let timer = arm(connectMs, 'connect')
  return {
    signal: controller.signal,
    get fired() {
      return fired
    },
    connected() {
      clearTimeout(timer)
      timer = arm(idleMs, 'idle')
    },
    alive() {
      timer.refresh()
    },
    stop() {
      clearTimeout(timer)
    }
  }
}
type Watchdog = ReturnType<typeof watchdog>

/** Plain-words reasons for the error codes that Node's fetch (undici) and the OS report. */
const REASONS: Record<string, string> = {
  ENOTFOUND: 'no network connection or the host name could not be resolved',
  EAI_AGAIN: 'no network connection or the host name could not be resolved',
  ECONNREFUSED: 'the server refused the connection; it may be down',
  ECONNRESET: 'the connection was reset',
  ENETUNREACH: 'no network connection (the network is unreachable)',
  EHOSTUNREACH: 'the host is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'the server stopped responding',
  UND_ERR_BODY_TIMEOUT: 'the server stopped responding',
  UND_ERR_SOCKET: 'the connection was closed before the file was complete'
}

function networkError(opts: DownloadOptions, dog: Watchdog, err: unknown, stage: 'connect' | 'body'): unknown {
  // A cancel by the caller is not a failure to explain; hand back its own reason.
  if (opts.signal?.aborted) return opts.signal.reason
  const what = stage === 'connect' ? `Could not reach ${opts.url}` : `Download of ${opts.url} was interrupted`
  if (dog.fired === 'connect') {
    return new SdlError(`${what} (no answer within ${seconds(opts.connectTimeoutMs ?? 15_000)})`, RESUME_HINT)
  }
  if (dog.fired === 'idle') {
    return new SdlError(`${what} (no data received for ${seconds(opts.idleTimeoutMs ?? 30_000)})`, RESUME_HINT)
  }
  const { code, message } = innermostCause(err)
  const reason = code === undefined ? message : `${describeCode(code)}: ${code}`
  return new SdlError(`${what} (${reason})`, RESUME_HINT)
}

function describeCode(code: string): string {
  if (code in REASONS) return REASONS[code]
  if (code.includes('CERT')) return 'the secure connection failed because of a certificate problem'
  return 'network error'
}

/** fetch wraps the real error as `cause` (sometimes in an AggregateError, one per address tried). */
function innermostCause(err: unknown): { code?: string; message: string } {
  let current = err
  let found: { code?: string; message: string } = { message: String(err) }
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    found = { code: typeof code === 'string' ? code : found.code, message: current.message }
    if (found.code !== undefined) break
    current = current instanceof AggregateError && current.errors.length > 0 ? current.errors[0] : current.cause
  }
  return found
}

function httpError(url: string, res: Response): SdlError {
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`
  const hint =
    res.status >= 500
      ? 'The server has a problem; try again later. The download continues where it stopped.'
      : 'The server refused the request; the download address may be out of date or need access rights.'
  return new SdlError(`Download of ${url} failed: the server answered ${status}`, hint)
}

function fileError(path: string, err: unknown): SdlError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return new SdlError(`Could not write ${path} (${code ?? String(err)})`, 'Check that the folder is writable and the disk has free space.')
}

/** Parses a Content-Range header (`bytes 0-99/1000`, or `bytes *` + `/1000` in a 416); total is null for `*`. */
function parseContentRange(header: string | null): { start: number | null; total: number | null } | undefined {
  const match = header?.match(/^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/)
  if (!match) return undefined
  return {
    start: match[1] === undefined ? null : Number(match[1]),
    total: match[2] === '*' ? null : Number(match[2])
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  } catch (err) {
    throw new SdlError(`Could not read the partial download ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, `Delete ${path} and run the command again.`)
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}
