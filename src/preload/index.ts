import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { API_METHODS, EVENT_CHANNEL, type ApiEvent, type ApiEventListener, type SdlTaggerBridge, ipcChannel } from '../shared/api'

// The renderer's whole view of the app: the contract's methods (each answered with a result
// envelope by main) and the event stream. No ipcRenderer, no channels of its own choosing.
const methods = Object.fromEntries(API_METHODS.map((m) => [m, (...args: unknown[]) => ipcRenderer.invoke(ipcChannel(m), ...args)]))

const bridge = {
  ...methods,
  onEvent(listener: ApiEventListener): () => void {
    const forward = (_: IpcRendererEvent, event: ApiEvent) => listener(event)
    ipcRenderer.on(EVENT_CHANNEL, forward)
    return () => ipcRenderer.off(EVENT_CHANNEL, forward)
  }
} as SdlTaggerBridge

contextBridge.exposeInMainWorld('sdlTagger', bridge)
