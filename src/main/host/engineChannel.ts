import { API_METHODS, type ApiEvent, type ApiEventListener, type ApiMethod, type Result, type SdlTaggerApi, isApiMethod } from '../../shared/api'
import { validatedApi } from '../engine/api/apiSchemas'
import { toApiError } from '../engine/api/errors'
import { EventHub } from '../engine/api/eventHub'
import { MediaError, type MediaFile, type MediaRequest } from '../engine/api/media'

/**
 * The engine in a process of its own (Electron's utility process), so that its synchronous
 * stretches (parsing the lexicon, hashing photos) never hold up the window's main process. The
 * two sides exchange structured-cloneable messages over whatever port the platform gives.
 */
export type ToEngine = { kind: 'call'; id: number; method: ApiMethod; args: unknown[] } | { kind: 'media'; id: number; request: MediaRequest } | { kind: 'stop'; id: number }

export type FromEngine =
  /** Sent once the engine listens: messages sent before it could be lost on some transports. */
  | { kind: 'ready' }
  | { kind: 'result'; id: number; result: Result<unknown> }
  | { kind: 'media'; id: number; media: MediaFile }
  | { kind: 'media-error'; id: number; status: MediaError['status']; message: string }
  | { kind: 'stopped'; id: number }
  | { kind: 'event'; event: ApiEvent }

/** One end of a message channel. */
export interface PortLike<In, Out> {
  post(message: Out): void
  onMessage(listener: (message: In) => void): void
}

export interface EngineHostParts {
  api: SdlTaggerApi
  subscribe: (listener: ApiEventListener) => () => void
  resolveMedia: (request: MediaRequest) => Promise<MediaFile>
  /** Stops background work and closes the engine. */
  stop: () => Promise<void>
}

/**
 * The engine's side: answers calls, media look-ups and the final stop, and forwards every event.
 * It is the last gate before the engine, so it checks every call's arguments itself.
 */
export function hostEngine(port: PortLike<ToEngine, FromEngine>, parts: EngineHostParts): void {
  const api = validatedApi(parts.api)
  parts.subscribe((event) => port.post({ kind: 'event', event }))
  port.onMessage((message) => {
    if (message.kind === 'call') {
      const method = message.method
      const args = Array.isArray(message.args) ? message.args : []
      // The API answers envelopes; a method that throws anyway still gets one.
      const answer = isApiMethod(method)
        ? Promise.resolve().then(() => (api[method] as (...a: unknown[]) => Promise<Result<unknown>>).apply(api, args))
        : Promise.resolve<Result<unknown>>({ ok: false, error: { message: `No API method '${String(method)}'` } })
      const reply = (result: Result<unknown>) => port.post({ kind: 'result', id: message.id, result })
      answer
        .then(reply, (err: unknown) => reply({ ok: false, error: toApiError(err) }))
        .catch((err: unknown) =>
          // An answer that cannot be sent back must not leave the call waiting for ever.
          reply({ ok: false, error: { message: `The answer to ${String(method)} could not be sent back (${unsendableReason(err)})` } })
        )
    } else if (message.kind === 'media') {
      parts.resolveMedia(message.request).then(
        (media) => port.post({ kind: 'media', id: message.id, media }),
        (err: unknown) =>
          port.post({ kind: 'media-error', id: message.id, status: err instanceof MediaError ? err.status : 500, message: err instanceof Error ? err.message : String(err) })
      )
    } else if (message.kind === 'stop') {
      void parts.stop().finally(() => port.post({ kind: 'stopped', id: message.id }))
    }
  })
  port.post({ kind: 'ready' })
}

/** Why a message could not be serialised, in words (V8's own reason may quote a whole function). */
function unsendableReason(err: unknown): string {
  if (err instanceof RangeError) return 'it is nested too deeply or too large'
  const reason = err instanceof Error ? err.message : String(err)
  return reason.length > 200 ? `${reason.slice(0, 200)}…` : reason
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void; kind: 'call' | 'media' | 'stop' }

/**
 * The window's side: the same API object, each call a message to the engine process. When that
 * process goes away, every call still waiting is answered with an error envelope (never left
 * hanging) and later calls are refused until a new connection is made.
 */
export class EngineConnection {
  readonly api: SdlTaggerApi
  private readonly events = new EventHub()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closedReason: string | null = null
  /** Messages waiting for the engine's 'ready'. */
  private outbox: ToEngine[] | null = []

  constructor(private readonly port: PortLike<FromEngine, ToEngine>) {
    port.onMessage((message) => this.receive(message))
    this.api = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => this.call(method, args)])) as unknown as SdlTaggerApi
  }

  subscribe(listener: ApiEventListener): () => void {
    return this.events.subscribe(listener)
  }

  get closed(): boolean {
    return this.closedReason !== null
  }

  resolveMedia(request: MediaRequest): Promise<MediaFile> {
    return this.send<MediaFile>('media', (id) => ({ kind: 'media', id, request })).catch((err: Error) => {
      throw err instanceof MediaError ? err : new MediaError(500, err.message)
    })
  }

  /** Asks the engine to finish its work and close; resolves once it has (or is gone). */
  async stop(): Promise<void> {
    if (this.closed) return
    await this.send('stop', (id) => ({ kind: 'stop', id })).catch(() => {})
  }

  /** The engine process is gone: answer everything still waiting. */
  fail(reason: string): void {
    if (this.closed) return
    this.closedReason = reason
    for (const [id, p] of this.pending) {
      this.pending.delete(id)
      if (p.kind === 'call') p.resolve({ ok: false, error: { message: reason, hint: 'Try again; if it keeps happening, restart SDL Tagger.' } })
      else if (p.kind === 'stop') p.resolve(undefined)
      else p.reject(new MediaError(500, reason))
    }
  }

  private call(method: ApiMethod, args: unknown[]): Promise<Result<unknown>> {
    if (this.closed) return Promise.resolve({ ok: false, error: { message: this.closedReason!, hint: 'Restart SDL Tagger.' } })
    return this.send<Result<unknown>>('call', (id) => ({ kind: 'call', id, method, args }))
  }

  private send<T>(kind: Pending['kind'], message: (id: number) => ToEngine): Promise<T> {
    if (this.closed) return Promise.reject(new Error(this.closedReason!))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, kind })
      if (this.outbox) this.outbox.push(message(id))
      else this.deliver(message(id))
    })
  }

  /**
   * Posts one message. The port serialises it at once, and throws for what it cannot serialise (a
   * list nested thousands deep, a function): that fails this request alone, the engine is still
   * there. A process that is gone is told by its exit, which answers everything with `fail`.
   */
  private deliver(message: ToEngine): void {
    try {
      this.port.post(message)
    } catch (err) {
      const waiting = this.pending.get(message.id)
      if (!waiting) return
      this.pending.delete(message.id)
      const what = message.kind === 'call' ? `The ${message.method} call` : message.kind === 'media' ? 'The media request' : 'The stop request'
      const reason = `${what} could not be sent to the engine (${unsendableReason(err)})`
      const hint = 'Arguments must be plain data (text, numbers, true or false, lists and objects) nested a few levels at most.'
      if (waiting.kind === 'call') waiting.resolve({ ok: false, error: { message: reason, hint } })
      else if (waiting.kind === 'stop') waiting.resolve(undefined)
      else waiting.reject(new MediaError(500, reason))
    }
  }

  private receive(message: FromEngine): void {
    if (message.kind === 'ready') {
      const waiting = this.outbox ?? []
      this.outbox = null
      for (const m of waiting) this.deliver(m)
      return
    }
    if (message.kind === 'event') return this.events.emit(message.event)
    const waiting = this.pending.get(message.id)
    if (!waiting) return
    this.pending.delete(message.id)
    if (message.kind === 'result') waiting.resolve(message.result)
    else if (message.kind === 'media') {
      const media = message.media
      // Structured cloning turns a Buffer into a plain Uint8Array.
      waiting.resolve('data' in media ? { contentType: media.contentType, data: Buffer.from(media.data.buffer, media.data.byteOffset, media.data.byteLength) } : media)
    } else if (message.kind === 'media-error') waiting.reject(new MediaError(message.status, message.message))
    else waiting.resolve(undefined)
  }
}
