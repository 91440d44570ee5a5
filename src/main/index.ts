import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrowserWindow, app, ipcMain, shell } from 'electron'
import { ipcChannel } from '../shared/api'
import { toResult } from './app/ipc'
import { mainWindowOptions } from './app/windowOptions'
import { Engine } from './engine/engine'

const engine = new Engine({ dataDir: process.env.SDL_TAGGER_DATA_DIR ?? join(app.getPath('appData'), 'sdl-tagger') })

const here = fileURLToPath(new URL('.', import.meta.url))

function createWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(here, '../preload/index.cjs')))
  window.once('ready-to-show', () => window.show())
  // Links open in the user's browser; the app window never navigates to remote content.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL)
  else void window.loadFile(join(here, '../renderer/index.html'))
}

void app.whenReady().then(() => {
  ipcMain.handle(ipcChannel('getStatus'), () => toResult(() => engine.status()))
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

app.on('will-quit', () => void engine.close())
