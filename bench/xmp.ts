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
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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
    const s = await run()
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const perSecond = (s.written + s.unchanged) / seconds
    // Node's own CPU time, to tell our work from ExifTool's (perl runs in its own processes).
    const nodeCpu = ((cpu.user + cpu.system) / 1e6).toFixed(1)
    console.log(
      `${label.padEnd(44)} ${seconds.toFixed(2).padStart(6)} s  ${String(s.written).padStart(5)} written  ${String(s.unchanged).padStart(5)} unchanged  ` +
        `${s.skipped.length} skipped  ${perSecond.toFixed(0).padStart(5)} sidecars/s  (node CPU ${nodeCpu} s)`
    )
    if (s.skipped.length) console.log('  first skipped:', s.skipped[0])
  }

  console.log(`${PHOTOS} photos, 5 tags each; ExifTool ${await exiftoolVersion()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`)
  await measure('1. new sidecars (photo.ext.xmp)', () => xmp.exportSidecars({ folder: folders.own }))
  await measure('2. export again, nothing new', () => xmp.exportSidecars({ folder: folders.own }))
  db.transaction(() => {
    for (const id of ids.own) tags.setPhotoTag(id, WORDS[(id + 2) % WORDS.length], 'rejected')
  })()
  await measure('3. one tag rejected per photo (update ours)', () => xmp.exportSidecars({ folder: folders.own }))
  await measure('4. Lightroom sidecars updated (photo.xmp)', () => xmp.exportSidecars({ folder: folders.lightroom, naming: 'adobe' }))
  const leftovers = readdirSync(folders.own).filter((f) => f.includes('.sdl-tagger-'))
  if (leftovers.length) console.log(`temporary files left behind: ${leftovers.length}`)
} finally {
  await engine.close()
  rmSync(root, { recursive: true, force: true })
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
