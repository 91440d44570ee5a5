import type { ExecutionProviderChoice } from '../engine/inference/executionProviders'
import { createEngineApi } from '../engine/api/engineApi'
import { type FromEngine, type PortLike, type ToEngine, hostEngine } from './engineChannel'
import { MediaService } from '../engine/api/media'
import { Engine } from '../engine/engine'

/**
 * The engine's own process: Electron's utilityProcess in the desktop app (started by
 * app/engineProcess.ts), a forked Node process in web mode (`serve`). Decoding, inference, hashing
 * and the lexicon's parsing run here, so the process that carries the window's input (Electron's
 * main process) or answers HTTP (web mode) never waits on them.
 */
interface ElectronParentPort {
  postMessage(message: FromEngine): void
  on(event: 'message', listener: (event: { data: ToEngine }) => void): void
}

const engine = new Engine({
  dataDir: process.env.SDL_TAGGER_DATA_DIR,
  model: process.env.SDL_TAGGER_MODEL || undefined,
  executionProvider: (process.env.SDL_TAGGER_EP as ExecutionProviderChoice | undefined) || undefined
})
const api = createEngineApi(engine)
const media = new MediaService(engine)
const stop = async () => {
  await api.stop()
  await engine.close()
}

function parentPort(): PortLike<ToEngine, FromEngine> {
  const electron = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (electron) return { post: (m) => electron.postMessage(m), onMessage: (l) => electron.on('message', (event) => l(event.data)) }
  if (!process.send) throw new Error('engineProcess must be started by SDL Tagger (it talks to its parent process only)')
  // Ctrl+C in a terminal reaches every process of the group: the parent decides when the engine
  // stops (after the batch in flight); a parent that is gone stops it too.
  process.on('SIGINT', () => {})
  process.once('disconnect', () => void stop().finally(() => process.exit(0)))
  return { post: (m) => process.send!(m), onMessage: (l) => process.on('message', (m) => l(m as ToEngine)) }
}

hostEngine(parentPort(), { api, subscribe: (listener) => api.events.subscribe(listener), resolveMedia: (request) => media.resolve(request), stop })
void api.start()
