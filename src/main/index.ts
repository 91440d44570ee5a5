import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrowserWindow, app, dialog, ipcMain, protocol, session, shell, utilityProcess } from 'electron'
import { MEDIA_PROTOCOL } from '../shared/api'
import { contentSecurityPolicy } from './host/contentSecurityPolicy'
import { type EngineChild, EngineProcess, engineRuntime } from './host/engineProcess'
import { forwardEvents, registerApiHandlers } from './app/ipc'
import { MEDIA_SCHEME, mediaResponse } from './app/mediaProtocol'
import { registerPickerHandler } from './app/pickers'
import { isAllowedAppUrl } from './host/navigation'
import { mainWindowOptions } from './app/windowOptions'
import { forkEngine } from './host/engineFork'
import { windowDataDir } from './engine/dataDir'

const here = fileURLToPath(new URL('.', import.meta.url))
// The command line's folder too (on Linux Electron's appData is ~/.config), so both see one library.
const dataDir = windowDataDir(join(app.getPath('appData'), 'sdl-tagger'))
// The engine runs in a process of its own (engineProcess.ts), never in this one.
const engine = new EngineProcess((): EngineChild => {
  const runtime = engineRuntime(app.isPackaged, process.env)
  if (runtime.kind === 'node') return forkEngine({ dataDir, execPath: runtime.execPath })
  return utilityProcess.fork(join(here, 'engine.js'), [], {
    serviceName: 'SDL Tagger engine',
    // sharp decodes on libuv's pool (4 threads by default): size it to the machine, as bin/ does.
    env: { ...process.env, SDL_TAGGER_DATA_DIR: dataDir, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, availableParallelism())) }
  }) as unknown as EngineChild
})
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
  forwardEvents((listener) => engine.subscribe(listener), window.webContents)
  if (devServerUrl) void window.loadURL(devServerUrl)
  else void window.loadFile(join(here, '../renderer/index.html'))
}

function lockDownSession(): void {
  const csp = contentSecurityPolicy({ mediaSource: `${MEDIA_PROTOCOL}:` })
  // Nothing remote is ever loaded, whatever the page asks for.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedAppUrl(details.url, devServerUrl) }))
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } }))
  // No camera, microphone, notifications, geolocation…: the app asks for none of them.
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const { status, headers, body } = await mediaResponse(request.url, (r) => engine.resolveMedia(r))
    return new Response(typeof body === 'string' ? body : new Uint8Array(body), { status, headers })
  })
}

void app.whenReady().then(() => {
  lockDownSession()
  registerApiHandlers(ipcMain, engine.api)
  registerPickerHandler(
    ipcMain,
    { showOpenDialog: (window, options) => (window instanceof BrowserWindow ? dialog.showOpenDialog(window, options) : dialog.showOpenDialog(options)) },
    (event) => BrowserWindow.fromWebContents((event as Electron.IpcMainInvokeEvent).sender)
  )
  engine.start()
  createWindow()
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
  // Let a running index write its batch in flight and the watcher close before the process ends.
  quitting = true
  event.preventDefault()
  void engine.stop().finally(() => app.quit())
})
