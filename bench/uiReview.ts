/// <reference lib="dom" />
// Parts of this file run in the page (page.evaluate), with the DOM's types.
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import sharp from 'sharp'
import { Engine } from '../src/main/engine/engine'
import { keywordKey } from '../src/main/engine/tagging/keywordText'
import { tagsToReview } from '../src/main/engine/tagging/tagReview'
import { COCO_DIR, tempDir } from '../test/helpers/sharedData'
import { indexCocoThroughCli } from './cocoLibrary'
import { startWebServer } from '../test/e2e/harness'

/** Photos accepted in one action. */
const BATCH = 1000

/**
 * Review by tag on a library where one tag is suggested for `photos` photos: the COCO photos
 * indexed with the ConSE pack, then copies of those the tag is suggested for (their vectors and
 * stored scores, under new paths) written straight into the library, so the figures measure the
 * review, not indexing 10k files. Thumbnails of the copies are their originals'.
 */
export async function reviewFigures(browser: Browser, photos: number): Promise<string[]> {
  const tmp = tempDir('sdl-tagger-bench-review-')
  const dataDir = join(tmp.dir, 'data')
  await indexCocoThroughCli(dataDir)

  const engine = new Engine({ dataDir, executionProvider: 'cpu' })
  const suggestions = await (await engine.tagger()).suggestionsByPhoto(undefined, { top: (await engine.settings.get()).suggestionCount })
  const [best] = tagsToReview(suggestions)
  const sources = suggestions.filter((p) => p.suggestions.some((s) => keywordKey(s.tag) === keywordKey(best.tag)))
  const store = (await engine.repositories()).photos
  const original = new Map<number, number>()
  const db = store.db
  const folderId = store.folders()[0].id
  const insert = db.prepare(
    `INSERT INTO photos (folder_id, path, size, mtime_ms, fingerprint, width, height, status, offline, indexed_at)
     VALUES (?, ?, 1000, 0, ?, 640, 480, 'ok', 0, '2026-01-01T00:00:00Z')`
  )
  const vectors = db.prepare('INSERT INTO principal_vectors (photo_id, model_id, vectors) SELECT ?, model_id, vectors FROM principal_vectors WHERE photo_id = ?')
  const scores = db.prepare(
    'INSERT INTO vocabulary_scores (photo_id, model_id, vocabulary, tags, scores) SELECT ?, model_id, vocabulary, tags, scores FROM vocabulary_scores WHERE photo_id = ?'
  )
  db.transaction(() => {
    for (let i = sources.length; i < photos; i++) {
      const source = sources[i % sources.length]
      const id = Number(insert.run(folderId, join(COCO_DIR, 'bench-copies', `IMG_${String(i).padStart(6, '0')}.jpg`), `copy${i}`).lastInsertRowid)
      vectors.run(id, source.photoId)
      scores.run(id, source.photoId)
      original.set(id, source.photoId)
    }
  })()
  await engine.close()

  const thumbs = new Map<number, Buffer>()
  for (const source of sources) thumbs.set(source.photoId, await sharp(source.path).resize(320, 320, { fit: 'inside' }).webp({ quality: 80 }).toBuffer())

  const server = await startWebServer(dataDir)
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
  try {
    // tsx compiles the functions passed to page.evaluate with esbuild's name helper, which the page lacks.
    await context.addInitScript('window.__name = (f) => f')
    const page = await context.newPage()
    await page.route(/\/media\/thumb\/\d+$/, (route) => {
      const id = Number(route.request().url().split('/').pop())
      const copyOf = original.get(id)
      if (copyOf === undefined) return route.continue()
      return route.fulfill({ contentType: 'image/webp', body: thumbs.get(copyOf)!, headers: { 'cache-control': 'max-age=3600' } })
    })
    await page.goto(server.url)
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Review' }).waitFor()

    // The view opened to its list of tags drawn: every photo's suggestions read and counted.
    const listMs = await page.evaluate(async () => {
      const started = performance.now()
      ;[...document.querySelectorAll<HTMLButtonElement>('nav[aria-label="Sections"] button')].find((b) => b.textContent?.trim().startsWith('Review'))!.click()
      while (!document.querySelector('[aria-label="Suggested tags"] button')) await new Promise((r) => requestAnimationFrame(r))
      return performance.now() - started
    })
    const tagButton = page.locator(`[aria-label="Suggested tags"] button[data-tag="${best.tag}"]`)
    const shown = Number((await tagButton.locator('.count').textContent())?.replace(/\D/g, ''))

    // One tag opened to the first screenful of its photos drawn.
    const firstScreenMs = await page.evaluate(async (tag) => {
      const started = performance.now()
      document.querySelector<HTMLButtonElement>(`[aria-label="Suggested tags"] button[data-tag="${CSS.escape(tag)}"]`)!.click()
      const drawn = () => {
        const imgs = [...document.querySelectorAll<HTMLImageElement>('.photos .cell img')]
        return imgs.length > 0 && !document.querySelector('.photos .cell.placeholder') && imgs.every((img) => img.complete && img.naturalWidth > 0)
      }
      while (!drawn()) await new Promise((r) => requestAnimationFrame(r))
      return performance.now() - started
    }, best.tag)

    // The first 1,000 selected: a click on the first, a shift-click on the 1,000th.
    const grid = page.getByRole('listbox', { name: `Photos suggested for ${best.tag}, best first` })
    await grid.locator('[aria-posinset="1"]').click()
    await page.evaluate((index) => {
      const scroller = document.querySelector<HTMLElement>('.photos .grid-scroller')!
      const cells = [...scroller.querySelectorAll<HTMLElement>('.cell')]
      const top = cells[0].getBoundingClientRect().top
      const columns = cells.filter((c) => c.getBoundingClientRect().top === top).length
      const pitch = cells[columns].getBoundingClientRect().top - top
      scroller.scrollTop = Math.floor(index / columns) * pitch
    }, BATCH - 1)
    await grid.locator(`[aria-posinset="${BATCH}"]`).click({ modifiers: ['Shift'] })
    await page
      .getByTestId('selection-bar')
      .getByText(`${BATCH.toLocaleString('en')} photos selected`)
      .waitFor()
    await page.evaluate(() => (document.querySelector<HTMLElement>('.photos .grid-scroller')!.scrollTop = 0))

    // Accept to the grid showing the photos left: the count and the first screenful redrawn without them.
    const accept = (label: string, remaining: number) =>
      page.evaluate(
        async ({ label, remaining }) => {
          const started = performance.now()
          ;[...document.querySelectorAll<HTMLButtonElement>('[data-testid="selection-bar"] button')].find((b) => b.textContent?.trim() === label)!.click()
          const updated = () => {
            const summary = document.querySelector('[data-testid="review-summary"]')?.textContent ?? ''
            const imgs = [...document.querySelectorAll<HTMLImageElement>('.photos .cell img')]
            return (
              summary.includes(`suggested for ${remaining.toLocaleString('en')} photos`) &&
              !document.querySelector('.photos .cell.placeholder') &&
              imgs.length > 0 &&
              imgs.every((img) => img.complete && img.naturalWidth > 0)
            )
          }
          while (!updated()) await new Promise((r) => requestAnimationFrame(r))
          return performance.now() - started
        },
        { label, remaining }
      )
    const acceptMs = await accept(`Accept ‘${best.tag}’`, photos - BATCH)
    const firstLeft = await grid.locator('[aria-posinset="1"]').getAttribute('data-photo-id')

    // Undone from the keyboard, to the 1,000 back in the grid.
    const undoMs = await page.evaluate(async (total) => {
      const started = performance.now()
      document.querySelector<HTMLElement>('.photos .grid-scroller')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true, bubbles: true }))
      while (!document.querySelector('[data-testid="review-summary"]')?.textContent?.includes(`suggested for ${total.toLocaleString('en')} photos`)) {
        await new Promise((r) => requestAnimationFrame(r))
      }
      return performance.now() - started
    }, photos)

    return [
      `Review by tag, '${best.tag}' suggested for ${shown.toLocaleString('en')} photos (web mode, Chromium ${browser.version()}, 1440x900; ${sources.length} COCO photos indexed with ConSE, the rest copies of them):`,
      `  Review view opened to its tag list drawn: ${listMs.toFixed(0)} ms`,
      `  a tag opened to the first screenful of its photos drawn: ${firstScreenMs.toFixed(0)} ms (goal under 1 s)`,
      `  accept for ${BATCH.toLocaleString('en')} selected photos to the grid redrawn without them: ${acceptMs.toFixed(0)} ms (goal under 1 s; first photo left: #${firstLeft})`,
      `  Ctrl+Z of it to the ${BATCH.toLocaleString('en')} back in the list: ${undoMs.toFixed(0)} ms`
    ]
  } finally {
    await context.close()
    await server.stop()
    tmp.cleanup()
  }
}
