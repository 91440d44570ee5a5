/**
 * The window's speed in web mode, in Chromium:
 * - first meaningful paint of a 100k-photo library (navigation to the first thumbnails drawn);
 * - frame times while scrolling that library (requestAnimationFrame deltas), slow and fast;
 * - a jump deep into it, to the thumbnails drawn there;
 * - search to results on screen, as the browser sees it, on the real ConSE pack and COCO photos;
 * - review by tag of a tag suggested for 10,000 photos: to the first screenful, and a batch accept
 *   of 1,000 selected photos to the grid redrawn (see uiReview.ts).
 *
 * The server is the real `sdl-tagger serve` with a real library (the COCO photos, indexed with
 * the ConSE pack). The 100k library is the page's listPhotos answered with synthetic pages
 * (page.route), and thumbnails with a few real JPEG thumbnails by id, so the figures measure the
 * window, not indexing 100k files.
 *
 *   npm run bench:ui -- [--photos 100000] [--queries dog,train,"red car" | truck] [--review-photos 10000] [--only review]
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import type { PhotoPage, PhotoPageRequest, PhotoSummary } from '../src/shared/api'
import { COCO_DIR, tempDir } from '../test/helpers/sharedData'
import { indexCocoThroughCli } from './cocoLibrary'
import { launchChromium, startWebServer } from '../test/e2e/harness'
import { reviewFigures } from './uiReview'

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '100000' },
    queries: { type: 'string', default: 'dog,train,pizza,clock,giraffe | zebra,street -car' },
    'review-photos': { type: 'string', default: '10000' },
    /** `review`: only the review figures. */
    only: { type: 'string' }
  }
})
const PHOTOS = Number(values.photos)
const QUERIES = values.queries.split(',')

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1)
  const over = (ms: number) => ((100 * sorted.filter((s) => s > ms).length) / sorted.length).toFixed(1)
  // At 60 Hz a frame is 16.7 ms; a delta over 25 ms means at least one frame was missed.
  return `median ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, missed a frame: ${over(25)}%, missed 2+: ${over(41.7)}% (${sorted.length} frames)`
}

async function main(): Promise<void> {
  const chromiumPath = spawnSync(process.execPath, ['scripts/ensure-chromium.mjs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim()
  const built = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (built.status !== 0) throw new Error('electron-vite build failed')

  const reviewBrowser = await launchChromium(chromiumPath)
  try {
    for (const line of await reviewFigures(reviewBrowser, Number(values['review-photos']))) console.log(line)
  } finally {
    await reviewBrowser.close()
  }
  if (values.only === 'review') return

  const tmp = tempDir('sdl-tagger-bench-ui-')
  const dataDir = join(tmp.dir, 'data')
  await indexCocoThroughCli(dataDir)

  // A handful of real thumbnails, served for every synthetic id.
  const cocoNames = Object.keys((JSON.parse(readFileSync(join(COCO_DIR, 'labels.json'), 'utf8')) as { images: Record<string, string[]> }).images)
  // As the app's own thumbnails: 320 px WebP.
  const thumbs = await Promise.all(cocoNames.slice(0, 16).map((n) => sharp(join(COCO_DIR, n)).resize(320, 320, { fit: 'inside' }).webp({ quality: 80 }).toBuffer()))
  const synthetic = (id: number): PhotoSummary => ({
    id,
    path: `/photos/${String(id).padStart(6, '0')}.jpg`,
    name: `${String(id).padStart(6, '0')}.jpg`,
    width: 4000,
    height: 3000,
    takenAt: null,
    capturedAt: null,
    status: 'ok',
    offline: false
  })

  const server = await startWebServer(dataDir)
  const browser = await launchChromium(chromiumPath)
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    // tsx compiles the functions passed to page.evaluate with esbuild's name helper, which the page lacks.
    await context.addInitScript('window.__name = (f) => f')
    const page = await context.newPage()
    await page.route('**/api/listPhotos', async (route) => {
      const [request] = (route.request().postDataJSON() as { args: [PhotoPageRequest] }).args
      const photos: PhotoSummary[] = []
      for (let i = request.offset; i < Math.min(PHOTOS, request.offset + request.limit); i++) photos.push(synthetic(i + 1_000_000))
      const value: PhotoPage = { total: PHOTOS, offset: request.offset, photos }
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: true, value }) })
    })
    await page.route(/\/media\/thumb\/1\d{6}$/, (route) => {
      const id = Number(route.request().url().split('/').pop())
      return route.fulfill({ contentType: 'image/webp', body: thumbs[id % thumbs.length], headers: { 'cache-control': 'max-age=3600' } })
    })

    // First meaningful paint: navigation start to the first screenful of thumbnails decoded and drawn.
    await page.goto(server.url)
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('.cell img')]
      return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0)
    })
    const timeline = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/') || e.name.endsWith('.js'))
        .map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}-${(e.startTime + e.duration).toFixed(0)}`)
    )
    const paint = await page.evaluate(
      () =>
        new Promise<{ grid: number; thumbs: number; cells: number }>((resolve) =>
          requestAnimationFrame(() =>
            resolve({
              grid: performance.getEntriesByName('sdl:grid-first-paint')[0]?.startTime ?? NaN,
              thumbs: performance.now(),
              cells: document.querySelectorAll('.cell').length
            })
          )
        )
    )
    console.log(`Library of ${PHOTOS.toLocaleString('en')} photos (web mode, Chromium ${browser.version()}, 1440x900):`)
    console.log(`  first paint of the grid (cells laid out, first page of ${PHOTOS.toLocaleString('en')}): ${paint.grid.toFixed(0)} ms after navigation`)
    console.log(`  requests until then (ms after navigation): ${timeline.join(', ')}`)
    console.log(`  first screenful of thumbnails drawn: ${paint.thumbs.toFixed(0)} ms after navigation (at most ${paint.cells} cells in the DOM)`)

    // Scrolling: the grid is moved every frame, as a wheel or a fling would; rAF deltas are the frame times.
    // The same count of frames without scrolling first: what this machine gives an idle page (a busy
    // shared CPU shows up here, not only in the scroll figures).
    // Last, the same scrolls with thumbnails hidden: what the virtualized grid itself costs.
    const passes = [
      ['idle page, no scrolling (baseline)', 0, 300],
      ['slow scroll (1,800 px/s)', 30, 300],
      ['fast fling (12,000 px/s)', 200, 300],
      ['thumbnails hidden', 0, 0],
      ['slow scroll, grid alone', 30, 300],
      ['fast fling, grid alone', 200, 300]
    ] as const
    for (const [label, pxPerFrame, frames] of passes) {
      if (frames === 0) {
        await page.addStyleTag({ content: '.cell img { display: none !important }' })
        continue
      }
      const deltas = await page.evaluate(
        ({ pxPerFrame, frames }) =>
          new Promise<number[]>((resolve) => {
            const scroller = document.querySelector<HTMLElement>('.grid-scroller')!
            const out: number[] = []
            let last = performance.now()
            let n = 0
            const step = (now: number) => {
              out.push(now - last)
              last = now
              scroller.scrollTop += pxPerFrame
              if (++n < frames) requestAnimationFrame(step)
              else resolve(out.slice(1))
            }
            requestAnimationFrame(step)
          }),
        { pxPerFrame, frames }
      )
      console.log(`  ${label}: ${stats(deltas)}`)
    }
    const domCells = await page.evaluate(() => document.querySelectorAll('.cell').length)
    console.log(`  cells in the DOM after scrolling: ${domCells}`)
    await page.evaluate(() => document.querySelectorAll('style').forEach((s) => s.textContent?.includes('.cell img') && s.remove()))

    // A jump to the middle: the pages there are fetched and drawn.
    const jump = await page.evaluate(async (photos) => {
      const scroller = document.querySelector<HTMLElement>('.grid-scroller')!
      const started = performance.now()
      scroller.scrollTop = scroller.scrollHeight / 2
      const ready = () => {
        const cells = [...document.querySelectorAll<HTMLElement>('.cell')]
        const there = cells.length > 0 && cells.every((c) => Math.abs(Number(c.getAttribute('aria-posinset')) - photos / 2) < 200)
        const imgs = [...document.querySelectorAll<HTMLImageElement>('.cell img')]
        return there && !document.querySelector('.cell.placeholder') && imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0)
      }
      while (!ready()) await new Promise((r) => requestAnimationFrame(r))
      return performance.now() - started
    }, PHOTOS)
    console.log(`  jump to the middle, to its thumbnails drawn: ${jump.toFixed(0)} ms`)
    await context.close()

    // Search to results on screen, on the real library (64 COCO photos, ConSE), through the search bar.
    const searchContext = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    await searchContext.addInitScript('window.__name = (f) => f')
    const searchPage = await searchContext.newPage()
    await searchPage.goto(server.url)
    const box = searchPage.getByRole('combobox', { name: 'Search photos' })
    await box.waitFor()
    const times: string[] = []
    for (const query of QUERIES) {
      await box.fill(query)
      const ms = await searchPage.evaluate(
        (query) =>
          new Promise<number>((resolve) => {
            const input = document.querySelector<HTMLInputElement>('#search-input')!
            const started = performance.now()
            input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
            const done = () => {
              const summary = document.querySelector('[data-testid="search-summary"]')
              const empty = document.querySelector('.empty-state h2')?.textContent?.includes('No photo matches')
              if ((summary?.textContent?.includes(query.trim()) && document.querySelector('.cell[data-score]')) || empty) {
                requestAnimationFrame(() => resolve(performance.now() - started))
              } else requestAnimationFrame(done)
            }
            requestAnimationFrame(done)
          }),
        query
      )
      times.push(`${query}: ${ms.toFixed(0)} ms${times.length === 0 ? ' (the first search of the server: loads the word vectors and the index)' : ''}`)
      await box.fill('')
      await searchPage.keyboard.press('Escape')
    }
    console.log(`Search to results drawn (Enter to the ranked grid painted; 64 COCO photos, ConSE pack):\n  ${times.join('\n  ')}`)
  } finally {
    await browser.close()
    await server.stop()
    tmp.cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
