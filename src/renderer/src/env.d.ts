/// <reference types="vite/client" />
import type { SdlTaggerApi } from '../../shared/api'

declare global {
  interface Window {
    sdlTagger: SdlTaggerApi
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
