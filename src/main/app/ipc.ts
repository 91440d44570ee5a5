import { API_METHODS, EVENT_CHANNEL, type ApiEvent, type SdlTaggerApi, ipcChannel } from '../../shared/api'
import { validatedApi } from '../engine/api/apiSchemas'

export { toResult } from '../engine/api/result'

/** The part of Electron's ipcMain the wiring uses, so tests can pass a fake one. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: unknown, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

/**
 * Registers one IPC handler per contract method, each forwarding its arguments to the engine's
 * API object once they match the method's schema. The API answers Result envelopes and never
 * throws, so neither does a handler; a method the contract lacks has no channel at all. Returns
 * the function that removes them.
 */
export function registerApiHandlers(ipcMain: IpcMainLike, engineApi: SdlTaggerApi): () => void {
  const api = validatedApi(engineApi)
  for (const method of API_METHODS) {
    const call = api[method] as (...args: unknown[]) => Promise<unknown>
    ipcMain.handle(ipcChannel(method), (_event, ...args) => call.apply(api, args))
  }
  return () => API_METHODS.forEach((method) => ipcMain.removeHandler(ipcChannel(method)))
}

/** The part of a window the event forwarding uses. */
export interface EventTarget {
  isDestroyed(): boolean
  send(channel: string, event: ApiEvent): void
}

/** Forwards every API event to a window (webContents) for as long as it lives. */
export function forwardEvents(subscribe: (listener: (event: ApiEvent) => void) => () => void, target: EventTarget): () => void {
  const unsubscribe = subscribe((event) => {
    if (target.isDestroyed()) unsubscribe()
    else target.send(EVENT_CHANNEL, event)
  })
  return unsubscribe
}
