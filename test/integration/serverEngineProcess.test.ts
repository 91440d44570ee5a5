import { fork } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent, Result } from '../../src/shared/api'
import { type EngineChild, EngineProcess } from '../../src/main/host/engineProcess'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

const ENGINE_ENTRY = fileURLToPath(new URL('../../src/main/host/engineMain.ts', import.meta.url))

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`API error: ${result.error.message}`)
  return result.value
}

// The desktop app's engine process for real, without Electron: src/main/host/engineMain.ts runs in
// a forked Node process whose `process.parentPort` imitates Electron's utility process (messages
// structured-cloned), supervised by the same EngineProcess the main process uses.
describe('the engine process', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const adapter = join(tmp.dir, 'utility-process.mjs')
  const pids: number[] = []
  let engine: EngineProcess

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of readdirSync(COCO_DIR)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 3))
      copyFileSync(join(COCO_DIR, name), join(folder, name))
    const setup = new Engine({ dataDir })
    await addOnnxModel(setup.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    await setup.close()
    writeFileSync(
      adapter,
      // Like Electron's parentPort, messages wait in a queue until the engine listens.
      `import { EventEmitter } from 'node:events'
       const port = new EventEmitter()
       const queue = []
       port.postMessage = (message) => process.send(message)
       port.on('newListener', (event) => event === 'message' && setImmediate(() => queue.splice(0).forEach((data) => port.emit('message', { data }))))
       process.on('message', (data) => (port.listenerCount('message') ? port.emit('message', { data }) : queue.push(data)))
       process.parentPort = port
       await import(${JSON.stringify(new URL(`file://${ENGINE_ENTRY}`).href)})`
    )
    engine = new EngineProcess(() => {
      const child = fork(adapter, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', env: { ...process.env, SDL_TAGGER_DATA_DIR: dataDir }, stdio: 'inherit' })
      pids.push(child.pid!)
      return {
        // A message to a process that just died is answered by its exit, not by an error event.
        postMessage: (m) => child.send(m, () => {}),
        on: (event: 'message' | 'exit', listener: (arg: never) => void) => child.on(event, listener as (...args: unknown[]) => void),
        kill: () => child.kill()
      } as EngineChild
    })
  })
  afterAll(async () => {
    await engine?.stop()
    tmp.cleanup()
  })

  it('runs the API in the other process: folders, indexing with events, photos, media', async () => {
    const status = value(await engine.api.getStatus())
    expect(status).toMatchObject({ dataDir, activeModel: { name: 'conse' } })
    const events: ApiEvent[] = []
    engine.subscribe((e) => events.push(e))
    const done = new Promise<ApiEvent>((resolve) => engine.subscribe((e) => e.type === 'indexing' && e.progress.phase === 'done' && resolve(e)))
    value(await engine.api.addFolder(folder))
    value(await engine.api.startIndexing())
    expect(await done).toMatchObject({ progress: { summary: { indexed: 3 } } })
    expect(events.some((e) => e.type === 'library-changed' && e.change === 'folders')).toBe(true)
    const page = value(await engine.api.listPhotos({ offset: 0, limit: 10 }))
    expect(page.total).toBe(3)
    const thumb = await engine.resolveMedia({ kind: 'thumb', id: page.photos[0].id })
    expect(thumb).toMatchObject({ contentType: 'image/webp', file: expect.stringContaining(join(dataDir, 'thumbnails')) })
    await expect(engine.resolveMedia({ kind: 'photo', id: 999 })).rejects.toMatchObject({ status: 404 })
  })

  it('survives the engine process being killed: the call in flight gets an error, the next one a new process', async () => {
    process.kill(pids.at(-1)!, 'SIGKILL')
    // Sent to a process that can no longer answer: its exit answers instead.
    expect(await engine.api.search('dog')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/The engine stopped unexpectedly \(.*exited/) } })
    expect(value(await engine.api.listPhotos({ offset: 0, limit: 10 })).total).toBe(3)
    expect(pids).toHaveLength(2)
  })
})
