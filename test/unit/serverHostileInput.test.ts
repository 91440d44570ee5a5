import { MessageChannel } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineConnection, type FromEngine, type ToEngine, hostEngine } from '../../src/main/host/engineChannel'
import { EventHub } from '../../src/main/engine/api/eventHub'
import { type RunningWebServer, startWebServer } from '../../src/main/server/webServer'
import { tempDir } from '../helpers/sharedData'
import { recordingApi } from '../helpers/apiCalls'

const MAX_BODY = 1 << 20

// Web mode as `serve` runs it (HTTP -> engine channel -> engine), with an engine that records its calls.
describe('web mode on hostile requests', () => {
  const tmp = tempDir()
  const { port1, port2 } = new MessageChannel()
  const calls: Array<[string, unknown[]]> = []
  let server: RunningWebServer
  let base = ''

  beforeAll(async () => {
    const api = recordingApi(calls).api
    const hub = new EventHub()
    hostEngine(
      { post: (m) => port2.postMessage(m), onMessage: (l) => port2.on('message', l) },
      { api, subscribe: (l) => hub.subscribe(l), resolveMedia: () => Promise.reject(new Error('no media here')), stop: async () => {} }
    )
    const engine = new EngineConnection({ post: (m: ToEngine) => port1.postMessage(m), onMessage: (l: (m: FromEngine) => void) => port1.on('message', l) })
    server = await startWebServer({
      api: engine.api,
      subscribe: (l) => engine.subscribe(l),
      resolveMedia: (r) => engine.resolveMedia(r),
      rendererDir: tmp.dir,
      host: '127.0.0.1',
      port: 0
    })
    base = `http://127.0.0.1:${server.port}`
  })

  afterAll(async () => {
    await server.close()
    port1.close()
    tmp.cleanup()
  })

  const post = async (method: string, body: BodyInit, init: RequestInit = {}) => {
    const response = await fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...init })
    return { status: response.status, body: (await response.json()) as unknown }
  }

  it('answers a deeply nested body with 400, and the next call works', async () => {
    const deep = `{"args":[${'['.repeat(5000)}${']'.repeat(5000)}]}`
    expect(await post('search', deep)).toEqual({
      status: 400,
      body: { ok: false, error: { message: 'Bad request body: The request body nests deeper than 8 levels', hint: 'Send {"args": [...]}.' } }
    })
    expect(await post('search', '{"args":["dog"]}')).toEqual({ status: 200, body: { ok: true, value: 'search' } })
    expect(calls.splice(0)).toEqual([['search', ['dog']]])
  })

  it('answers a body over 1 MiB with 413, whether its length is declared or streamed, and the next call works', async () => {
    const refused = { status: 413, body: { ok: false, error: { message: `The request body is larger than ${MAX_BODY} bytes`, hint: expect.any(String) } } }
    expect(await post('addFolder', `{"args":["${'a'.repeat(MAX_BODY)}"]}`)).toEqual(refused)
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk)
        else controller.close()
      }
    })
    expect(await post('addFolder', stream, { duplex: 'half' } as RequestInit)).toEqual(refused)
    expect(await post('listFolders', '{"args":[]}')).toEqual({ status: 200, body: { ok: true, value: 'listFolders' } })
    expect(calls.splice(0)).toEqual([['listFolders', []]])
  })

  it('answers arguments that do not match the method with 400 naming the argument, before the engine sees them', async () => {
    expect(await post('search', '{"args":["dog",{"limit":0}]}')).toEqual({
      status: 400,
      body: { ok: false, error: { message: "search: argument 'options.limit' must be a whole number from 1 to 10000 (got 0)", hint: 'search takes (query, options?).' } }
    })
    expect(await post('updateSettings', '{"args":[{"colour":1}]}')).toMatchObject({ status: 400, body: { ok: false, error: { message: "Unknown setting 'colour'" } } })
    expect(await post('getPhoto', '{"args":[7]}')).toEqual({ status: 200, body: { ok: true, value: 'getPhoto' } })
    expect(calls.splice(0)).toEqual([['getPhoto', [7]]])
  })
})
