import { createHash, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ApiEvent, type ApiEventListener, type SdlTaggerApi, isApiMethod } from '../../shared/api'
import { API_PATH, EVENTS_PATH } from '../../shared/httpApi'
import { contentSecurityPolicy } from '../host/contentSecurityPolicy'
import { checkApiArgs } from '../engine/api/apiSchemas'
import { SdlError } from '../engine/errors'
import { MediaError, type MediaFile, type MediaRequest, parseMediaUrl } from '../engine/api/media'
import { allowedHostHeaders, checkBinding, formatHost } from './binding'
import { BodyRefused, readJsonBody } from './requestBody'
import { lookupStaticFile } from './staticFiles'

export interface WebServerOptions {
  api: SdlTaggerApi
  subscribe: (listener: ApiEventListener) => () => void
  resolveMedia: (request: MediaRequest) => Promise<MediaFile>
  /** The built renderer (out/renderer). */
  rendererDir: string
  host: string
  /** 0 picks a free port. */
  port: number
  token?: string
}

export interface RunningWebServer {
  /** The address to open, with `?token=` when there is one. */
  url: string
  port: number
  close(): Promise<void>
}

const COOKIE = 'sdl_tagger_token'
/** Largest API request body: arguments are paths, queries and tag names, never files. */
const MAX_BODY = 1 << 20
/** The deepest call of the contract is 3 levels (`{"args": [{…}]}`); the schemas check the rest. */
const MAX_BODY_DEPTH = 8
/** A comment line on idle event streams, so proxies and browsers keep them open. */
const HEARTBEAT_MS = 15_000

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin'
}

/**
 * Web mode: the renderer, the API (`POST /api/<method>`), its events (`GET /api/events`, server-
 * sent events) and library media (`GET /media/<thumb|photo>/<id>`) over HTTP. Every response
 * carries the security headers; with a token every request must prove it (cookie or bearer),
 * without one every request must name the bound host (so a rebound DNS name cannot reach it) and
 * API calls from another origin are refused.
 */
export async function startWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  checkBinding(opts.host, opts.token)
  const streams = new Set<ServerResponse>()
  let allowedHosts = new Set<string>()
  const server: Server = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `Internal error: ${(err as Error).message}`)
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    const queryAt = rawUrl.indexOf('?')
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt)
    const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1))
    const hostHeader = (req.headers.host ?? '').toLowerCase()

    if (opts.token === undefined) {
      if (!allowedHosts.has(hostHeader)) return send(res, 421, 'text/plain; charset=utf-8', `Host ${hostHeader || '(none)'} is not served here`)
    } else {
      const offered = query.get('token')
      if (offered !== null && req.method === 'GET' && !path.startsWith(API_PATH) && !path.startsWith('/media/')) {
        if (!tokenMatches(offered, opts.token)) return send(res, 401, 'text/plain; charset=utf-8', 'Wrong token')
        // Trade the token in the address for a cookie, and drop it from the address bar and history.
        res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(opts.token)}; HttpOnly; SameSite=Strict; Path=/`)
        res.setHeader('Location', path)
        res.setHeader('Cache-Control', 'no-store')
        res.writeHead(303)
        return void res.end()
      }
      if (!isAuthorized(req, opts.token)) {
        return send(res, 401, 'text/plain; charset=utf-8', 'This SDL Tagger needs its token: open the address `sdl-tagger serve` printed (it ends in ?token=…).')
      }
    }

    if (path.startsWith(API_PATH)) return handleApi(req, res, path)
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed')
    if (path.startsWith('/media/')) return handleMedia(res, path, req.method === 'HEAD')
    return handleStatic(res, path, req.method === 'HEAD')
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === EVENTS_PATH) {
      if (req.method !== 'GET') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed')
      return openEventStream(req, res)
    }
    const method = path.slice(API_PATH.length)
    if (!isApiMethod(method)) return sendJson(res, 404, { ok: false, error: { message: `No API method '${method}'` } })
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { message: 'API methods are called with POST' } })
    // A page of another origin may POST here without a token (a "simple" cross-site request);
    // a JSON content type forces a preflight, and a foreign Origin is refused outright.
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return sendJson(res, 403, { ok: false, error: { message: `Requests from ${origin} are refused` } })
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      return sendJson(res, 415, { ok: false, error: { message: 'API requests must be application/json' } })
    }
    let args: unknown[]
    try {
      const body = await readJsonBody(req, { maxBytes: MAX_BODY, maxDepth: MAX_BODY_DEPTH })
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('the body must be an object')
      args = (body as { args?: unknown[] }).args ?? []
      if (!Array.isArray(args)) throw new Error('args must be an array')
    } catch (err) {
      if (err instanceof BodyRefused && err.status === 413) {
        return sendJson(res, 413, { ok: false, error: { message: err.message, hint: 'API calls carry paths, queries and tags, never files.' } })
      }
      return sendJson(res, 400, { ok: false, error: { message: `Bad request body: ${(err as Error).message}`, hint: 'Send {"args": [...]}.' } })
    }
    const refused = checkApiArgs(method, args)
    if (refused) return sendJson(res, 400, { ok: false, error: refused })
    const call = opts.api[method] as (...a: unknown[]) => Promise<unknown>
    sendJson(res, 200, await call.apply(opts.api, args))
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    res.write(': connected\n\n')
    streams.add(res)
    const unsubscribe = opts.subscribe((event: ApiEvent) => res.write(`data: ${JSON.stringify(event)}\n\n`))
    const heartbeat = setInterval(() => res.write(': \n\n'), HEARTBEAT_MS)
    const close = () => {
      clearInterval(heartbeat)
      unsubscribe()
      streams.delete(res)
    }
    req.on('close', close)
    res.on('error', close)
  }

  async function handleMedia(res: ServerResponse, path: string, headOnly: boolean): Promise<void> {
    const request = parseMediaUrl(path)
    if (!request) return send(res, 404, 'text/plain; charset=utf-8', 'Not found')
    let media: MediaFile
    try {
      media = await opts.resolveMedia(request)
    } catch (err) {
      return send(res, err instanceof MediaError ? err.status : 500, 'text/plain; charset=utf-8', (err as Error).message)
    }
    res.setHeader('Cache-Control', 'private, no-cache')
    if ('data' in media) return send(res, 200, media.contentType, headOnly ? '' : media.data)
    return streamFile(res, media.file, media.contentType, headOnly)
  }

  function handleStatic(res: ServerResponse, path: string, headOnly: boolean): Promise<void> | void {
    const found = lookupStaticFile(opts.rendererDir, path)
    if (found.kind === 'refused') return send(res, found.status, 'text/plain; charset=utf-8', found.reason)
    // Hashed asset names may be cached; the page itself must be fetched fresh to pick up a new build.
    res.setHeader('Cache-Control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
    return streamFile(res, found.file, found.contentType, headOnly)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, opts.host, opts.port)))
    server.listen(opts.port, opts.host, () => {
      server.removeAllListeners('error')
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  allowedHosts = allowedHostHeaders(opts.host, port)
  const url = `http://${formatHost(opts.host)}:${port}/${opts.token === undefined ? '' : `?token=${encodeURIComponent(opts.token)}`}`
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new SdlError(`Port ${port} on ${host} is in use`, 'Pass another --port, or --port 0 for a free one.')
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
    return new SdlError(`${host} is not an address of this machine`, 'Pass one of its own addresses as --host, or leave it out for 127.0.0.1.')
  if (err.code === 'EACCES') return new SdlError(`Port ${port} may only be used by the administrator`, 'Pass a port above 1023.')
  return err
}

function tokenMatches(offered: string, token: string): boolean {
  // Hashes have equal length, so the comparison takes the same time whatever was offered.
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(offered), digest(token))
}

function isAuthorized(req: IncomingMessage, token: string): boolean {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
  if (bearer && tokenMatches(bearer[1], token)) return true
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === COOKIE) {
      try {
        if (tokenMatches(decodeURIComponent(rest.join('=')), token)) return true
      } catch {
        // A malformed cookie proves nothing.
      }
    }
  }
  return false
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value))
}

function streamFile(res: ServerResponse, file: string, contentType: string, headOnly: boolean): Promise<void> {
  return new Promise((resolve) => {
    const stream = createReadStream(file)
    stream.once('open', () => {
      res.writeHead(200, { 'Content-Type': contentType })
      if (headOnly) {
        stream.destroy()
        res.end()
        resolve()
      } else stream.pipe(res).once('finish', () => resolve())
    })
    stream.once('error', (err: NodeJS.ErrnoException) => {
      if (!res.headersSent) send(res, err.code === 'ENOENT' ? 404 : 500, 'text/plain; charset=utf-8', err.code === 'ENOENT' ? 'Not found' : 'Cannot read the file')
      else res.destroy()
      resolve()
    })
  })
}
