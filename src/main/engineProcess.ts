import { EngineApi } from './engine/api/engineApi'
import { type FromEngine, type ToEngine, hostEngine } from './engine/api/engineChannel'
import { MediaService } from './engine/api/media'
import { Engine } from './engine/engine'

/**
 * The engine's own process in the desktop app (Electron's utilityProcess, started by
 * app/engineProcess.ts): decoding, inference, hashing and the lexicon's parsing run here, so
 * the main process, which carries the window's input and IPC, never waits on them.
 */
interface ParentPort {
  postMessage(message: FromEngine): void
  on(event: 'message', listener: (event: { data: ToEngine }) => void): void
}

const parentPort = (process as unknown as { parentPort: ParentPort }).parentPort
const engine = new Engine({ dataDir: process.env.SDL_TAGGER_DATA_DIR })
const api = new EngineApi(engine)
const media = new MediaService(engine)

hostEngine(
  { post: (message) => parentPort.postMessage(message), onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)) },
  {
    api,
    subscribe: (listener) => api.events.subscribe(listener),
    resolveMedia: (request) => media.resolve(request),
    stop: async () => {
      await api.stop()
      await engine.close()
    }
  }
)
void api.start()
