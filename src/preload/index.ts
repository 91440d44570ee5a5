import { contextBridge, ipcRenderer, type IpcRendererEvent, webUtils } from 'electron'
import { API_METHODS, EVENT_CHANNEL, type ApiEvent, type ApiEventListener, type SdlTaggerBridge, ipcChannel } from '../shared/api'
import { PICK_CHANNEL, type PickKind, type ShellBridge } from '../shared/shell'

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

// The window's own abilities: the system's pickers, and where a dropped folder is (a sandboxed
// page sees only the File; the path is asked for here, where Electron can tell it).
const shell: ShellBridge = {
  pick: (kind: PickKind) => ipcRenderer.invoke(PICK_CHANNEL, kind),
  pathOf: (file: File) => webUtils.getPathForFile(file)
}

contextBridge.exposeInMainWorld('sdlTagger', bridge)
contextBridge.exposeInMainWorld('sdlShell', shell)
