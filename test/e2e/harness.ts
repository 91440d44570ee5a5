/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Parts of this file run in the page (page.evaluate), with the DOM's types.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { type Browser, type Page, chromium } from 'playwright-core'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const require = createRequire(import.meta.url)

/** Headless and quiet: no GPU, no sandbox (containers run as root), nothing fetched in the background. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** The Chromium that scripts/ensure-chromium.mjs installed (the e2e set-up passes it on). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS })
}

export interface WebServer {
  /** The URL `serve` printed, with the one-time token that the first page load trades for a cookie. */
  url: string
  /** Everything the server wrote to stderr, for failure messages. */
  log: () => string
  stop: () => Promise<void>
}

/** `sdl-tagger serve` from the built bundle on a free port, as a user starts web mode (`env` adds to the test's environment, e.g. a HOME of its own). */
export function startWebServer(dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<WebServer> {
  const child: ChildProcess = spawn(process.execPath, ['bin/sdl-tagger.js', '--data-dir', dataDir, '--ep', 'cpu', 'serve', '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)))
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return new Promise((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`sdl-tagger serve printed no "Listening on" line within 30 s.\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, 30_000)
    child.stdout?.on('data', (chunk) => {
      stdout += String(chunk)
      const match = /Listening on (http:\/\/\S+)/.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolve({ url: match[1], log: () => stderr, stop })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`sdl-tagger serve exited with ${code} before listening.\nstdout: ${stdout}\nstderr: ${stderr}`))
    })
  })
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[]; failureSummary?: string }>
}

/**
 * axe-core's WCAG 2.x A/AA and best-practice rules on the page as it is now. Its source is
 * evaluated through the DevTools protocol, which the page's CSP (script-src 'self', no eval) does
 * not govern, so the app needs no exception for the test.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
  await page.evaluate(source)
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** A readable list of violations for an assertion message. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`).join('\n')
}
