import { API_METHODS, type ApiEvent, type ApiEventListener, type ApiMethod, type Result, type SdlTaggerBridge } from './api'

/**
 * The web-mode wire protocol, for the browser and for tests:
 * - `POST /api/<method>` with the JSON body `{"args": [...]}` answers the method's Result envelope
 *   as JSON (HTTP 200 for both ok and error envelopes; 4xx only for requests that never reached a method);
 * - `GET /api/events` is a server-sent event stream, each message `data: <ApiEvent JSON>`;
 * - `GET /media/thumb/<id>` and `GET /media/photo/<id>` serve a library photo by id.
 * When the server has a token, the page is first opened with `?token=T`; the server answers with
 * an HttpOnly cookie that every later request carries, or a client sends `Authorization: Bearer T`.
 */
export const API_PATH = '/api/'
export const EVENTS_PATH = '/api/events'

/** The bits of EventSource the client uses, so that tests can pass their own. */
export interface EventStream {
  onmessage: ((message: { data: string }) => void) | null
  close(): void
}

export interface HttpApiOptions {
  /** e.g. `http://127.0.0.1:8080`; '' for the page's own origin. */
  baseUrl?: string
  /** Sent as `Authorization: Bearer` (a browser page relies on the cookie instead). */
  token?: string
  fetch?: typeof fetch
  /** Opens the event stream; the browser's EventSource by default. */
  openEvents?: (url: string) => EventStream
}

/** The API over HTTP: the same object the preload gives the Electron window. */
export function createHttpApi(opts: HttpApiOptions = {}): SdlTaggerBridge {
  const base = opts.baseUrl ?? ''
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init))
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`

  const call = async (method: ApiMethod, args: unknown[]): Promise<Result<unknown>> => {
    try {
      const response = await doFetch(`${base}${API_PATH}${method}`, { method: 'POST', headers, body: JSON.stringify({ args }), credentials: 'same-origin' })
      const text = await response.text()
      try {
        return JSON.parse(text) as Result<unknown>
      } catch {
        return { ok: false, error: { message: `The server answered ${response.status} ${response.statusText}`, hint: text.slice(0, 200) || undefined } }
      }
    } catch (err) {
      return { ok: false, error: { message: `Cannot reach SDL Tagger: ${err instanceof Error ? err.message : String(err)}`, hint: 'Is `sdl-tagger serve` still running?' } }
    }
  }

  const listeners = new Set<ApiEventListener>()
  let stream: EventStream | null = null
  const onEvent = (listener: ApiEventListener) => {
    listeners.add(listener)
    if (!stream) {
      const open = opts.openEvents ?? ((url: string) => new EventSource(url) as unknown as EventStream)
      stream = open(`${base}${EVENTS_PATH}`)
      stream.onmessage = (message) => {
        let event: ApiEvent
        try {
          event = JSON.parse(message.data) as ApiEvent
        } catch {
          return
        }
        for (const l of listeners) l(event)
      }
    }
    return () => {
      listeners.delete(listener)
      if (!listeners.size && stream) {
        stream.close()
        stream = null
      }
    }
  }

  const api = Object.fromEntries(API_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]))
  return { ...api, onEvent } as unknown as SdlTaggerBridge
}
