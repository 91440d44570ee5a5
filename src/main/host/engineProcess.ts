import { API_METHODS, type ApiEventListener, type ApiMethod, type SdlTaggerApi } from '../../shared/api'
import { EngineConnection, type FromEngine, type ToEngine } from './engineChannel'
import { EventHub } from '../engine/api/eventHub'
import type { MediaFile, MediaRequest } from '../engine/api/media'

/** What the supervisor needs of Electron's UtilityProcess (and what tests fake). */
export interface EngineChild {
  postMessage(message: ToEngine): void
  on(event: 'message', listener: (message: FromEngine) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
  kill(): boolean
}

export type EngineRuntime = { kind: 'node'; execPath: string } | { kind: 'utility' }

/**
 * Which runtime hosts the engine process. better-sqlite3 is a native addon built for one ABI:
 * `npm ci` builds it for Node, which Electron's own runtime cannot load. So when the app runs
 * from the project (`npm run dev`, `npm start`, tests), the engine runs on the Node that ran npm
 * (or $SDL_TAGGER_NODE); a packaged app, whose addons are rebuilt for Electron, uses Electron's
 * utility process.
 */
export function engineRuntime(packaged: boolean, env: Record<string, string | undefined>): EngineRuntime {
  const node = env.SDL_TAGGER_NODE || env.npm_node_execpath
  return !packaged && node ? { kind: 'node', execPath: node } : { kind: 'utility' }
}

/** Restarts after unexpected exits before calls are refused: a crash loop must not spin forever. */
export const MAX_RESTARTS = 3

/**
 * The engine in its own process, as the Electron main process sees it: the API object, its
 * events and media look-ups, all forwarded to the child. The child is started on first use and
 * again after it dies unexpectedly (calls in flight then answer an error envelope), up to
 * MAX_RESTARTS times.
 */
export class EngineProcess {
  readonly api: SdlTaggerApi
  private readonly events = new EventHub()
  private connection: { child: EngineChild; link: EngineConnection } | null = null
  private restarts = 0
  private lastFailure = ''
  private stopping = false

  constructor(private readonly fork: () => EngineChild) {
    this.api = Object.fromEntries(
      API_METHODS.map((method: ApiMethod) => [
        method,
        (...args: unknown[]) => {
          const link = this.link()
          if (!link)
            return Promise.resolve({
              ok: false,
              error: { message: `The engine keeps stopping (${this.lastFailure})`, hint: 'Restart SDL Tagger; if that does not help, check its data folder.' }
            })
          return (link.api[method] as (...a: unknown[]) => Promise<unknown>)(...args)
        }
      ])
    ) as unknown as SdlTaggerApi
  }

  subscribe(listener: ApiEventListener): () => void {
    return this.events.subscribe(listener)
  }

  /** Starts the engine now (it begins watching folders if the settings say so). */
  start(): void {
    this.link()
  }

  resolveMedia(request: MediaRequest): Promise<MediaFile> {
    const link = this.link()
    if (!link) return Promise.reject(new Error(`The engine keeps stopping (${this.lastFailure})`))
    return link.resolveMedia(request)
  }

  /** Lets the engine finish its batch in flight and close, then ends the process. */
  async stop(): Promise<void> {
    this.stopping = true
    const current = this.connection
    if (!current) return
    await current.link.stop()
    current.child.kill()
    this.connection = null
  }

  private link(): EngineConnection | null {
    if (this.connection) return this.connection.link
    if (this.stopping || this.restarts > MAX_RESTARTS) return null
    const child = this.fork()
    const link = new EngineConnection({ post: (m) => child.postMessage(m), onMessage: (l) => child.on('message', l) })
    link.subscribe((event) => this.events.emit(event))
    child.on('exit', (code) => {
      if (this.connection?.child !== child) return
      this.connection = null
      this.lastFailure = `the engine process exited with code ${code}`
      link.fail(this.stopping ? 'SDL Tagger is closing' : `The engine stopped unexpectedly (${this.lastFailure})`)
      if (!this.stopping) this.restarts++
    })
    this.connection = { child, link }
    return link
  }
}
