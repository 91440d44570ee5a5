import { contextBridge, ipcRenderer } from 'electron'
import { IPC_CHANNELS, type SdlTaggerApi } from '../shared/api'

// The renderer's whole view of the app: typed calls, each answered with a result envelope.
const api: SdlTaggerApi = {
  getStatus: () => ipcRenderer.invoke(IPC_CHANNELS.getStatus)
}

contextBridge.exposeInMainWorld('sdlTagger', api)
