import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Parts of this file run in the page (page.evaluate), with the DOM's types.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { writeTestPhoto } from '../helpers/generatedPhotos'
import { VOCAB_DIR } from '../helpers/sdlFixtures'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, cocoPhotoNames, tempDir } from '../helpers/sharedData'
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
    // Dated years back, so that the library (newest first) opens on the COCO photos, as the README's pictures show.
    const longAgo = new Date('2019-06-15T12:00:00')
    for (const name of readdirSync(join(photosDir, 'generated'))) utimesSync(join(photosDir, 'generated', name), longAgo, longAgo)
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

  it('first run: an ONNX pack file from the server’s folder browser, then a folder typed as ~/…, indexed to the end; typing stays responsive meanwhile', async () => {
    mkdirSync(join(tmp.dir, 'Downloads'))
    copyFileSync(CONSE_ONNX, join(tmp.dir, 'Downloads', 'conse.onnx'))
    // The server's home folder is the test's own, so ~/Pictures is the photos' folder.
    server = await startWebServer(dataDir, [], { HOME: tmp.dir })
    page = await openApp()
    await page.getByText('Have an ONNX model pack file? Add it').click()
    await page.getByRole('button', { name: 'Browse… for the ONNX model pack' }).click()
    const picker = page.getByRole('dialog', { name: 'Choose an ONNX model pack' })
    await picker.getByTestId('folder-browser-path').filter({ hasText: tmp.dir }).waitFor()
    await picker.getByRole('button', { name: 'Downloads', exact: true }).waitFor()
    await expectNoSeriousViolations('folder browser')
    await picker.getByRole('button', { name: 'Downloads', exact: true }).click()
    await picker.getByRole('button', { name: 'conse.onnx', exact: true }).click()
    await picker.waitFor({ state: 'detached' })
    expect(await page.getByLabel('ONNX model pack (.onnx)').inputValue()).toBe(join(tmp.dir, 'Downloads', 'conse.onnx'))
    await page.getByRole('button', { name: 'Add model' }).click()
    // Named after the file.
    await page.getByTestId('model-ready').filter({ hasText: 'conse' }).waitFor()

    await page.getByLabel('Folder with photos').fill('~/Pictures')
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
    // First run's optional next step, ticked by default: the keywords the photos already have, once they are indexed.
    const keywordImport = page.getByRole('status').filter({ hasText: /had no keywords to import|Imported \d+ keywords?/ })
    await keywordImport.waitFor()
    // Gone before the next pictures are taken.
    await keywordImport.waitFor({ state: 'detached' })
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

    // No captions under the thumbnails: each tile is named by its file, to hover and to assistive technology.
    const grid = page.getByRole('listbox', { name: 'All photos' })
    // Newest first: the unreadable file, written last, may lead; its name then also says why.
    const first = grid.getByRole('option').first()
    const name = (await first.getAttribute('data-name')) ?? ''
    expect(name).not.toBe('')
    expect(await first.getAttribute('title')).toBe(name)
    expect(await first.getAttribute('aria-label')).toMatch(name === 'broken.jpg' ? /^broken\.jpg, could not be read/ : new RegExp(`^${name.replace(/\./g, '\\.')}$`))
    expect(await grid.locator('.caption').count()).toBe(0)

    // The size control, by keyboard: the largest thumbnails at once, and still after a restart.
    const width = async () => (await first.boundingBox())?.width ?? 0
    const before = await width()
    const slider = page.getByRole('slider', { name: 'Thumbnail size' })
    const saved = () => page.waitForResponse((r) => r.url().endsWith('/api/updateSettings'))
    await slider.focus()
    let saving = saved()
    await slider.press('End')
    await expect.poll(width).toBeGreaterThan(before + 40)
    const larger = await width()
    await saving
    await page.reload()
    await summary.filter({ hasText: '89 photos' }).waitFor()
    expect(await slider.inputValue()).toBe('320')
    await expect.poll(width).toBe(larger)
    saving = saved()
    await slider.fill('176')
    await expect.poll(width).toBe(before)
    await saving
  })

  it('search puts the photos tagged with the word first, then ranks the others by relevance, best first', async () => {
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
    const ranked = await cells.evaluateAll((els) =>
      els.map((e) => ({ name: e.getAttribute('data-name') ?? '', score: Number(e.getAttribute('data-score')), tagged: /dog · your tag/.test(e.getAttribute('aria-label') ?? '') }))
    )
    // One COCO photo carries the keyword "dog" from Flickr, imported at first run: the user's keyword
    // puts it first whatever its score; the photos the model finds follow, best first.
    const others = ranked.findIndex((r) => !r.tagged)
    expect(others).toBeGreaterThan(0)
    expect(ranked.slice(others).every((r) => !r.tagged)).toBe(true)
    for (let i = others + 1; i < ranked.length; i++) expect(ranked[i].score).toBeLessThanOrEqual(ranked[i - 1].score)
    // The best match the model finds is a photo COCO's annotators labelled "dog".
    expect(labels.images[ranked[others].name]).toContain('dog')
    await thumbnailsLoaded()
    await page.screenshot({ path: join(SCREENSHOTS, 'search.png') })
    await expectNoSeriousViolations('search results')
  })

  let acceptedTag = ''
  let photoName = ''
  it('opens a photo: tags with confidence in words (the score on hover), what the model sees in seven aspects; accepting a tag keeps it', async () => {
    const first = page
      .getByRole('listbox', { name: /Photos matching dog/ })
      .getByRole('option')
      .first()
    photoName = (await first.getAttribute('data-name')) ?? ''
    // A click selects, as in a file manager; a double click (or Enter) opens.
    await first.dblclick()
    const view = page.getByTestId('photo-view')
    await view.getByRole('heading', { name: photoName }).waitFor()
    const facets = view.locator('[data-facet]')
    await facets.first().waitFor()
    expect(await facets.count()).toBe(7)
    for (const text of await facets.allTextContents()) expect(text).toMatch(/\p{L}/u)
    expect(await view.getByTestId('model-sees').textContent()).toMatch(/^The model sees: \p{L}/u)

    const suggestions = view.getByRole('list', { name: 'Suggested tags, best first' }).getByRole('listitem')
    await suggestions.first().waitFor()
    const firstSuggestion = suggestions.first()
    acceptedTag = (await firstSuggestion.getAttribute('data-tag')) ?? ''
    expect(acceptedTag).not.toBe('')
    // Plain words, no "seen" badge on every row; the raw score is on hover only (Settings' "show scores" puts it beside).
    const level = firstSuggestion.locator('.level')
    expect(['very likely', 'likely', 'possible']).toContain((await level.textContent())?.trim())
    expect(await level.getAttribute('title')).toMatch(/^score -?\d+\.\d{3}$/)
    expect(await firstSuggestion.textContent()).not.toMatch(/\bseen\b|\d\.\d{3}/)
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
      .dblclick()
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

  it('works in a window 800 px wide: no view overflows sideways, the sections fold to icons and the header keeps its buttons, in both themes', async () => {
    await page.setViewportSize({ width: 800, height: 700 })
    const sections = page.getByRole('navigation', { name: 'Sections' })
    const views: Array<{ key: string; name: string; shown: () => Promise<void> }> = [
      { key: 'Alt+1', name: 'library', shown: () => page.getByRole('status').filter({ hasText: 'in the library' }).waitFor() },
      { key: 'Alt+2', name: 'folders', shown: () => page.locator('[data-folder]').first().waitFor() },
      { key: 'Alt+3', name: 'model', shown: () => page.getByRole('heading', { name: 'Installed packs' }).waitFor() },
      { key: 'Alt+4', name: 'export', shown: () => page.getByRole('heading', { name: 'Export to XMP' }).waitFor() },
      { key: 'Alt+5', name: 'settings', shown: () => page.getByRole('heading', { name: 'Settings' }).waitFor() }
    ]
    // The keyboard test left the dark theme on: both themes, ending where it started.
    for (const theme of ['dark', 'light'] as const) {
      if (theme === 'light') {
        await page.keyboard.press('d')
        await page.waitForFunction(() => document.documentElement.dataset.theme === 'light')
      }
      for (const view of views) {
        await page.keyboard.press(view.key)
        await view.shown()
        const width = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
        expect(width.scroll, `${view.name}, ${theme} theme: the page is ${width.scroll} px wide in a ${width.client} px window`).toBeLessThanOrEqual(width.client)
        for (const name of ['Keyboard shortcuts', /Switch to (light|dark) theme/]) {
          const box = await page.getByRole('button', { name }).boundingBox()
          expect(box && box.x + box.width, `${view.name}, ${theme} theme: the header's ${String(name)} button is in the window`).toBeLessThanOrEqual(800)
        }
        await expectNoSeriousViolations(`${view.name} at 800 px, ${theme} theme`)
      }
      // Folded to icons, each section still has its name; the menu button shows the names.
      const library = sections.getByRole('button', { name: 'Library' })
      expect((await library.boundingBox())!.width).toBeLessThan(80)
      await page.getByRole('button', { name: "Show the sections' names" }).click()
      expect((await library.boundingBox())!.width).toBeGreaterThan(120)
      await expectNoSeriousViolations(`sections shown at 800 px, ${theme} theme`)
      await library.click()
      await page.waitForFunction(() => document.querySelector('#sections')?.classList.contains('open') === false)
    }
    await page.keyboard.press('d')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
    await page.setViewportSize(VIEWPORT)
    expect(pageErrors).toEqual([])
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

  it('after "Use" on another model, the header, the model panel and a search say nothing is indexed with it, and index on request', async () => {
    await page.keyboard.press('Alt+3')
    await page.getByLabel('ONNX model pack (.onnx)').fill('~/Downloads/conse.onnx')
    await page.locator('form.add-model').getByLabel('Pack name (optional)').fill('conse-b')
    await page.getByRole('button', { name: 'Add model' }).click()
    const pack = page.locator('[data-pack="conse-b"]')
    await pack.getByRole('button', { name: 'Use' }).click()
    await pack.getByText('active').waitFor()
    const header = page.getByTestId('indexing-status')
    await header.getByText('Not indexed').waitFor()
    await page
      .getByTestId('index-needed')
      .getByText(/No photos are indexed with model conse-b yet: index them \(\d+ photos\)/)
      .waitFor()
    await expectNoSeriousViolations('model switched, nothing indexed')

    await page.keyboard.press('Alt+1')
    const search = page.getByRole('combobox', { name: 'Search photos' })
    await search.fill('dog')
    await search.press('Enter')
    const nothingIndexed = page.getByTestId('index-needed')
    await nothingIndexed.getByRole('heading', { name: /No photos are indexed with model conse-b yet/ }).waitFor()
    await nothingIndexed.getByRole('button', { name: /Index \d+ photos/ }).click()
    await header.getByText('Indexed', { exact: true }).waitFor({ timeout: 120_000 })
    // The search shown runs again once the run has ended, now over the photos just indexed.
    await page.getByTestId('search-summary').filter({ hasNotText: 'of 0 indexed' }).waitFor()
    expect(pageErrors).toEqual([])
  })
})

// Deciding many photos at once: review by tag, selecting like a file manager, undo and redo, a tag
// taken off a photo. A library of its own (24 COCO photos indexed with the ConSE pack through the
// CLI), so these cases run on their own too (`-t 'many photos'`).
describe('SDL Tagger in the browser: many photos at once', () => {
  const tmp = tempDir('sdl-tagger-e2e-review-')
  const dataDir = join(tmp.dir, 'data')
  const photosDir = join(tmp.dir, 'Pictures')
  let browser: Browser
  let server: WebServer
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    mkdirSync(photosDir, { recursive: true })
    for (const name of cocoPhotoNames(24)) copyFileSync(join(COCO_DIR, name), join(photosDir, name))
    const cli = async (...args: string[]) => {
      const run = await runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
      expect(run.code, run.stderr).toBe(0)
    }
    await cli('model', 'add', CONSE_ONNX, '--name', 'conse')
    await cli('folders', 'add', photosDir)
    await cli('index')
    browser = await launchChromium(inject('chromium'))
    server = await startWebServer(dataDir)
    const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' })
    context.setDefaultTimeout(60_000)
    page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text())
    })
    await page.goto(server.url)
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    tmp.cleanup()
  })

  async function expectNoSeriousViolations(screen: string): Promise<void> {
    const violations = await seriousAxeViolations(page)
    expect(violations, `${screen}:\n${describeViolations(violations)}`).toEqual([])
  }

  /** The photos the review grid shows as selected, by name. */
  const selectedNames = (grid: ReturnType<Page['getByRole']>) =>
    grid.locator('[role="option"][aria-selected="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''))

  let tag = ''
  let accepted: string[] = []
  it('reviews by tag: a range selected with shift-click and shift+arrow is accepted in one action, undone with Ctrl+Z and redone with Ctrl+Shift+Z', async () => {
    await page.keyboard.press('Alt+6')
    await page.getByRole('heading', { name: 'Review by tag' }).waitFor()
    const tags = page.getByRole('list', { name: 'Suggested tags' }).getByRole('button')
    await tags.first().waitFor()
    const counts = await tags.evaluateAll((els) => els.map((e) => Number(e.querySelector('.count')?.firstChild?.textContent?.replace(/,/g, ''))))
    // The tags waiting on the most photos come first.
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1])
    expect(counts[0]).toBeGreaterThanOrEqual(5)
    tag = (await tags.first().getAttribute('data-tag')) ?? ''
    await expectNoSeriousViolations('review, tag list')
    await tags.first().click()

    const summary = page.getByTestId('review-summary')
    await summary.filter({ hasText: `suggested for ${counts[0]} photos` }).waitFor()
    const grid = page.getByRole('listbox', { name: `Photos suggested for ${tag}, best first` })
    const cells = grid.getByRole('option')
    await cells.nth(2).waitFor()
    const scores = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))))
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1])

    await cells.nth(0).click()
    await cells.nth(2).click({ modifiers: ['Shift'] })
    await page.keyboard.press('Shift+ArrowRight')
    const names = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''))
    accepted = await selectedNames(grid)
    expect(accepted).toEqual(names.slice(0, 4))
    const bar = page.getByTestId('selection-bar')
    await bar.getByText('4 photos selected').waitFor()
    await expectNoSeriousViolations('review, four photos selected')

    await bar.getByRole('button', { name: `Accept ‘${tag}’` }).click()
    await page
      .getByTestId('action-notice')
      .filter({ hasText: `Accepted ‘${tag}’ for 4 photos` })
      .waitFor()
    await summary.filter({ hasText: `suggested for ${counts[0] - 4} photos` }).waitFor()
    expect(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))).not.toContain(accepted[0])

    await grid.focus()
    await page.keyboard.press('Control+z')
    await page
      .getByTestId('action-notice')
      .filter({ hasText: `Undone: accepted ‘${tag}’ for 4 photos` })
      .waitFor()
    await summary.filter({ hasText: `suggested for ${counts[0]} photos` }).waitFor()
    await page.keyboard.press('Control+Shift+Z')
    await page
      .getByTestId('action-notice')
      .filter({ hasText: `Redone: accepted ‘${tag}’ for 4 photos` })
      .waitFor()
    await summary.filter({ hasText: `suggested for ${counts[0] - 4} photos` }).waitFor()

    await page.keyboard.press('d')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
    await cells.first().click()
    await bar.getByText('1 photo selected').waitFor()
    await expectNoSeriousViolations('review, dark theme')
    expect(pageErrors).toEqual([])
  })

  it('selects the whole library with Ctrl+A and none with Escape; a tag’s ✕ takes it off a photo, and the notice’s Undo puts it back', async () => {
    await page.keyboard.press('Alt+1')
    const library = page.getByRole('listbox', { name: 'All photos' })
    await library.getByRole('option').first().click()
    await page.keyboard.press('Control+a')
    const bar = page.getByTestId('selection-bar')
    await bar.getByText('24 photos selected').waitFor()
    await expectNoSeriousViolations('library, all selected, dark theme')
    await page.keyboard.press('Escape')
    await bar.waitFor({ state: 'detached' })

    await library.locator(`[data-name="${accepted[0]}"]`).dblclick()
    const view = page.getByTestId('photo-view')
    const chip = view.getByRole('list', { name: 'Accepted and own tags' }).locator(`[data-tag="${tag}"]`)
    await chip.waitFor()
    await chip.getByRole('button', { name: `Remove ${tag}` }).click()
    await chip.waitFor({ state: 'detached' })
    const notice = page.getByTestId('action-notice').filter({ hasText: `Removed ‘${tag}’ from 1 photo` })
    // Taken off, not rejected: it is suggested again.
    await view.getByRole('list', { name: 'Suggested tags, best first' }).locator(`[data-tag="${tag}"]`).waitFor()
    await notice.getByRole('button', { name: 'Undo' }).click()
    await chip.waitFor()
    expect(pageErrors).toEqual([])
    // Focus is on the notice now, outside the photo view: close it by its button, and see it gone.
    await view.getByRole('button', { name: /^Close/ }).click()
    await view.waitFor({ state: 'detached' })
  })

  it('lists the library newest first under month headers; a date range filters it, alone or with words', async () => {
    await page.keyboard.press('Escape')
    await page.keyboard.press('Alt+1')
    const search = page.getByRole('combobox', { name: 'Search photos' })
    await search.fill('')
    await search.press('Enter')
    const library = page.getByRole('listbox', { name: 'All photos' })
    // No photo here has an EXIF date: each is dated by its file, copied or written by this run.
    const header = library.locator('[data-month]').first()
    await header.waitFor()
    const month = (await header.getAttribute('data-month'))!
    expect(month).toMatch(/^\d{4}-\d{2}$/)
    await header.getByText(month.slice(0, 4), { exact: true }).waitFor()

    // By folder and name on request, newest first again by default.
    const sort = page.getByRole('combobox', { name: 'Sort' })
    await sort.selectOption('path')
    await header.waitFor({ state: 'detached' })
    await sort.selectOption('date')
    await header.waitFor()

    // The range control writes the date terms into the query; dates alone list like the library.
    await page.getByLabel('From', { exact: true }).fill(month)
    await expect.poll(() => search.inputValue()).toBe(`after:${month}`)
    await page
      .getByTestId('search-summary')
      .filter({ hasText: `captured “after:${month}”, newest first` })
      .waitFor()
    const captured = page.getByRole('listbox', { name: `Photos captured after:${month}` })
    await captured.getByRole('option').first().waitFor()
    await captured.locator(`[data-month="${month}"]`).waitFor()
    await expectNoSeriousViolations('library, a date range')

    await page.getByLabel('From', { exact: true }).fill('2000-01')
    await page.getByLabel('to', { exact: true }).fill('2000-12')
    await expect.poll(() => search.inputValue()).toBe('after:2000-01 before:2001-01')
    await page.getByRole('heading', { name: 'No photo matches “after:2000-01 before:2001-01”' }).waitFor()
    await page.getByRole('button', { name: 'Any date' }).click()
    await library.getByRole('option').first().waitFor()

    // With words, a date term filters and the words rank: this year keeps every photo "dog" finds, an old year none.
    const names = async (query: string) => {
      await search.fill(query)
      await search.press('Enter')
      await page
        .getByTestId('search-summary')
        .filter({ hasText: `“${query}”` })
        .waitFor()
      const cells = page.getByRole('listbox', { name: `Photos matching ${query}, best first` }).getByRole('option')
      await cells.first().waitFor()
      return cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))
    }
    const year = month.slice(0, 4)
    expect(await names(`dog year:${year}`)).toEqual(await names('dog'))
    await search.fill('dog year:2000')
    await search.press('Enter')
    await page.getByRole('heading', { name: 'No photo matches “dog year:2000”' }).waitFor()
    await search.fill('dog year:2023-13')
    await search.press('Enter')
    await page
      .getByRole('alert')
      .getByText(/Bad date term "year:2023-13"/)
      .waitFor()
    expect(pageErrors).toEqual([])
  })
})
