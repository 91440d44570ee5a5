import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrowserWindow, app, ipcMain, protocol, session, shell } from 'electron'
import { MEDIA_PROTOCOL } from '../shared/api'
import { contentSecurityPolicy } from './app/contentSecurityPolicy'
import { forwardEvents, registerApiHandlers } from './app/ipc'
import { MEDIA_SCHEME, mediaResponse } from './app/mediaProtocol'
import { isAllowedAppUrl } from './app/navigation'
import { mainWindowOptions } from './app/windowOptions'
import { EngineApi } from './engine/api/engineApi'
import { MediaService } from './engine/api/media'
import { Engine } from './engine/engine'

const engine = new Engine({ dataDir: process.env.SDL_TAGGER_DATA_DIR ?? join(app.getPath('appData'), 'sdl-tagger') })
const api = new EngineApi(engine)
const media = new MediaService(engine)

const here = fileURLToPath(new URL('.', import.meta.url))
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined

// Must happen before the app is ready.
protocol.registerSchemesAsPrivileged([MEDIA_SCHEME])

function createWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(here, '../preload/index.cjs')))
  window.once('ready-to-show', () => window.show())
  // Links open in the user's browser; the app window never navigates to remote content.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  forwardEvents((listener) => api.events.subscribe(listener), window.webContents)
  if (devServerUrl) void window.loadURL(devServerUrl)
  else void window.loadFile(join(here, '../renderer/index.html'))
}

function lockDownSession(): void {
  const csp = contentSecurityPolicy({ mediaSource: `${MEDIA_PROTOCOL}:` })
  // Nothing remote is ever loaded, whatever the page asks for.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedAppUrl(details.url, devServerUrl) }))
  session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } })
  )
  // No camera, microphone, notifications, geolocation…: the app asks for none of them.
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const { status, headers, body } = await mediaResponse(request.url, (r) => media.resolve(r))
    return new Response(typeof body === 'string' ? body : new Uint8Array(body), { status, headers })
  })
}

void app.whenReady().then(() => {
  lockDownSession()
  registerApiHandlers(ipcMain, api)
  createWindow()
  api.start().catch((err: unknown) => console.error(`Could not start following the library folders: ${String(err)}`))
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

let quitting = false
app.on('will-quit', (event) => {
  if (quitting) return
  // Let a running index write its batch in flight and the watcher close before the engine does.
  quitting = true
  event.preventDefault()
  void api
    .stop()
    .finally(() => engine.close())
    .finally(() => app.quit())
})
