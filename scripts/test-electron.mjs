#!/usr/bin/env node
// `npm run test:electron`: the app's main flow in the real Electron window, driven by Playwright's
// Electron support. Electron's binary is not part of `npm ci` (its install script downloads it from
// GitHub; see allowScripts in package.json), so this first tries that download once; where it is
// impossible (offline, or only the npm registry reachable, as in CI here) it says so and skips,
// exiting 0: the shell's own logic is covered by the unit tests (test/unit/app*.test.ts) and the
// same renderer and API by the web-mode end-to-end tests (test/e2e).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/* global window, document, Image -- the page.evaluate callbacks run in the renderer */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SHARED = join(ROOT, '..', 'shared')
const CONSE_ONNX = join(SHARED, 'models/conse-mobilenetv2-glove100/conse-mobilenetv2-glove100.onnx')
const COCO_DIR = join(SHARED, 'photos/coco-dev')
const require = createRequire(import.meta.url)
const electronDir = dirname(require.resolve('electron/package.json'))

function skip(reason) {
  process.stdout.write(`test:electron skipped: ${reason}\n`)
  process.stdout.write("The Electron shell's logic is still tested without the binary (npm test runs test/unit/app*.test.ts), and the same window in web mode (test/e2e).\n")
  process.exit(0)
}

/** The Electron executable, once its install script has put it in node_modules/electron/dist. */
function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron')
    return existsSync(candidate) ? candidate : null
  }
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const candidate = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(candidate) ? candidate : null
}

let binary = electronBinary()
if (!binary) {
  process.stderr.write('No Electron binary in node_modules/electron/dist; trying its download once…\n')
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8', timeout: 180_000 })
  binary = electronBinary()
  if (!binary) {
    const why = `${install.error?.message ?? ''}\n${install.stderr ?? ''}`.split('\n').find((l) => /Error|failed|ENOTFOUND|ECONN|timed out/i.test(l))
    skip(
      'the Electron binary is not installed and cannot be downloaded here' +
        ` (Electron's install script fetches it from github.com${why ? `: ${why.trim()}` : ''}).` +
        ' Where the download works (or with ELECTRON_OVERRIDE_DIST_PATH pointing at an Electron build), this runs the flow in the real window.'
    )
  }
}

// A binary exists: build the bundles if needed, then run the flow.
if (!existsSync(join(ROOT, 'out/main/index.js')) || !existsSync(join(ROOT, 'out/renderer/index.html'))) {
  const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
}
if (!existsSync(CONSE_ONNX) || !existsSync(COCO_DIR)) skip(`the test model and photos are not present (${SHARED})`)

const { _electron: electron } = await import('playwright-core')
const tmp = mkdtempSync(join(tmpdir(), 'sdl-tagger-electron-'))
const dataDir = join(tmp, 'data')
const photosDir = join(tmp, 'Pictures')
mkdirSync(photosDir, { recursive: true })
const labels = JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')).images
for (const name of readdirSync(COCO_DIR).filter((f) => f.endsWith('.jpg'))) copyFileSync(join(COCO_DIR, name), join(photosDir, name))

const failures = []
function check(ok, what) {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`)
  if (!ok) failures.push(what)
}

const cli = spawnSync(process.execPath, ['bin/sdl-tagger.js', '--data-dir', dataDir, 'model', 'add', CONSE_ONNX, '--name', 'conse'], { cwd: ROOT, encoding: 'utf8' })
if (cli.status !== 0) {
  process.stderr.write(cli.stderr)
  process.exit(1)
}

// Containers run as root, where Chromium's own OS sandbox cannot start; the renderer sandbox
// (webPreferences.sandbox) is what the app asks for and stays on.
const args = [ROOT, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])]
const app = await electron.launch({ executablePath: binary, args, env: { ...process.env, SDL_TAGGER_DATA_DIR: dataDir }, timeout: 60_000 })
try {
  const page = await app.firstWindow()
  await page.waitForLoadState('domcontentloaded')

  const prefs = await app.evaluate(({ BrowserWindow }) => {
    const p = BrowserWindow.getAllWindows()[0].webContents.getLastWebPreferences()
    return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webSecurity: p.webSecurity }
  })
  check(
    prefs.contextIsolation === true && prefs.sandbox === true && prefs.nodeIntegration === false && prefs.webSecurity !== false,
    `window isolated and sandboxed: ${JSON.stringify(prefs)}`
  )
  check(await page.evaluate(() => typeof globalThis.require === 'undefined' && typeof globalThis.process === 'undefined'), 'the renderer has no Node.js')
  check(
    await page.evaluate(() =>
      fetch('https://example.com/').then(
        () => false,
        () => true
      )
    ),
    'remote content is refused'
  )
  const status = await page.evaluate(() => window.sdlTagger.getStatus())
  check(status.ok && status.value.activeModel?.name === 'conse', 'the API answers through the preload (active model conse)')

  // The user's flow: add a folder, watch it index to the end, search, open a photo.
  await page.getByTestId('model-ready').filter({ hasText: 'conse' }).waitFor({ timeout: 60_000 })
  await page.getByLabel('Folder with photos').fill(photosDir)
  await page.getByRole('button', { name: 'Add folder' }).click()
  await page.getByTestId('indexing-status').getByText('Indexed').waitFor({ timeout: 300_000 })
  check(true, 'adding a folder indexes it to the end')
  await page.waitForFunction(
    () => {
      const imgs = [...document.querySelectorAll('.cell img')]
      return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0)
    },
    null,
    { timeout: 60_000 }
  )
  const src = await page.locator('.cell img').first().getAttribute('src')
  check(/^sdl-media:\/\/thumb\/\d+$/.test(src ?? ''), `thumbnails load through the sdl-media protocol (${src})`)
  const outside = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const img = new Image()
        img.onload = () => resolve('loaded')
        img.onerror = () => resolve('refused')
        img.src = 'sdl-media://photo/999999'
      })
  )
  check(outside === 'refused', 'a photo id not in the library is refused')

  const search = page.getByRole('combobox', { name: 'Search photos' })
  await search.fill('dog')
  await search.press('Enter')
  const cells = page.getByRole('listbox', { name: /Photos matching dog/ }).getByRole('option')
  await cells.first().waitFor({ timeout: 60_000 })
  const best = ((await cells.first().getAttribute('aria-label')) ?? '').split(',')[0]
  check((labels[best] ?? []).includes('dog'), `search "dog" ranks a dog photo first (${best})`)
  await cells.first().click()
  const facets = page.getByTestId('photo-view').locator('[data-facet]')
  await facets.first().waitFor()
  check((await facets.count()) === 7, 'the photo view shows seven facets')
} catch (err) {
  failures.push(String(err?.message ?? err))
  process.stderr.write(`${err?.stack ?? err}\n`)
} finally {
  await app.close().catch(() => {})
  rmSync(tmp, { recursive: true, force: true })
}

if (failures.length) {
  process.stderr.write(`test:electron: ${failures.length} check(s) failed\n`)
  process.exit(1)
}
process.stdout.write('test:electron: the flow passed in Electron\n')
