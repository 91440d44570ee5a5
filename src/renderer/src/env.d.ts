/// <reference types="vite/client" />
import type { SdlTaggerBridge } from '../../shared/api'
import type { ShellBridge } from '../../shared/shell'

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode, where the renderer speaks HTTP instead. */
    sdlTagger?: SdlTaggerBridge
    /** Set by the Electron preload: the system's pickers and dropped files' paths; absent in web mode. */
    sdlShell?: ShellBridge
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
