import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, watch } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Resolves once the lock file appears in `dataDir` (a change in the folder), or fails when the child ends first. */
function lockTaken(dataDir: string, child: ChildProcess): Promise<void> {
  const lock = join(dataDir, 'library.lock')
  return new Promise((resolve, reject) => {
    const watcher = watch(dataDir, () => {
      if (existsSync(lock)) done()
    })
    const ended = (code: number | null) => done(new Error(`the watching process ended (code ${code}) before taking the lock`))
    const done = (err?: Error) => {
      watcher.close()
      child.off('exit', ended)
      if (err) reject(err)
      else resolve()
    }
    child.once('exit', ended)
    if (existsSync(lock)) done()
  })
}

/**
 * One writer per library: while one process indexes or watches, another asked to index is told
 * who writes and exits 2, and reading, searching and status keep working beside it.
 */
describe('one writer per library', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  let watcher: ChildProcess
  let watcherErr = ''

  beforeAll(async () => {
    mkdirSync(folder)
    for (const name of readdirSync(COCO_DIR)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 3))
      copyFileSync(join(COCO_DIR, name), join(folder, name))
    expect((await cli('model', 'add', CONSE_ONNX, '--name', 'conse')).code).toBe(0)
    expect((await cli('folders', 'add', folder)).code).toBe(0)
    expect((await cli('index')).code).toBe(0)
    watcher = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main/cli/main.ts'), '--data-dir', dataDir, '--ep', 'cpu', 'watch'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    watcher.stderr!.on('data', (chunk: Buffer) => (watcherErr += chunk.toString()))
    await lockTaken(dataDir, watcher)
  })
  afterAll(async () => {
    if (watcher.exitCode === null) {
      const ended = new Promise((resolve) => watcher.once('exit', resolve))
      watcher.kill('SIGINT')
      await ended
    }
    tmp.cleanup()
  })

  it('refuses a second indexer, naming the process that writes, with exit code 2', async () => {
    const second = await cli('index')
    expect(second.code).toBe(2)
    expect(second.stderr).toContain(`pid ${watcher.pid}`)
    expect(second.stderr).toMatch(/watching/)
    expect(second.stderr).toMatch(/hint: Wait for it to finish, or stop it/)
    const holder = JSON.parse(readFileSync(join(dataDir, 'library.lock'), 'utf8'))
    expect(holder).toMatchObject({ pid: watcher.pid, purpose: expect.stringMatching(/watching/) })
  })

  it('keeps status, folder lists and search working beside the writer', async () => {
    expect(await cli('--json', 'status')).toMatchObject({ code: 0 })
    expect(await cli('folders', 'list')).toMatchObject({ code: 0 })
    const search = await cli('--json', 'search', 'dog', '--all', '--limit', '3')
    expect(search.code).toBe(0)
    expect(JSON.parse(search.stdout)).toHaveLength(3)
  })

  it('lets the next process write once the writer has stopped', async () => {
    const ended = new Promise((resolve) => watcher.once('exit', resolve))
    watcher.kill('SIGINT')
    expect(await ended).toBe(0)
    expect(watcherErr).toMatch(/Watching library folders/)
    expect(existsSync(join(dataDir, 'library.lock'))).toBe(false)
    expect(await cli('index')).toMatchObject({ code: 0 })
  })
})
