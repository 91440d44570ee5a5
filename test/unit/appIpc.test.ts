import { describe, expect, it, vi } from 'vitest'
import { API_METHODS, type ApiEvent, EVENT_CHANNEL, type SdlTaggerBridge, ipcChannel } from '../../src/shared/api'
import { PICK_CHANNEL, PICK_KINDS, type ShellBridge } from '../../src/shared/shell'
import { forwardEvents, registerApiHandlers } from '../../src/main/app/ipc'
import { type DialogLike, pickerOptions, registerPickerHandler } from '../../src/main/app/pickers'
import { createEngineApi } from '../../src/main/engine/api/engineApi'
import { EventHub } from '../../src/main/engine/api/eventHub'
import { recordingApi } from '../helpers/apiCalls'

/** An ipcMain stand-in that records handlers and can invoke them as the renderer would. */
function fakeIpcMain() {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>()
  return {
    handlers,
    handle: (channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, listener)
    },
    removeHandler: (channel: string) => void handlers.delete(channel),
    invoke: (channel: string, ...args: unknown[]) => handlers.get(channel)!({ sender: {} }, ...args)
  }
}

describe('IPC wiring', () => {
  it('lists every method the engine API implements, and nothing else', () => {
    const api = createEngineApi({ dataDir: '/nonexistent/sdl-tagger-test' } as never) as unknown as Record<string, unknown>
    const implemented = Object.keys(api).filter((name) => typeof api[name] === 'function' && !['start', 'stop'].includes(name))
    for (const method of API_METHODS) expect(implemented, method).toContain(method)
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length)
  })

  it('registers one channel per contract method and forwards the arguments unchanged', async () => {
    const ipc = fakeIpcMain()
    const calls: Array<[string, unknown[]]> = []
    registerApiHandlers(ipc, recordingApi(calls).api)
    expect([...ipc.handlers.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort())
    for (const channel of ipc.handlers.keys()) expect(channel).toMatch(/^sdl:api:[a-zA-Z]+$/)
    expect(await ipc.invoke(ipcChannel('search'), 'dog -cat', { limit: 5 })).toEqual({ ok: true, value: 'search' })
    expect(await ipc.invoke(ipcChannel('acceptTag'), 12, 'beach')).toEqual({ ok: true, value: 'acceptTag' })
    expect(calls).toEqual([
      ['search', ['dog -cat', { limit: 5 }]],
      ['acceptTag', [12, 'beach']]
    ])
  })

  it('removes every handler it registered', () => {
    const ipc = fakeIpcMain()
    const remove = registerApiHandlers(ipc, recordingApi().api)
    remove()
    expect(ipc.handlers.size).toBe(0)
  })

  it('answers an engine failure as an error envelope through IPC, never a rejection', async () => {
    const ipc = fakeIpcMain()
    const api = createEngineApi({ dataDir: '/nonexistent/sdl-tagger-test', packs: { list: () => Promise.reject(new Error('disk gone')) } } as never)
    registerApiHandlers(ipc, api)
    expect(await ipc.invoke(ipcChannel('listCatalog'))).toEqual({ ok: false, error: { message: 'disk gone' } })
  })

  it('sends every event to the window until it is destroyed, then stops listening', () => {
    const hub = new EventHub()
    const sent: Array<[string, ApiEvent]> = []
    let destroyed = false
    forwardEvents((l) => hub.subscribe(l), { isDestroyed: () => destroyed, send: (channel, event) => sent.push([channel, event]) })
    const event: ApiEvent = { type: 'library-changed', change: 'folders' }
    hub.emit(event)
    expect(sent).toEqual([[EVENT_CHANNEL, event]])
    destroyed = true
    hub.emit(event)
    expect(sent).toHaveLength(1)
    expect(hub.size).toBe(0)
  })

  it('the preload exposes exactly the contract plus onEvent, each method invoking its channel', async () => {
    const exposed: Record<string, unknown> = {}
    const invoke = vi.fn(async (channel: string, ...args: unknown[]) => ({ ok: true, value: [channel, args] }))
    const listeners = new Map<string, (...a: unknown[]) => void>()
    vi.resetModules()
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
      ipcRenderer: {
        invoke,
        on: (channel: string, l: (...a: unknown[]) => void) => listeners.set(channel, l),
        off: (channel: string) => listeners.delete(channel)
      },
      webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` }
    }))
    await import('../../src/preload/index')
    const bridge = exposed.sdlTagger as SdlTaggerBridge
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent'].sort())
    expect(await bridge.getPhoto(7, { top: 3 })).toEqual({ ok: true, value: [ipcChannel('getPhoto'), [7, { top: 3 }]] })
    const got: ApiEvent[] = []
    const off = bridge.onEvent((e) => got.push(e))
    listeners.get(EVENT_CHANNEL)!({ sender: {} }, { type: 'notice', message: 'hi' })
    expect(got).toEqual([{ type: 'notice', message: 'hi' }])
    off()
    expect(listeners.has(EVENT_CHANNEL)).toBe(false)

    // The shell's own part: the picker's one channel, and a dropped folder's path from Electron.
    const shell = exposed.sdlShell as ShellBridge
    expect(Object.keys(shell).sort()).toEqual(['pathOf', 'pick'])
    expect(await shell.pick('folder')).toEqual({ ok: true, value: [PICK_CHANNEL, ['folder']] })
    expect(shell.pathOf({ name: 'Holidays 2024' } as File)).toBe('/dropped/Holidays 2024')
    expect(Object.keys(exposed).sort()).toEqual(['sdlShell', 'sdlTagger'])
    vi.doUnmock('electron')
  })
})

describe('the system pickers', () => {
  /** A dialog that records what it was asked and answers as the user would. */
  function fakeDialog(answer: { canceled: boolean; filePaths: string[] }) {
    const asked: Array<[unknown, Parameters<DialogLike['showOpenDialog']>[1]]> = []
    const dialog: DialogLike = {
      showOpenDialog: async (window, options) => {
        asked.push([window, options])
        return answer
      }
    }
    return { dialog, asked }
  }
  const window = { id: 'the window that asked' }

  it('opens the folder picker modal to the window that asked and answers the folder chosen', async () => {
    const ipc = fakeIpcMain()
    const { dialog, asked } = fakeDialog({ canceled: false, filePaths: ['/home/ana/Pictures'] })
    const windowOf = vi.fn(() => window)
    registerPickerHandler(ipc, dialog, windowOf)
    expect(await ipc.invoke(PICK_CHANNEL, 'folder')).toEqual({ ok: true, value: '/home/ana/Pictures' })
    expect(windowOf).toHaveBeenCalledWith({ sender: {} })
    expect(asked).toEqual([[window, pickerOptions('folder')]])
    expect(asked[0][1].properties).toEqual(['openDirectory'])
  })

  it('answers null when the user cancels', async () => {
    const ipc = fakeIpcMain()
    registerPickerHandler(ipc, fakeDialog({ canceled: true, filePaths: [] }).dialog, () => window)
    expect(await ipc.invoke(PICK_CHANNEL, 'onnx')).toEqual({ ok: true, value: null })
  })

  it('asks for a file of the kind wanted: an ONNX pack or a checkpoint; a folder for the vocabulary', () => {
    expect(pickerOptions('onnx')).toMatchObject({ properties: ['openFile'], filters: [{ extensions: ['onnx'] }] })
    expect(pickerOptions('checkpoint')).toMatchObject({ properties: ['openFile'], filters: [{ extensions: ['pth'] }] })
    expect(pickerOptions('vocabulary').properties).toEqual(['openDirectory'])
    for (const kind of PICK_KINDS) expect(pickerOptions(kind).title).toBeTruthy()
  })

  it('refuses a kind the contract lacks before any dialog opens, as an error envelope', async () => {
    const ipc = fakeIpcMain()
    const { dialog, asked } = fakeDialog({ canceled: false, filePaths: ['/etc'] })
    registerPickerHandler(ipc, dialog, () => window)
    expect(await ipc.invoke(PICK_CHANNEL, 'anything')).toEqual({ ok: false, error: { message: "pick: argument 'kind' must be one of folder, vocabulary, onnx, checkpoint" } })
    expect(asked).toEqual([])
  })

  it('answers a failing dialog as an error envelope, and removes its handler', async () => {
    const ipc = fakeIpcMain()
    const remove = registerPickerHandler(ipc, { showOpenDialog: () => Promise.reject(new Error('no display')) }, () => window)
    expect(await ipc.invoke(PICK_CHANNEL, 'folder')).toEqual({ ok: false, error: { message: 'no display' } })
    remove()
    expect(ipc.handlers.size).toBe(0)
  })
})
