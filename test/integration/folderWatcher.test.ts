import { appendFileSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { type ChokidarOptions, type FSWatcher, watch } from 'chokidar'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ChangeBatch, FolderWatcher, type FolderWatcherOptions, type WatcherFactory } from '../../src/main/engine/library/folderWatcher'
import { tempDir } from '../helpers/sharedData'

const QUIET_MS = 150
const STABILITY_MS = 300
const POLL_MS = 100
/**
 * For tests that expect a rename's `removed` and `added` in one batch: chokidar reports the two
 * halves separately, and a window this long keeps a slow machine's gap between them inside it.
 */
const RENAME_QUIET_MS = 1000
/** Only to fail with a useful message instead of at the test timeout: every wait below is for an event. */
const GIVE_UP_MS = 60_000

/** Collects what a FolderWatcher reports, and waits for it as it arrives. */
class Recorder {
  readonly batches: ChangeBatch[] = []
  readonly notices: string[] = []
  readonly errors: Error[] = []
  /** Size of each reported file at the moment it was reported. */
  readonly sizeWhenReported = new Map<string, number>()
  private matched = 0
  private readonly waiters = new Set<() => void>()

  constructor(private readonly dir: string) {}

  readonly options = (): Pick<FolderWatcherOptions, 'onChanges' | 'onNotice' | 'onError'> => ({
    onChanges: (batch) => {
      for (const path of [...batch.added, ...batch.changed]) this.sizeWhenReported.set(path, statSync(path, { throwIfNoEntry: false })?.size ?? -1)
      this.push(batch)
    },
    onNotice: (message) => {
      this.notices.push(message)
      this.wake()
    },
    onError: (error) => this.errors.push(error)
  })

  /** Records a batch (tests with their own onChanges call this too) and wakes whoever waits for one. */
  push(batch: ChangeBatch): void {
    this.batches.push(batch)
    this.wake()
  }

  /** The first batch after the last one matched that `test` accepts. */
  async batch(what: string, test: (b: ChangeBatch) => boolean): Promise<ChangeBatch> {
    const index = await this.until(what, () => {
      const i = this.batches.findIndex((b, j) => j >= this.matched && test(b))
      return i >= 0 ? i : undefined
    })
    this.matched = index + 1
    return this.batches[index]
  }

  async notice(pattern: RegExp): Promise<string> {
    return this.until(`a notice matching ${pattern}`, () => this.notices.find((n) => pattern.test(n)))
  }

  /** How many times `path` appeared in any batch. */
  mentions(path: string): number {
    return this.batches.reduce((n, b) => n + [...b.added, ...b.changed, ...b.removed].filter((p) => p === path).length, 0)
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  private until<T>(what: string, find: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find()
        if (found === undefined) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        const seen = this.batches.map((b) => JSON.stringify(b, (_key, value) => (typeof value === 'string' ? relative(this.dir, value) : value)))
        reject(new Error(`Nothing came within ${GIVE_UP_MS} ms while waiting for ${what}.\nBatches: ${seen.join('\n') || 'none'}\nNotices: ${this.notices.join('\n') || 'none'}`))
      }, GIVE_UP_MS)
      this.waiters.add(check)
      check()
    })
  }
}

/**
 * A clock for the watcher's stability check that stands still until released, so nothing can
 * settle while a test is still writing, however slowly this machine runs it.
 */
function heldClock() {
  let released = false
  let onRead: (() => void) | undefined
  return {
    now: () => {
      onRead?.()
      return released ? Date.now() : 0
    },
    /** Resolves when the watcher next looks at the clock: it has seen a file event, or checked its pending writes. */
    nextRead: () => new Promise<void>((resolve) => (onRead = resolve)),
    release: () => {
      released = true
    }
  }
}
const only = (b: ChangeBatch, expected: Partial<ChangeBatch>) =>
  ['added', 'changed', 'removed'].every((k) => sameSet(b[k as keyof ChangeBatch], expected[k as keyof ChangeBatch] ?? []))
const sameSet = (a: string[], b: string[]) => a.length === b.length && b.every((x) => a.includes(x))

describe('FolderWatcher', () => {
  let tmp: ReturnType<typeof tempDir>
  let dir: string
  let rec: Recorder
  let watcher: FolderWatcher | undefined

  beforeEach(() => {
    tmp = tempDir('sdl-tagger-watch-')
    dir = realpathSync(tmp.dir)
    rec = new Recorder(dir)
  })
  afterEach(async () => {
    await watcher?.close()
    watcher = undefined
    tmp.cleanup()
    expect(rec.errors).toEqual([])
  })

  async function watchFolder(folder: string, opts: Partial<FolderWatcherOptions> = {}, factory?: WatcherFactory): Promise<FolderWatcher> {
    mkdirSync(folder, { recursive: true })
    watcher = new FolderWatcher({ quietMs: QUIET_MS, stabilityMs: STABILITY_MS, pollIntervalMs: POLL_MS, ...rec.options(), ...opts }, factory)
    await watcher.add(folder)
    return watcher
  }

  let sentinels = 0
  /** Writes a sentinel photo and waits for it: anything the watcher would report about earlier writes has arrived by then. */
  async function settle(folder: string): Promise<void> {
    const sentinel = join(folder, `sentinel-${++sentinels}.jpg`)
    writeFileSync(sentinel, 'sentinel')
    await rec.batch('the sentinel', (b) => b.added.includes(sentinel))
  }

  it('reports a photo added, changed and removed', async () => {
    const root = join(dir, 'photos')
    const w = await watchFolder(root)
    expect(w.mode).toBe('native')
    const photo = join(root, 'a.jpg')

    writeFileSync(photo, 'one')
    await rec.batch('a.jpg added', (b) => only(b, { added: [photo] }))
    writeFileSync(photo, 'two, longer')
    await rec.batch('a.jpg changed', (b) => only(b, { changed: [photo] }))
    rmSync(photo)
    await rec.batch('a.jpg removed', (b) => only(b, { removed: [photo] }))
  })

  it('does not report the photos already there when it starts', async () => {
    const root = join(dir, 'photos')
    mkdirSync(join(root, 'sub'), { recursive: true })
    writeFileSync(join(root, 'old.jpg'), 'old')
    writeFileSync(join(root, 'sub', 'old.png'), 'old')
    await watchFolder(root)
    await settle(root)
    expect(rec.batches).toHaveLength(1)
  })

  it('reports a rename, and a move to a subfolder, as removed + added in one batch', async () => {
    const root = join(dir, 'photos')
    mkdirSync(join(root, 'sub'), { recursive: true })
    const [a, b, c] = [join(root, 'a.jpg'), join(root, 'b.jpg'), join(root, 'sub', 'b.jpg')]
    writeFileSync(a, 'content')
    await watchFolder(root, { quietMs: RENAME_QUIET_MS })

    renameSync(a, b)
    await rec.batch('rename a.jpg -> b.jpg', (batch) => only(batch, { removed: [a], added: [b] }))
    renameSync(b, c)
    await rec.batch('move b.jpg -> sub/b.jpg', (batch) => only(batch, { removed: [b], added: [c] }))
  })

  it('reports a file written in chunks once, after it is complete', async () => {
    const root = join(dir, 'photos')
    // Held, the clock makes every gap between chunks look shorter than the stability period.
    const clock = heldClock()
    await watchFolder(root, { now: clock.now })
    const photo = join(root, 'big.jpg')
    const chunk = Buffer.alloc(64 * 1024, 7)
    appendFileSync(photo, chunk)
    for (let i = 1; i < 7; i++) {
      // Each chunk lands after the watcher has looked at the file as it was: it sees it grow.
      await clock.nextRead()
      appendFileSync(photo, chunk)
    }
    clock.release()
    await rec.batch('big.jpg added', (b) => b.added.includes(photo))
    expect(rec.sizeWhenReported.get(photo)).toBe(7 * chunk.length)
    await settle(root)
    expect(rec.mentions(photo)).toBe(1)
  })

  it('ignores hidden and system entries, .xmp sidecars and files that are not photos', async () => {
    const root = join(dir, 'photos')
    let chokidarWatcher: FSWatcher | undefined
    await watchFolder(root, {}, (folder, options) => (chokidarWatcher = watch(folder, options)))
    mkdirSync(join(root, '.thumbnails'))
    mkdirSync(join(root, '@eaDir'))
    const ignored = ['.hidden.jpg', 'IMG_1.HEIC.xmp', 'notes.txt', 'Thumbs.db', join('.thumbnails', 't.jpg'), join('@eaDir', 't.jpg')]
    for (const name of ignored) writeFileSync(join(root, name), 'x')
    const photo = join(root, 'IMG_1.HEIC')
    writeFileSync(photo, 'x')
    await settle(root)
    const reported = rec.batches.flatMap((b) => [...b.added, ...b.changed, ...b.removed])
    expect(reported.filter((p) => !basename(p).startsWith('sentinel'))).toEqual([photo])
    // Ignored at chokidar's level: no watch, and hidden or system folders not even entered.
    const watched = chokidarWatcher!.getWatched()
    expect(Object.keys(watched).filter((path) => path.startsWith(root))).toEqual([root])
    expect(watched[root].filter((name) => !name.startsWith('sentinel'))).toEqual(['IMG_1.HEIC'])
  })

  it('reports nothing for a photo added and deleted within the window', async () => {
    const root = join(dir, 'photos')
    const clock = heldClock()
    await watchFolder(root, { now: clock.now })
    const photo = join(root, 'brief.jpg')
    writeFileSync(photo, 'x')
    // The watcher has the new photo and waits for it to settle, which it cannot while the clock is held.
    await clock.nextRead()
    rmSync(photo)
    clock.release()
    await settle(root)
    expect(rec.mentions(photo)).toBe(0)
  })

  it('reports a folder renamed away as removed, and renamed back as added', async () => {
    const root = join(dir, 'photos')
    mkdirSync(join(root, 'sub'), { recursive: true })
    const photos = [join(root, 'a.jpg'), join(root, 'sub', 'b.png')]
    for (const path of photos) writeFileSync(path, 'x')
    await watchFolder(root)

    renameSync(root, join(dir, 'away'))
    await rec.batch('both photos removed', (b) => only(b, { removed: photos }))
    await rec.notice(/photos is gone .*unmounted/)

    renameSync(join(dir, 'away'), root)
    await rec.batch('both photos added', (b) => only(b, { added: photos }))
    await rec.notice(/photos has appeared/)
    const later = join(root, 'sub', 'later.jpg')
    writeFileSync(later, 'x')
    await rec.batch('later.jpg added', (b) => only(b, { added: [later] }))
  })

  it('waits for a folder that is not there yet', async () => {
    const root = join(dir, 'usb')
    watcher = new FolderWatcher({ quietMs: QUIET_MS, stabilityMs: STABILITY_MS, pollIntervalMs: POLL_MS, ...rec.options() })
    await watcher.add(root)
    expect(rec.notices[0]).toMatch(/usb is not there/)

    mkdirSync(root)
    writeFileSync(join(root, 'a.jpg'), 'x')
    await rec.batch('a.jpg added', (b) => only(b, { added: [join(root, 'a.jpg')] }))
  })

  it('works by polling', async () => {
    const root = join(dir, 'share')
    const w = await watchFolder(root, { usePolling: true, quietMs: RENAME_QUIET_MS })
    expect(w.mode).toBe('polling')
    const photo = join(root, 'a.jpg')

    writeFileSync(photo, 'one')
    await rec.batch('a.jpg added', (b) => only(b, { added: [photo] }))
    writeFileSync(photo, 'two, longer')
    await rec.batch('a.jpg changed', (b) => only(b, { changed: [photo] }))
    renameSync(photo, join(root, 'b.jpg'))
    await rec.batch('rename a.jpg -> b.jpg', (b) => only(b, { removed: [photo], added: [join(root, 'b.jpg')] }))
  })

  it('falls back to polling when the watch limit is reached, and keeps reporting', async () => {
    const root = join(dir, 'photos')
    const calls: ChokidarOptions[] = []
    // What chokidar does when fs.watch fails with ENOSPC: it emits 'error' and carries on.
    const limitedWatch: WatcherFactory = (folder, options) => {
      calls.push(options)
      const w = watch(folder, options)
      if (!options.usePolling) {
        const error = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached, watch'), { code: 'ENOSPC', syscall: 'watch' })
        setImmediate(() => w.emit('error', error))
      }
      return w
    }
    const w = await watchFolder(root, {}, limitedWatch)

    expect(rec.notices).toEqual([
      `Too many folders to watch natively (ENOSPC: the system's inotify watch limit is reached); watching ${root} by polling every 0.1 s instead. Raising fs.inotify.max_user_watches fixes this.`
    ])
    expect(w.mode).toBe('polling')
    expect(calls.map((o) => o.usePolling)).toEqual([false, true])
    const photo = join(root, 'a.jpg')
    writeFileSync(photo, 'x')
    await rec.batch('a.jpg added', (b) => only(b, { added: [photo] }))
  })

  it('routes an exception from onChanges to onError and keeps going', async () => {
    const root = join(dir, 'photos')
    const errors: Error[] = []
    let calls = 0
    let failed: () => void
    const firstCall = new Promise<void>((resolve) => (failed = resolve))
    await watchFolder(root, {
      onChanges: (batch) => {
        calls++
        if (calls === 1) {
          failed()
          throw new Error('indexer failed')
        }
        rec.push(batch)
      },
      onError: (error) => errors.push(error)
    })
    writeFileSync(join(root, 'a.jpg'), 'x')
    await firstCall
    await settle(root)
    expect(errors.map((e) => e.message)).toEqual(['indexer failed'])
    expect(basename(rec.batches[0].added[0])).toMatch(/^sentinel/)
  })
})
