import { describe, expect, it } from 'vitest'
import { toResult } from '../../src/main/app/ipc'
import { mainWindowOptions } from '../../src/main/app/windowOptions'
import { SdlError } from '../../src/main/engine/errors'

describe('Electron shell logic', () => {
  it('opens the window isolated, sandboxed and without Node.js', () => {
    const prefs = mainWindowOptions('/app/preload/index.cjs').webPreferences!
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: '/app/preload/index.cjs' })
  })

  it('answers every IPC call with a result envelope, never a raw exception', async () => {
    expect(await toResult(async () => 42)).toEqual({ ok: true, value: 42 })
    expect(await toResult(async () => Promise.reject(new SdlError('No model pack is installed', 'Run model install')))).toEqual({
      ok: false,
      error: { message: 'No model pack is installed', hint: 'Run model install' }
    })
    expect(await toResult(async () => Promise.reject(new Error('boom')))).toEqual({ ok: false, error: { message: 'boom' } })
  })
})
