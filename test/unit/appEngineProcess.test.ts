import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { API_METHODS, type ApiEvent, type SdlTaggerApi } from '../../src/shared/api'
import { type EngineChild, EngineProcess, MAX_RESTARTS, engineRuntime } from '../../src/main/host/engineProcess'
import { type FromEngine, type ToEngine, hostEngine } from '../../src/main/host/engineChannel'
import { EventHub } from '../../src/main/engine/api/eventHub'
import { MediaError } from '../../src/main/engine/api/media'
import { VALID_ARGS } from '../helpers/apiCalls'

/** A child "process" over a real MessageChannel (structured cloning, like Electron's), hosting a fake engine. */
function fakeChild(opts: { hang?: boolean } = {}) {
  const { port1, port2 } = new MessageChannel()
  const hub = new EventHub()
  const calls: Array<[string, unknown[]]> = []
  let called: () => void
  const firstCall = new Promise<void>((resolve) => (called = resolve))
  let stopped = false
  const api = Object.fromEntries(
    API_METHODS.map((m) => [
      m,
      async (...args: unknown[]) => {
        calls.push([m, args])
        called()
        if (opts.hang) return new Promise(() => {})
        if (m === 'getPhoto') throw new Error('broken method')
        return { ok: true, value: { method: m, args } }
      }
    ])
  ) as unknown as SdlTaggerApi
  hostEngine(
    { post: (m) => port2.postMessage(m), onMessage: (l) => port2.on('message', l) },
    {
      api,
      subscribe: (l) => hub.subscribe(l),
      resolveMedia: async (r) => {
        if (r.id === 404) throw new MediaError(404, 'No photo 404 in the library')
        return { contentType: 'image/webp', data: Buffer.from(`thumb of ${r.id}`) }
      },
      stop: async () => void (stopped = true)
    }
  )
  const exitListeners: Array<(code: number) => void> = []
  const child: EngineChild = {
    postMessage: (m: ToEngine) => port1.postMessage(m),
    on: (event: 'message' | 'exit', listener: ((m: FromEngine) => void) | ((code: number) => void)) => {
      if (event === 'message') port1.on('message', listener as (m: FromEngine) => void)
      else exitListeners.push(listener as (code: number) => void)
      return child
    },
    kill: () => {
      port1.close()
      return true
    }
  }
  return { child, hub, calls, firstCall, crash: (code = 1) => exitListeners.forEach((l) => l(code)), stopped: () => stopped, close: () => port1.close() }
}

describe('the engine in its own process', () => {
  it('forwards every contract method with its arguments, and the answers back', async () => {
    const child = fakeChild()
    const engine = new EngineProcess(() => child.child)
    for (const method of API_METHODS) {
      const args = VALID_ARGS[method]
      const result = await (engine.api[method] as (...a: unknown[]) => Promise<unknown>)(...args)
      if (method === 'getPhoto') expect(result).toEqual({ ok: false, error: { message: 'broken method' } })
      else expect(result, method).toEqual({ ok: true, value: { method, args } })
    }
    expect(child.calls.map(([m]) => m)).toEqual(API_METHODS)
    await engine.stop()
    expect(child.stopped()).toBe(true)
  })

  it("forwards events and media, keeping a media refusal's status", async () => {
    const child = fakeChild()
    const engine = new EngineProcess(() => child.child)
    const got: ApiEvent[] = []
    engine.subscribe((e) => got.push(e))
    engine.start()
    child.hub.emit({ type: 'library-changed', change: 'photos' })
    const media = await engine.resolveMedia({ kind: 'thumb', id: 7 })
    expect(media).toEqual({ contentType: 'image/webp', data: Buffer.from('thumb of 7') })
    expect(Buffer.isBuffer((media as { data: Buffer }).data)).toBe(true)
    await expect(engine.resolveMedia({ kind: 'photo', id: 404 })).rejects.toMatchObject({ status: 404, message: 'No photo 404 in the library' })
    expect(got).toEqual([{ type: 'library-changed', change: 'photos' }])
    await engine.stop()
  })

  it('answers calls in flight when the process dies, starts a new one, and gives up after repeated crashes', async () => {
    const children: Array<ReturnType<typeof fakeChild>> = []
    const engine = new EngineProcess(() => {
      const c = fakeChild({ hang: children.length === 0 })
      children.push(c)
      return c.child
    })
    const inFlight = engine.api.search('dog')
    // The child is working on it (and never answers) when it dies.
    await children[0].firstCall
    children[0].crash(139)
    expect(await inFlight).toEqual({
      ok: false,
      error: { message: 'The engine stopped unexpectedly (the engine process exited with code 139)', hint: expect.any(String) }
    })
    expect(await engine.api.getStatus()).toMatchObject({ ok: true })
    expect(children).toHaveLength(2)
    for (let i = 1; i <= MAX_RESTARTS; i++) {
      children.at(-1)!.crash(1)
      await engine.api.getStatus()
    }
    expect(children).toHaveLength(MAX_RESTARTS + 1)
    expect(await engine.api.getStatus()).toMatchObject({ ok: false, error: { message: expect.stringMatching(/keeps stopping/) } })
    await expect(engine.resolveMedia({ kind: 'thumb', id: 1 })).rejects.toThrow(/keeps stopping/)
    children.forEach((c) => c.close())
  })

  it('runs the engine on the Node that ran npm unless the app is packaged (native addons are built for that Node)', () => {
    expect(engineRuntime(false, { npm_node_execpath: '/usr/bin/node' })).toEqual({ kind: 'node', execPath: '/usr/bin/node' })
    expect(engineRuntime(false, { npm_node_execpath: '/usr/bin/node', SDL_TAGGER_NODE: '/opt/node/bin/node' })).toEqual({ kind: 'node', execPath: '/opt/node/bin/node' })
    expect(engineRuntime(false, {})).toEqual({ kind: 'utility' })
    expect(engineRuntime(true, { npm_node_execpath: '/usr/bin/node' })).toEqual({ kind: 'utility' })
  })
})
