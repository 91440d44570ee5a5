import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { TagStore } from '../../src/main/engine/tagging/tagStore'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'
import { XmpStore } from '../../src/main/engine/xmp/xmpStore'
import { withCompressedText } from '../helpers/hostilePng'
import { COCO_DIR, CONSE_ONNX, tempDir, cocoPhotoNames } from '../helpers/sharedData'
import { DIGIKAM_XMP, LIGHTROOM_XMP } from '../helpers/xmpFixtures'

const CHILD = fileURLToPath(new URL('../helpers/exifToolChild.ts', import.meta.url))

/** State and parent of a process from /proc/<pid>/stat, or null once it is gone. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name, in parentheses, may hold spaces: the fields after it are state and ppid.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state, ppid: Number(ppid) }
  } catch {
    return null
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && procStat(Number(name))?.ppid === pid)
    .map(Number)
}

/** Gone, or a zombie its new parent has yet to reap (containers often run no init that does). */
function ended(pid: number): boolean {
  const stat = procStat(pid)
  return !stat || stat.state === 'Z'
}

async function waitUntil(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${limitMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// A library folder holding, beside photos with keywords, a PNG whose zTXt chunk inflates to
// 100 MB and a photo whose name ExifTool cannot take as an argument (a line break): each fails
// alone, and every other photo's keywords are imported.
describe('XMP with hostile photos', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(3)
  const lightroom = join(folder, 'lightroom.jpg')
  const embedded = join(folder, 'embedded.jpg')
  const bomb = join(folder, 'bomb.png')
  const lineBreak = join(folder, 'line\nbreak.jpg')
  const exiftool = new ExifToolRunner()
  let engine: Engine

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    copyFileSync(join(COCO_DIR, names[0]), lightroom)
    writeFileSync(join(folder, 'lightroom.xmp'), LIGHTROOM_XMP)
    copyFileSync(join(COCO_DIR, names[1]), embedded)
    expect((await exiftool.run(['-IPTC:Keywords+=Beach', '-overwrite_original', embedded])).errors).toEqual([])
    const png = await sharp(join(COCO_DIR, names[2])).png().toBuffer()
    writeFileSync(bomb, await withCompressedText(png, 'Comment', 100))
    writeFileSync(`${bomb}.xmp`, DIGIKAM_XMP)
    copyFileSync(join(COCO_DIR, names[2]), lineBreak)
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: 4, failed: 0 })
  }, 300_000)
  afterAll(async () => {
    await exiftool.close()
    await engine?.close()
    tmp.cleanup()
  })

  it('imports every other photo, skipping the PNG whose text would exhaust ExifTool and the unreadable name', async () => {
    const summary = await (await engine.xmp()).importKeywords({ folder })
    expect(summary.skipped).toEqual([
      { path: bomb, reason: expect.stringMatching(/^not read: its metadata comes to more than 64 MB once inflated \(reached at its zTXt chunk 'Comment'\)/) },
      { path: lineBreak, reason: expect.stringMatching(/^ExifTool could not read it/) }
    ])
    const byPhoto = Object.fromEntries(summary.tags.map((t) => [t.path, [...t.tags].sort()]))
    expect(byPhoto).toEqual({
      [lightroom]: ['Dog', 'Paris', 'holiday, summer'],
      [embedded]: ['Beach'],
      // The PNG itself is not read, but its sidecar is.
      [bomb]: ['Anna', 'Birthday']
    })
  })

  it('removes temporary sidecars of exports that were killed, and no other file', async () => {
    const library = await engine.library()
    const [first] = new XmpStore(library.store.db).photos().filter((p) => p.path === embedded)
    new TagStore(library.store.db).setPhotoTag(first.id, 'zebra', 'accepted')
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const leftover = `.embedded.jpg.sdl-tagger-${dead}-1.xmp`
    const kept = [
      // A running export's copy (this process is alive), and files that only look like copies.
      `.embedded.jpg.sdl-tagger-${process.pid}-7.xmp`,
      `embedded.jpg.sdl-tagger-${dead}-2.xmp`,
      `.embedded.jpg.sdl-tagger-${dead}-3.xmp.bak`,
      `.embedded.jpg.sdl-tagger-x-4.xmp`,
      'notes.txt'
    ]
    for (const name of [leftover, ...kept]) writeFileSync(join(folder, name), 'not ours to lose')
    mkdirSync(join(folder, `.folder.sdl-tagger-${dead}-5.xmp`))
    const xmp = await engine.xmp()

    await xmp.exportSidecars({ folder, dryRun: true })
    expect(existsSync(join(folder, leftover))).toBe(true)
    const result = await xmp.exportSidecars({ folder })
    expect(result.changes.map((c) => c.sidecar)).toEqual([`${embedded}.xmp`])
    expect(existsSync(join(folder, leftover))).toBe(false)
    for (const name of kept) expect(readFileSync(join(folder, name), 'utf8')).toBe('not ours to lose')
    expect(existsSync(join(folder, `.folder.sdl-tagger-${dead}-5.xmp`))).toBe(true)
  })

  it('leaves no ExifTool process behind when the app is killed', async (ctx) => {
    if (!existsSync('/proc/self/stat')) ctx.skip()
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, lightroom], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = once(child, 'exit')
    let said = ''
    child.stdout.on('data', (piece: Buffer) => (said += piece.toString()))
    await waitUntil(() => said.includes('\n') || child.exitCode !== null, 'the child to read a photo')
    expect(said).toBe('read\n')
    const perls = childrenOf(child.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('exiftool'))
    expect(perls.length).toBeGreaterThan(0)

    child.kill('SIGKILL')
    await exited
    try {
      await waitUntil(() => perls.every(ended), `ExifTool ${perls.join(', ')} to end after its parent was killed`)
    } finally {
      for (const pid of perls.filter((p) => !ended(p))) process.kill(pid, 'SIGKILL')
    }
  })
})
