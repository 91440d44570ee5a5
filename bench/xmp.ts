/**
 * XMP sidecar export throughput through the app's own path (XmpService: ExifTool in stay-open
 * batch mode, temporary copy, read-back check, rename): sidecars written per second for
 * photos with ~5 accepted tags each, in four situations:
 *   1. no sidecars yet (each one created),
 *   2. the same export again (nothing new: every sidecar left byte for byte),
 *   3. one tag changed per photo (each of our sidecars read, rewritten, checked),
 *   4. Lightroom sidecars the user already had (develop settings, keywords) updated.
 * Photos are library rows only: sidecars do not need the image.
 *
 *   npm run bench:xmp -- [--photos 2000]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Engine } from '../src/main/engine/engine'
import { TagStore } from '../src/main/engine/tagging/tagStore'
import { LIGHTROOM_XMP } from '../test/helpers/xmpFixtures'

const { values } = parseArgs({ options: { photos: { type: 'string', default: '2000' } } })
const PHOTOS = Number(values.photos)
const WORDS = ['dog', 'beach', 'sunset', 'tree', 'sky', 'car', 'person', 'city', 'mountain', 'flower', 'cat', 'boat']

const root = mkdtempSync(join(tmpdir(), 'sdl-bench-xmp-'))
const engine = new Engine({ dataDir: join(root, 'data') })
try {
  const folders = { own: join(root, 'own'), lightroom: join(root, 'lightroom') }
  for (const f of Object.values(folders)) mkdirSync(f, { recursive: true })
  const library = await engine.library()
  const db = library.store.db
  const tags = new TagStore(db)
  const now = new Date().toISOString()
  const ids: Record<keyof typeof folders, number[]> = { own: [], lightroom: [] }
  db.transaction(() => {
    for (const [kind, path] of Object.entries(folders) as Array<[keyof typeof folders, string]>) {
      const folderId = library.store.addFolder(path).id
      const insert = db.prepare("INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, status, indexed_at) VALUES (?, ?, 1, 1, ?, 'ok', ?)")
      for (let i = 0; i < PHOTOS; i++) {
        const name = `IMG_${String(i).padStart(5, '0')}.CR2`
        const id = Number(insert.run(folderId, join(path, name), `${kind}${i}`, now).lastInsertRowid)
        ids[kind].push(id)
        for (let k = 0; k < 5; k++) tags.setPhotoTag(id, WORDS[(i + k) % WORDS.length], 'accepted')
        if (kind === 'lightroom') writeFileSync(join(path, `IMG_${String(i).padStart(5, '0')}.xmp`), LIGHTROOM_XMP)
      }
    }
  })()
  const xmp = await engine.xmp()

  const measure = async (label: string, run: () => Promise<{ written: number; unchanged: number; skipped: unknown[] }>) => {
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const perl0 = childrenCpuSeconds()
    const s = await run()
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const sidecars = s.written + s.unchanged
    // CPU time, ours and ExifTool's (perl runs in child processes), tells the work apart from
    // waiting for a shared CPU: two idle cores would do 2 / (CPU s per sidecar) a second.
    const nodeCpu = (cpu.user + cpu.system) / 1e6
    const perlCpu = childrenCpuSeconds() - perl0
    const cpuPerSidecarMs = ((nodeCpu + perlCpu) * 1000) / sidecars
    console.log(
      `${label.padEnd(44)} ${seconds.toFixed(2).padStart(6)} s  ${String(s.written).padStart(5)} written  ${String(s.unchanged).padStart(5)} unchanged  ` +
        `${s.skipped.length} skipped  ${(sidecars / seconds).toFixed(0).padStart(5)} sidecars/s  ` +
        `CPU node ${nodeCpu.toFixed(1)} s + ExifTool ${perlCpu.toFixed(1)} s = ${cpuPerSidecarMs.toFixed(2)} ms/sidecar (${(2000 / cpuPerSidecarMs).toFixed(0)}/s on 2 idle cores)`
    )
    if (s.skipped.length) console.log('  first skipped:', s.skipped[0])
  }

  console.log(
    `${PHOTOS} photos, 5 tags each; ExifTool ${await exiftoolVersion()}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} cores`
  )
  await measure('1. new sidecars (photo.ext.xmp)', () => xmp.exportSidecars({ folder: folders.own }))
  await measure('2. export again, nothing new', () => xmp.exportSidecars({ folder: folders.own }))
  db.transaction(() => {
    for (const id of ids.own) tags.setPhotoTag(id, WORDS[(id + 2) % WORDS.length], 'rejected')
  })()
  await measure('3. one tag rejected per photo (update ours)', () => xmp.exportSidecars({ folder: folders.own }))
  await measure('4. Lightroom sidecars updated (photo.xmp)', () => xmp.exportSidecars({ folder: folders.lightroom, for: 'lightroom' }))
  const leftovers = readdirSync(folders.own).filter((f) => f.includes('.sdl-tagger-'))
  if (leftovers.length) console.log(`temporary files left behind: ${leftovers.length}`)
} finally {
  await engine.close()
  rmSync(root, { recursive: true, force: true })
}

/** CPU seconds of this process's living children (the ExifTool perl processes), from /proc; 0 elsewhere. */
function childrenCpuSeconds(): number {
  if (!existsSync('/proc/self/stat')) return 0
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // Fields after the command name in parentheses: state ppid ... utime(14) stime(15), in clock ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[1]) === process.pid) total += (Number(fields[11]) + Number(fields[12])) / 100
  }
  return total
}

async function exiftoolVersion(): Promise<string> {
  const { ExifToolRunner } = await import('../src/main/engine/xmp/exifToolRunner')
  const runner = new ExifToolRunner()
  try {
    return (await runner.run(['-ver'])).stdout.trim()
  } finally {
    await runner.close()
  }
}
