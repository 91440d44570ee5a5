import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Parts of this file run in the page (page.evaluate), with the DOM's types.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { VOCAB_DIR } from '../helpers/sdlFixtures'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'
import { type WebServer, describeViolations, launchChromium, seriousAxeViolations, startWebServer } from './harness'

// The README's pictures are refreshed only when asked (`npm run screenshots`); an ordinary test
// run takes them too, into a temporary folder, so it leaves the working tree as it found it.
const SCREENSHOTS = process.env.SDL_TAGGER_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'sdl-tagger-screenshots-'))
const VIEWPORT = { width: 1280, height: 800 }

/** Keystroke to the next frame the browser paints, from each keydown's own timestamp. */
interface LatencySample {
  ms: number
  /** Whether an indexing run was in progress when the key was pressed. */
  indexing: boolean
}

// The real app in web mode: `sdl-tagger serve` from the built bundle, driven in Chromium like a
// user would, with the ConSE pack (a real ImageNet model in the SDL contract) on 64 COCO photos
// copied into a temporary folder (so sidecars can be written next to them) plus generated ones.
describe('SDL Tagger in the browser (web mode)', () => {
  const tmp = tempDir('sdl-tagger-e2e-')
  const dataDir = join(tmp.dir, 'data')
  const photosDir = join(tmp.dir, 'Pictures')
  const labels = JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')) as { images: Record<string, string[]> }
  const cocoPhotos = Object.keys(labels.images)
  let browser: Browser
  let server: WebServer | null = null
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    mkdirSync(join(photosDir, 'coco'), { recursive: true })
    for (const name of cocoPhotos) copyFileSync(join(COCO_DIR, name), join(photosDir, 'coco', name))
    // Larger generated photos keep the indexer busy long enough to measure typing while it runs.
    for (let i = 0; i < 24; i++) await writeTestPhoto(join(photosDir, 'generated', `generated-${i}.jpg`), i, { width: 1600, height: 1200 })
    writeFileSync(join(photosDir, 'generated', 'broken.jpg'), 'this is not a JPEG')
    browser = await launchChromium(inject('chromium'))
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    tmp.cleanup()
  })

  async function openApp(): Promise<Page> {
    if (!server) throw new Error('no server')
    const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' })
    // npm test runs these beside the integration tests on 2 cores: give every step room.
    context.setDefaultTimeout(60_000)
    const p = await context.newPage()
    p.on('pageerror', (err) => pageErrors.push(err.message))
    p.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text())
    })
    await p.goto(server.url)
    return p
  }

  async function expectNoSeriousViolations(screen: string): Promise<void> {
    const violations = await seriousAxeViolations(page)
    expect(violations, `${screen}:\n${describeViolations(violations)}`).toEqual([])
  }

  /** Every thumbnail on screen has loaded (for screenshots that show photos, not grey boxes). */
  async function thumbnailsLoaded(): Promise<void> {
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('.cell img')]
      return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0)
    })
  }

  it('first run without a model offers the catalogue and an import, and says why a bad import fails', async () => {
    server = await startWebServer(dataDir)
    page = await openApp()
    await page.getByRole('heading', { name: 'Welcome to SDL Tagger' }).waitFor()
    await page.getByRole('button', { name: 'Download and install' }).first().waitFor()
    await page.getByText('No internet here? Import a checkpoint').click()
    await page.getByLabel('Checkpoint (.pth)').fill(join(tmp.dir, 'missing.pth'))
    await page.getByLabel('Vocabulary folder').fill(VOCAB_DIR)
    await page.getByRole('button', { name: 'Import' }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'missing.pth' })
    await alert.waitFor()
    await expectNoSeriousViolations('first run')
    await page.context().close()
    await server.stop()
    server = null
  })

  it('first run with a model: adding a folder indexes it to the end, and typing stays responsive meanwhile', async () => {
    // The ConSE pack is an ONNX file; the window imports official checkpoints only, so it is added as a user would on the command line.
    const added = await runCliCaptured(['--data-dir', dataDir, 'model', 'add', CONSE_ONNX, '--name', 'conse'])
    expect(added.code, added.stderr).toBe(0)
    server = await startWebServer(dataDir)
    page = await openApp()
    await page.getByTestId('model-ready').filter({ hasText: 'conse' }).waitFor()

    await page.getByLabel('Folder with photos').fill(photosDir)
    await page.getByRole('button', { name: 'Add folder' }).click()
    const status = page.getByTestId('indexing-status')
    await status.waitFor()

    // Input latency while the indexer runs: keydown to the next painted frame, measured in the page.
    await page.evaluate(() => {
      const samples: Array<{ ms: number; indexing: boolean }> = []
      ;(window as unknown as { latencySamples: typeof samples }).latencySamples = samples
      window.addEventListener('keydown', (event) => {
        const indexing = /Indexing/.test(document.querySelector('[data-testid="indexing-status"]')?.textContent ?? '')
        requestAnimationFrame(() => setTimeout(() => samples.push({ ms: performance.now() - event.timeStamp, indexing }), 0))
      })
    })
    const search = page.getByRole('combobox', { name: 'Search photos' })
    await search.click()
    await page.keyboard.type('mountain lake at sunrise', { delay: 40 })
    await search.fill('')
    await search.blur()

    await status.getByText('Indexed', { exact: true }).waitFor({ timeout: 120_000 })
    expect(await status.textContent()).toMatch(/88 new.*1 could not be read/)
    const samples = await page.evaluate(() => (window as unknown as { latencySamples: LatencySample[] }).latencySamples)
    const during = samples
      .filter((s) => s.indexing)
      .map((s) => s.ms)
      .sort((a, b) => a - b)
    expect(samples.length).toBeGreaterThan(10)
    if (during.length) {
      const at = (q: number) => during[Math.min(during.length - 1, Math.floor(q * during.length))].toFixed(1)
      console.log(
        `[e2e] input latency while indexing (keydown to next frame, ${during.length} keys): median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${during.at(-1)!.toFixed(1)} ms`
      )
    } else console.log('[e2e] indexing ended before any key was typed; no latency figure this run')
  })

  it('shows the library with thumbnails', async () => {
    const summary = page.getByRole('status').filter({ hasText: 'in the library' })
    // 88 photos and the unreadable file, which the library lists with its reason.
    await summary.filter({ hasText: '89 photos' }).waitFor()
    await thumbnailsLoaded()
    await page.screenshot({ path: join(SCREENSHOTS, 'library.png') })
    await expectNoSeriousViolations('library')
  })

  it('search ranks photos by relevance, best first, with the matching facet', async () => {
    const search = page.getByRole('combobox', { name: 'Search photos' })
    await search.click()
    // The empty box explains the query language.
    await page.getByTestId('search-syntax').getByText('"red car" | truck').waitFor()
    await search.fill('do')
    // Autocomplete from the lexicon.
    await page.getByRole('listbox', { name: 'Completions' }).getByRole('option').first().waitFor()
    await search.fill('dog')
    await search.press('Enter')
    const summary = page.getByTestId('search-summary')
    await summary.waitFor()
    const shown = (await summary.textContent()) ?? ''
    console.log(`[e2e] search "dog": ${shown.replace(/\s+/g, ' ').trim()}`)
    const cells = page.getByRole('listbox', { name: /Photos matching dog/ }).getByRole('option')
    await cells.first().waitFor()
    const ranked = await cells.evaluateAll((els) => els.map((e) => ({ name: e.getAttribute('data-name') ?? '', score: Number(e.getAttribute('data-score')) })))
    expect(ranked.length).toBeGreaterThan(0)
    for (let i = 1; i < ranked.length; i++) expect(ranked[i].score).toBeLessThanOrEqual(ranked[i - 1].score)
    // The best match is a photo COCO's annotators labelled "dog".
    expect(labels.images[ranked[0].name]).toContain('dog')
    await thumbnailsLoaded()
    await page.screenshot({ path: join(SCREENSHOTS, 'search.png') })
    await expectNoSeriousViolations('search results')
  })

  let acceptedTag = ''
  let photoName = ''
  it('opens a photo: tags with scores, seen and unseen marked, its seven facets; accepting a tag keeps it', async () => {
    const first = page
      .getByRole('listbox', { name: /Photos matching dog/ })
      .getByRole('option')
      .first()
    photoName = (await first.getAttribute('data-name')) ?? ''
    await first.click()
    const view = page.getByTestId('photo-view')
    await view.getByRole('heading', { name: photoName }).waitFor()
    const facets = view.locator('[data-facet]')
    await facets.first().waitFor()
    expect(await facets.count()).toBe(7)
    for (const text of await facets.allTextContents()) expect(text).toMatch(/Facet \d\s*\S+/)

    const suggestions = view.getByRole('list', { name: 'Suggested tags, best first' }).getByRole('listitem')
    await suggestions.first().waitFor()
    const firstSuggestion = suggestions.first()
    acceptedTag = (await firstSuggestion.getAttribute('data-tag')) ?? ''
    expect(acceptedTag).not.toBe('')
    expect(['seen', 'unseen']).toContain((await firstSuggestion.locator('.badge').textContent())?.trim())
    expect(await firstSuggestion.textContent()).toMatch(/-?\d+\.\d{3}/)
    await firstSuggestion.getByRole('button', { name: `Accept ${acceptedTag}` }).click()
    const accepted = view.getByRole('list', { name: 'Accepted and own tags' })
    await accepted.locator(`[data-tag="${acceptedTag}"]`).waitFor()

    // An own tag, with completion from the lexicon, by keyboard.
    await view.focus()
    await page.keyboard.press('t')
    await page.keyboard.type('puppy')
    await page.keyboard.press('Enter')
    await accepted.locator('[data-tag="puppy"]').waitFor()
    await view.focus()
    // Taller, so the picture shows the facets under the tags.
    await page.setViewportSize({ width: VIEWPORT.width, height: 1100 })
    await page.screenshot({ path: join(SCREENSHOTS, 'photo.png') })
    await page.setViewportSize(VIEWPORT)
    await expectNoSeriousViolations('photo view')

    // Closed and opened again, the decisions are still there: they live in the library, not the page.
    await page.keyboard.press('Escape')
    await view.waitFor({ state: 'detached' })
    await page
      .getByRole('listbox', { name: /Photos matching dog/ })
      .getByRole('option')
      .first()
      .click()
    await page.getByTestId('photo-view').getByRole('list', { name: 'Accepted and own tags' }).locator(`[data-tag="${acceptedTag}"]`).waitFor()
    await page.keyboard.press('Escape')
  })

  it('exports XMP: the dry run previews, the export writes the sidecar, and the sidecar holds the keywords', async () => {
    await page.keyboard.press('Alt+4')
    await page.getByRole('heading', { name: 'Export to XMP' }).waitFor()
    await expectNoSeriousViolations('export')
    await page.getByRole('button', { name: 'Preview (dry run)' }).click()
    const entries = page.getByTestId('export-entries')
    const failure = page.locator('main').getByRole('alert')
    await entries.or(failure).waitFor({ timeout: 60_000 })
    expect(await failure.count(), await page.locator('main').innerText()).toBe(0)
    const row = entries.getByRole('row').filter({ hasText: photoName })
    await row.waitFor()
    expect(await row.textContent()).toContain(acceptedTag)
    const sidecar = join(photosDir, 'coco', `${photoName}.xmp`)
    expect(existsSync(sidecar)).toBe(false)
    await page.getByRole('button', { name: /Write \d+ sidecars/ }).click()
    await page.getByTestId('export-result').waitFor()
    const xmp = readFileSync(sidecar, 'utf8')
    expect(xmp).toContain(acceptedTag)
    expect(xmp).toContain('puppy')
  })

  it('the folders panel names the unreadable photo and why; model and settings panels pass the accessibility scan', async () => {
    await page.keyboard.press('Alt+2')
    const folder = page.locator(`[data-folder]`).first()
    await folder.getByText('1 photo could not be read').waitFor()
    await folder.getByText('Why some photos could not be read').click()
    await folder.getByRole('cell', { name: /broken\.jpg/ }).waitFor()
    await expectNoSeriousViolations('folders')

    await page.keyboard.press('Alt+3')
    await page.getByRole('heading', { name: 'Installed packs' }).waitFor()
    await page.locator('[data-pack="conse"]').getByText('active').waitFor()
    await expectNoSeriousViolations('model')

    await page.keyboard.press('Alt+5')
    await page.getByRole('heading', { name: 'Settings' }).waitFor()
    await expectNoSeriousViolations('settings')
  })

  it('works from the keyboard: the grid, the photo view, the theme and the list of shortcuts', async () => {
    await page.keyboard.press('Alt+1')
    // Esc clears the search: the whole library again.
    await page.keyboard.press('Escape')
    await page.getByRole('status').filter({ hasText: '89 photos in the library' }).waitFor()
    await page.keyboard.press('g')
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('Enter')
    const view = page.getByTestId('photo-view')
    await view.getByText('3 of 89').waitFor()
    await page.keyboard.press('ArrowLeft')
    await view.getByText('2 of 89').waitFor()
    await page.keyboard.press('Escape')
    await view.waitFor({ state: 'detached' })

    await page.keyboard.press('d')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
    await expectNoSeriousViolations('library, dark theme')
    await page.keyboard.press('?')
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor()
    await expectNoSeriousViolations('shortcuts, dark theme')
    await page.keyboard.press('Escape')
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' })
    expect(pageErrors).toEqual([])
    expect(readdirSync(SCREENSHOTS)).toEqual(expect.arrayContaining(['library.png', 'search.png', 'photo.png']))
  })

  it('keeps a photo deleted from disk as missing until the user forgets it', async () => {
    rmSync(join(photosDir, 'generated', 'generated-0.jpg'))
    await page.keyboard.press('Alt+2')
    const folder = page.locator('[data-folder]').first()
    await folder.getByRole('button', { name: 'Rescan' }).click()
    const missing = page.locator('[data-missing]')
    await missing.getByText(/1 photo missing since/).waitFor()
    await expectNoSeriousViolations('folders, a photo missing')
    page.once('dialog', (dialog) => void dialog.accept())
    await missing.getByRole('button', { name: 'Forget missing photos…' }).click()
    await missing.waitFor({ state: 'detached' })
    expect(pageErrors).toEqual([])
  })
})
