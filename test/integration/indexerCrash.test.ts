import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { CONSE_ONNX, tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PHOTO_COUNT = 160

/**
 * Resolves once the CLI's progress lines (plain ones: stderr is a pipe) say that at least `count`
 * photos are indexed: they are committed by then, as the indexer reports a batch after writing it.
 */
function indexedAtLeast(child: ChildProcess, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      const done = Math.max(0, ...[...text.matchAll(/^index\s+\d+%\s+(\d+) \/ \d+/gm)].map((m) => Number(m[1])))
      if (done < count) return
      child.stderr!.off('data', onData)
      resolve(done)
    }
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) => reject(new Error(`The indexer ended (${signal ?? code}) before reporting ${count} photos:\n${text}`)))
  })
}

/** The CLI in a child process, from source, so the test can kill it. */
function startIndexer(dataDir: string) {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli/main.ts'), '--data-dir', dataDir, '--ep', 'cpu', 'index', '--batch', '4'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

describe('indexer killed mid-run', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('resumes after SIGKILL with an intact database and every photo indexed exactly once', async () => {
    const dataDir = join(tmp.dir, 'data')
    const photos = join(tmp.dir, 'photos')
    await Promise.all(Array.from({ length: PHOTO_COUNT }, (_, i) => writeTestPhoto(join(photos, `${i % 4}`, `p${i}.jpg`), i)))
    const engine = new Engine({ dataDir })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    ;(await engine.library()).addFolder(photos)
    await engine.close()

    // Kill it once some batches are committed and more are still to come.
    const dbPath = join(dataDir, 'library.sqlite')
    const child = startIndexer(dataDir)
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    const committed = await indexedAtLeast(child, 8)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')

    const check = new Database(dbPath)
    const partial = (check.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n
    expect(partial).toBeGreaterThanOrEqual(committed)
    expect(partial).toBeLessThan(PHOTO_COUNT)
    // Every committed photo has its vectors: a batch is written whole or not at all.
    expect((check.prepare('SELECT COUNT(*) AS n FROM principal_vectors').get() as { n: number }).n).toBe(partial)
    check.close()

    const resumed = new Engine({ dataDir, executionProvider: 'cpu' })
    const summary = await (await resumed.library()).index()
    expect(summary.unchanged).toBe(partial)
    expect(summary.indexed).toBe(PHOTO_COUNT - partial)
    await resumed.close()

    const db = new Database(dbPath, { readonly: true })
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    expect((db.prepare('SELECT COUNT(*) AS n FROM photos').get() as { n: number }).n).toBe(PHOTO_COUNT)
    expect((db.prepare('SELECT COUNT(DISTINCT path) AS n FROM photos').get() as { n: number }).n).toBe(PHOTO_COUNT)
    expect((db.prepare('SELECT COUNT(*) AS n FROM principal_vectors').get() as { n: number }).n).toBe(PHOTO_COUNT)
    db.close()
  })
})
