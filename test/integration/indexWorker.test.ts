import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { getPriority } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { IndexWorkerClient } from '../../src/main/engine/library/indexWorkerClient'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

/** Each thread of this process and its nice value (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceness(): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
    } catch {
      // The thread ended while being listed.
    }
  }
  return out
}

describe('the index worker', () => {
  const tmp = tempDir()
  const engines: Engine[] = []
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()))
    tmp.cleanup()
  })

  /** A library of its own for each test, with `count` photos waiting to be indexed, so no test depends on another's leftovers. */
  async function libraryWith(name: string, count: number) {
    const dataDir = join(tmp.dir, name, 'data')
    const photos = join(tmp.dir, name, 'Photos')
    const engine = new Engine({ dataDir, executionProvider: 'cpu' })
    engines.push(engine)
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    for (let i = 0; i < count; i++) await writeTestPhoto(join(photos, `photo-${i}.jpg`), i)
    ;(await engine.library()).addFolder(photos)
    return { engine, dataDir }
  }

  it.runIf(process.platform === 'linux')('embeds photos in threads of lower priority than the one that searches', async () => {
    const library = await (await libraryWith('priority', 12)).engine.library()
    const before = getPriority(0)
    const seen: Array<Map<number, number>> = []
    const progress: number[] = []
    const summary = await library.index(undefined, {
      batchSize: 4,
      onProgress: (p) => {
        progress.push(p.done)
        seen.push(threadNiceness())
      }
    })
    expect(summary).toMatchObject({ indexed: 12, failed: 0 })
    // Progress arrives from the worker, batch by batch, to the end.
    expect(progress.at(-1)).toBe(12)
    expect(progress.length).toBeGreaterThanOrEqual(3)
    const lowered = Math.min(19, before + 10)
    for (const threads of seen) {
      // This thread (the process's main one here) keeps its priority...
      expect(threads.get(process.pid)).toBe(before)
      // ...while the worker's thread and onnxruntime's pool, which it created, run lower.
      expect([...threads.values()].filter((n) => n === lowered).length).toBeGreaterThanOrEqual(2)
    }
  })

  it('passes on a failure with its message and hint, run after run', async () => {
    const { dataDir } = await libraryWith('failure', 1)
    const client = new IndexWorkerClient({ dataDir, model: 'no-such-pack', executionProvider: 'cpu' })
    try {
      const failed = client.run({ kind: 'folders', folderIds: [1] })
      await expect(failed).rejects.toThrow(/no-such-pack/)
      await expect(failed).rejects.toHaveProperty('hint', expect.stringMatching(/\S/))
      await expect(client.run({ kind: 'folders', folderIds: [1] })).rejects.toThrow(/no-such-pack/)
    } finally {
      await client.close()
    }
  })

  it('fails the run it was doing when the worker dies, and starts a new one for the next', async () => {
    const dying = join(tmp.dir, 'dying-worker.mjs')
    writeFileSync(dying, "import { parentPort } from 'node:worker_threads'\nparentPort.on('message', (m) => { if (m.type === 'run') process.exit(3) })\n")
    const client = new IndexWorkerClient({ dataDir: join(tmp.dir, 'dying', 'data') }, undefined, () => ({ entry: pathToFileURL(dying).href }))
    try {
      await expect(client.run({ kind: 'folders', folderIds: [1] })).rejects.toThrow('The indexer stopped: it exited with code 3')
      await expect(client.run({ kind: 'folders', folderIds: [1] })).rejects.toThrow('The indexer stopped: it exited with code 3')
    } finally {
      await client.close()
    }
  })

  it('cancels through the signal: the run ends cancelled, keeping what it indexed', async () => {
    const library = await (await libraryWith('cancel', 28)).engine.library()
    const controller = new AbortController()
    const summary = await library.index(undefined, { batchSize: 2, signal: controller.signal, onProgress: (p) => p.done >= 2 && controller.abort() })
    expect(summary.cancelled).toBe(true)
    expect(summary.indexed).toBeGreaterThanOrEqual(2)
    expect(summary.indexed).toBeLessThan(28)
    const rest = await library.index()
    expect(rest.indexed).toBe(28 - summary.indexed)
  })

  it('ends a run cancelled, keeping what it indexed, when the engine closes under it', async () => {
    const { engine: quitting, dataDir } = await libraryWith('quit', 30)
    let closed: Promise<void> | undefined
    const summary = await (
      await quitting.library()
    ).index(undefined, {
      batchSize: 2,
      onProgress: (p) => {
        if (p.done >= 2) closed ??= quitting.close()
      }
    })
    await closed
    expect(summary.cancelled).toBe(true)
    expect(summary.indexed).toBeGreaterThanOrEqual(2)
    // As the app started again: another engine on the same data finishes the rest.
    const restarted = new Engine({ dataDir, executionProvider: 'cpu' })
    engines.push(restarted)
    const rest = await (await restarted.library()).index()
    expect(rest.indexed).toBe(30 - summary.indexed)
  })
})
