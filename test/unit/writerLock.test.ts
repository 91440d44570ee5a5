import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { LibraryBusyError } from '../../src/main/engine/errors'
import { type LockHolder, WriterLock } from '../../src/main/engine/store/lock'
import { processStartTime } from '../../src/main/engine/store/processStart'
import { tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Above Linux's largest pid (2^22), so no process has it. */
const NO_SUCH_PID = 99_999_999

function writeLockFile(dataDir: string, holder: Partial<LockHolder>): void {
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(
    join(dataDir, 'library.lock'),
    JSON.stringify({ processStart: null, host: hostname(), purpose: 'indexing', since: new Date(2030, 0, 2, 21, 4).toISOString(), ...holder })
  )
}

function thrownBy(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected it to throw')
}

const lockFile = (dataDir: string): LockHolder => JSON.parse(readFileSync(join(dataDir, 'library.lock'), 'utf8')) as LockHolder

/** Another process holding the lock until its stdin closes. */
async function holdInChild(dataDir: string, purpose: string): Promise<{ pid: number; stop: () => Promise<void> }> {
  const script = `
    import { WriterLock } from './src/main/engine/store/lock.ts'
    const release = new WriterLock(process.argv[1]).acquire(process.argv[2], { address: 'http://127.0.0.1:5173/' })
    process.stdout.write('held\\n')
    process.stdin.on('end', () => { release(); process.exit(0) })
    process.stdin.resume()
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir, purpose], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => String(c).includes('held') && resolve())
    void exited.then(() => reject(new Error('the lock-holding child exited before taking the lock')))
  })
  return {
    pid: child.pid!,
    stop: async () => {
      child.stdin!.end()
      await exited
    }
  }
}

describe('WriterLock', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  let n = 0
  const dataDir = () => join(tmp.dir, `data-${++n}`)

  it('writes who holds it, and removes the file on release', () => {
    const dir = dataDir()
    const lock = new WriterLock(dir)
    const release = lock.acquire('indexing', { address: 'http://127.0.0.1:4000/' })
    expect(lockFile(dir)).toMatchObject({ pid: process.pid, host: hostname(), purpose: 'indexing', address: 'http://127.0.0.1:4000/', processStart: processStartTime(process.pid) })
    expect(lock.holder()?.pid).toBe(process.pid)
    release()
    expect(existsSync(join(dir, 'library.lock'))).toBe(false)
    expect(lock.holder()).toBeNull()
    release()
  })

  it('is re-entrant within a process: the file stays until the last holder releases, naming what is still going on', () => {
    const dir = dataDir()
    const releaseWatch = new WriterLock(dir).acquire('watching')
    const releaseIndex = new WriterLock(dir).acquire('indexing', { address: 'http://127.0.0.1:4000/' })
    expect(lockFile(dir)).toMatchObject({ purpose: 'watching and indexing', address: 'http://127.0.0.1:4000/' })
    releaseWatch()
    expect(lockFile(dir).purpose).toBe('indexing')
    releaseWatch()
    expect(lockFile(dir).purpose).toBe('indexing')
    releaseIndex()
    expect(existsSync(join(dir, 'library.lock'))).toBe(false)
  })

  it('refuses a second process, naming the holder, and is free once it is gone', async () => {
    const dir = dataDir()
    const child = await holdInChild(dir, 'indexing')
    try {
      const lock = new WriterLock(dir)
      expect(lock.holder()).toMatchObject({ pid: child.pid, purpose: 'indexing', address: 'http://127.0.0.1:5173/' })
      const error = thrownBy(() => lock.acquire('indexing'))
      expect(error).toBeInstanceOf(LibraryBusyError)
      expect((error as LibraryBusyError).exitCode).toBe(2)
      expect((error as LibraryBusyError).message).toMatch(
        new RegExp(`^Another SDL Tagger \\(pid ${child.pid} on ${hostname()}, indexing since \\d\\d:\\d\\d\\) is writing to the library in `)
      )
      expect((error as LibraryBusyError).hint).toMatch(/Wait for it to finish, or stop it \(it serves http:\/\/127\.0\.0\.1:5173\/\)/)
    } finally {
      await child.stop()
    }
    const release = new WriterLock(dir).acquire('indexing')
    expect(lockFile(dir).pid).toBe(process.pid)
    release()
  })

  it('says when the holder started, with the date when that was not today', () => {
    const dir = dataDir()
    writeLockFile(dir, { pid: process.ppid, processStart: processStartTime(process.ppid) })
    const sameDay = new WriterLock(dir, () => new Date(2030, 0, 2, 23, 0))
    expect(() => sameDay.acquire('indexing')).toThrow(`(pid ${process.ppid} on ${hostname()}, indexing since 21:04)`)
    const nextDay = new WriterLock(dir, () => new Date(2030, 0, 3, 8, 0))
    expect(() => nextDay.acquire('indexing')).toThrow('indexing since 2030-01-02 21:04)')
  })

  it('takes over the lock of a process that no longer exists', () => {
    const dir = dataDir()
    writeLockFile(dir, { pid: NO_SUCH_PID })
    const lock = new WriterLock(dir)
    expect(lock.holder()).toBeNull()
    const release = lock.acquire('watching')
    expect(lockFile(dir)).toMatchObject({ pid: process.pid, purpose: 'watching' })
    release()
    expect(existsSync(join(dir, 'library.lock'))).toBe(false)
  })

  it.runIf(process.platform === 'linux')('takes over a lock whose process id now belongs to another program', () => {
    const dir = dataDir()
    // The parent is alive; a start time it does not have means the holder was an earlier process with its id.
    writeLockFile(dir, { pid: process.ppid, processStart: '1' })
    const release = new WriterLock(dir).acquire('indexing')
    expect(lockFile(dir).pid).toBe(process.pid)
    release()
  })

  it('takes over a lock file that is not one it wrote', () => {
    const dir = dataDir()
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'library.lock'), 'not json')
    const release = new WriterLock(dir).acquire('indexing')
    expect(lockFile(dir).pid).toBe(process.pid)
    release()
  })

  it('never judges a lock from another host stale, and says how to clear it', () => {
    const dir = dataDir()
    writeLockFile(dir, { pid: NO_SUCH_PID, host: 'another-computer' })
    const lock = new WriterLock(dir)
    expect(lock.holder()).toMatchObject({ host: 'another-computer' })
    const error = thrownBy(() => lock.acquire('indexing'))
    expect(error).toBeInstanceOf(LibraryBusyError)
    expect((error as LibraryBusyError).hint).toContain(`If SDL Tagger no longer runs on another-computer, delete ${join(dir, 'library.lock')}`)
  })

  it('on release leaves alone a lock that another process has taken meanwhile', () => {
    const dir = dataDir()
    const release = new WriterLock(dir).acquire('indexing')
    // As if this process had been judged gone and another had taken over.
    writeLockFile(dir, { pid: process.ppid, processStart: processStartTime(process.ppid) })
    release()
    expect(lockFile(dir).pid).toBe(process.ppid)
  })
})
