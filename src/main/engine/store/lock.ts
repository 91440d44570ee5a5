import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { LibraryBusyError, SdlError } from '../errors'
import { isProcessAlive } from '../processAlive'
import { writerLockPath } from './paths'
import { processStartTime } from './processStart'

/** What `<data-dir>/library.lock` says about the process writing to the library. */
export interface LockHolder {
  pid: number
  /** See processStartTime: tells the holder from a later process given the same id. */
  processStart: string | null
  host: string
  /** What it is doing, in words ("indexing", "watching"). */
  purpose: string
  /** When it took the lock (ISO 8601). */
  since: string
  /** Where it serves the API, when it does. */
  address?: string
}

/** Gives the lock back; calling it again does nothing. */
export type ReleaseLock = () => void

export interface AcquireOptions {
  /** Where this process serves the API, for the message another process shows. */
  address?: string
}

interface HeldLock {
  record: LockHolder
  /** One entry per acquire not yet released: an index run and the watcher share the lock. */
  purposes: string[]
}

/**
 * Held by this process, by lock file: a module-level table rather than per WriterLock, so that
 * every Library or command in the process counts against the same file.
 */
const held = new Map<string, HeldLock>()

/** Takes over a stale lock, and retries when another process took or gave it back meanwhile. */
const ATTEMPTS = 5

/**
 * The one-writer rule for a library: indexing, watching and restoring take this lock, so two SDL
 * Tagger processes (the app and the command line, say) never write the same rows at once.
 * Reading, searching and tag decisions do not take it. The lock is a file created atomically
 * (hard-linked from a complete temporary file, so no one ever reads it half-written); a lock
 * left by a process that died, or whose id now belongs to another program, is taken over.
 * Within one process the lock is re-entrant: the file goes away when the last holder releases.
 */
export class WriterLock {
  readonly path: string

  constructor(
    private readonly dataDir: string,
    private readonly now: () => Date = () => new Date()
  ) {
    this.path = writerLockPath(dataDir)
  }

  /** Takes the lock or throws LibraryBusyError naming the process that has it. */
  acquire(purpose: string, options: AcquireOptions = {}): ReleaseLock {
    const mine = held.get(this.path)
    if (mine) {
      mine.purposes.push(purpose)
      this.rewrite(mine, options.address)
      return this.releaser(mine, purpose)
    }
    const record: LockHolder = {
      pid: process.pid,
      processStart: processStartTime(process.pid),
      host: hostname(),
      purpose,
      since: this.now().toISOString(),
      ...(options.address === undefined ? {} : { address: options.address })
    }
    mkdirSync(dirname(this.path), { recursive: true })
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (createExclusively(this.path, JSON.stringify(record))) {
        const lock: HeldLock = { record, purposes: [purpose] }
        held.set(this.path, lock)
        return this.releaser(lock, purpose)
      }
      const found = readLockFile(this.path)
      if (found === 'missing') continue
      if (found.holder && !isStale(found.holder, this.path)) throw this.busyError(found.holder)
      takeOver(this.path, found.text)
    }
    throw new SdlError(`Could not take the library lock ${this.path}: other processes kept taking and giving it back`, 'Try again.')
  }

  /** Who writes to the library now, or null when no live process does. */
  holder(): LockHolder | null {
    const found = readLockFile(this.path)
    if (found === 'missing' || !found.holder || isStale(found.holder, this.path)) return null
    return found.holder
  }

  private releaser(lock: HeldLock, purpose: string): ReleaseLock {
    let released = false
    return () => {
      if (released) return
      released = true
      lock.purposes.splice(lock.purposes.indexOf(purpose), 1)
      if (lock.purposes.length) {
        this.rewrite(lock, undefined)
        return
      }
      held.delete(this.path)
      const found = readLockFile(this.path)
      if (found !== 'missing' && found.holder && sameProcess(found.holder, lock.record)) unlinkSync(this.path)
    }
  }

  /** Keeps the file in step with what this process is doing now, and where it serves. */
  private rewrite(lock: HeldLock, address: string | undefined): void {
    const record = { ...lock.record, purpose: [...new Set(lock.purposes)].join(' and '), ...(address === undefined ? {} : { address }) }
    if (JSON.stringify(record) === JSON.stringify(lock.record)) return
    const found = readLockFile(this.path)
    if (found === 'missing' || !found.holder || !sameProcess(found.holder, lock.record)) return
    lock.record = record
    const temporary = temporaryPath(this.path)
    writeFileSync(temporary, JSON.stringify(record))
    renameSync(temporary, this.path)
  }

  private busyError(holder: LockHolder): LibraryBusyError {
    const sameHost = holder.host === hostname()
    const doing = `${holder.purpose} since ${describeSince(new Date(holder.since), this.now())}`
    const stop = holder.address ? `stop it (it serves ${holder.address})` : 'stop it'
    const hint = sameHost
      ? `Wait for it to finish, or ${stop}, then try again.${holder.processStart === null ? ` If no SDL Tagger is running, delete ${this.path}.` : ''}`
      : `Wait for it to finish, or ${stop}, then try again. If SDL Tagger no longer runs on ${holder.host}, delete ${this.path}.`
    return new LibraryBusyError(`Another SDL Tagger (pid ${holder.pid} on ${holder.host}, ${doing}) is writing to the library in ${this.dataDir}`, hint)
  }
}

/** Creates the lock file with its whole content, or returns false when it already exists. */
function createExclusively(path: string, text: string): boolean {
  const temporary = temporaryPath(path)
  writeFileSync(temporary, text)
  try {
    linkSync(temporary, path)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    // File systems without hard links (FAT, exFAT on a portable drive): an exclusive create,
    // which a reader may catch empty for an instant; such a file counts as stale there.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createWithoutLink(path, text)
    throw err
  } finally {
    unlinkSync(temporary)
  }
}

function createWithoutLink(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/** The lock file's text and holder; a holder of null means the text is not a lock we wrote. */
function readLockFile(path: string): { text: string; holder: LockHolder | null } | 'missing' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  return { text, holder: parseHolder(text) }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.purpose !== 'string' || typeof value.since !== 'string') return null
    return { ...value, processStart: typeof value.processStart === 'string' ? value.processStart : null } as LockHolder
  } catch {
    return null
  }
}

/**
 * A holder on this host that is gone, or whose id now belongs to another program. One on another
 * host (a library on a network share) is never judged stale: its processes cannot be seen. This
 * process's own file that this module does not count (left by a release that never came) is
 * stale too: everything in the process that writes shares the count in `held`.
 */
function isStale(holder: LockHolder, path: string): boolean {
  if (holder.host !== hostname()) return false
  if (!isProcessAlive(holder.pid)) return true
  const start = processStartTime(holder.pid)
  if (holder.pid === process.pid && holder.processStart === start) return !held.has(path)
  return holder.processStart !== null && start !== null && start !== holder.processStart
}

function sameProcess(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.host === b.host && a.processStart === b.processStart && a.since === b.since
}

/**
 * Removes a stale lock without removing a fresh one that another process put in its place after
 * we read it: the file is moved aside first and put back if it is not the one judged stale.
 */
function takeOver(path: string, staleText: string): void {
  const aside = temporaryPath(path)
  try {
    renameSync(path, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (readFileSync(aside, 'utf8') !== staleText) {
    try {
      linkSync(aside, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  unlinkSync(aside)
}

function temporaryPath(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`
}

/** "21:04" today, "2025-03-01 21:04" another day: what a user needs to judge whether it is stuck. */
function describeSince(since: Date, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  const time = `${pad(since.getHours())}:${pad(since.getMinutes())}`
  return since.toDateString() === now.toDateString() ? time : `${since.getFullYear()}-${pad(since.getMonth() + 1)}-${pad(since.getDate())} ${time}`
}
