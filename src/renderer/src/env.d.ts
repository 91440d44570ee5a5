/// <reference types="vite/client" />
import type { SdlTaggerBridge } from '../../shared/api'

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode, where the renderer speaks HTTP instead. */
    sdlTagger?: SdlTaggerBridge
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
