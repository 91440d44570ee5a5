import type { BrowserWindowConstructorOptions } from 'electron'

/**
 * The window's security settings: the renderer gets no Node.js, runs sandboxed and isolated from
 * the preload script, and reaches the engine only through the API the preload exposes.
 */
export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 720,
    show: false,
    title: 'SDL Tagger',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  }
}
