import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { EngineConnection, type FromEngine, type ToEngine, hostEngine } from '../../src/main/host/engineChannel'
import { EventHub } from '../../src/main/engine/api/eventHub'
import { recordingApi } from '../helpers/apiCalls'

/**
 * The engine's side over a real MessageChannel: its postMessage serialises with V8's serialiser
 * as the engine process's channel does, and throws as synchronously for what it cannot clone.
 */
function linkedEngine() {
  const { port1, port2 } = new MessageChannel()
  const calls: Array<[string, unknown[]]> = []
  const api = recordingApi(calls).api
  hostEngine(
    { post: (m) => port2.postMessage(m), onMessage: (l) => port2.on('message', l) },
    { api, subscribe: (l) => new EventHub().subscribe(l), resolveMedia: () => Promise.reject(new Error('no media here')), stop: async () => {} }
  )
  const connection = new EngineConnection({ post: (m: ToEngine) => port1.postMessage(m), onMessage: (l: (m: FromEngine) => void) => port1.on('message', l) })
  return { connection, calls, port: port1, close: () => port1.close() }
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

const opened: Array<{ close: () => void }> = []
afterEach(() => opened.splice(0).forEach((l) => l.close()))

describe('the engine channel on calls it cannot send', () => {
  it('fails only the call that cannot be serialised; the connection stays up', async () => {
    const link = linkedEngine()
    opened.push(link)
    const api = link.connection.api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    // Sent before the engine said it is ready (queued), then after.
    const queuedDeep = api.search(nested(5000))
    const queuedFine = api.getStatus()
    expect(await queuedDeep).toEqual({
      ok: false,
      error: { message: 'The search call could not be sent to the engine (it is nested too deeply or too large)', hint: expect.stringMatching(/plain data/) }
    })
    expect(await queuedFine).toEqual({ ok: true, value: 'getStatus' })
    expect(await api.search('dog', { limit: () => 5 })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^The search call could not be sent to the engine \(.*could not be cloned/) }
    })
    expect(await api.search(nested(5000))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/nested too deeply/) } })
    expect(link.connection.closed).toBe(false)
    expect(await api.search('dog')).toEqual({ ok: true, value: 'search' })
    expect(link.calls).toEqual([
      ['getStatus', []],
      ['search', ['dog']]
    ])
  })

  it('checks the arguments again on the engine side, whoever posts the call', async () => {
    const link = linkedEngine()
    opened.push(link)
    const results: FromEngine[] = []
    const both = new Promise<void>((resolve) =>
      link.port.on('message', (m: FromEngine) => {
        if (m.kind === 'result' && results.push(m) === 2) resolve()
      })
    )
    link.port.postMessage({ kind: 'call', id: 1, method: 'getPhoto', args: [{ id: 1 }] } satisfies ToEngine)
    link.port.postMessage({ kind: 'call', id: 2, method: 'listFolders', args: [] } satisfies ToEngine)
    await both
    expect(results.sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)).toEqual([
      {
        kind: 'result',
        id: 1,
        result: {
          ok: false,
          error: { message: "getPhoto: argument 'id' must be a photo id, a whole number of at least 1 (got an object)", hint: 'getPhoto takes (id, options?).' }
        }
      },
      { kind: 'result', id: 2, result: { ok: true, value: 'listFolders' } }
    ])
    expect(link.calls).toEqual([['listFolders', []]])
  })
})
