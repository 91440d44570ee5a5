import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** What the end-to-end tests run: the CLI bundle (`serve`) and the renderer web mode serves. */
const OUTPUTS = ['out/main/cli.js', 'out/main/indexWorker.js', 'out/renderer/index.html']
const SOURCES = ['src', 'electron.vite.config.ts', 'package.json']

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

/** Runs a step of the set-up; its messages are shown only if it fails, unless `showProgress`. */
function run(command: string, args: string[], what: string, showProgress = false): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', showProgress ? 'inherit' : 'pipe'] })
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr ?? ''}`)
  return result.stdout
}

/**
 * Once before the end-to-end tests: a Chromium to drive (installed from Debian's packages when
 * missing) and bundles no older than the sources, so the tests never exercise yesterday's app.
 * `npm ci` builds the bundles; a checkout edited since gets rebuilt here.
 */
export default function setup(project: TestProject): void {
  project.provide('chromium', run(process.execPath, ['scripts/ensure-chromium.mjs'], 'Installing Chromium', true).trim())
  const built = OUTPUTS.map((p) => join(ROOT, p))
  const oldestOutput = built.every((p) => existsSync(p)) ? Math.min(...built.map((p) => statSync(p).mtimeMs)) : 0
  const newestSource = Math.max(...SOURCES.map((p) => newestMtime(join(ROOT, p))))
  if (oldestOutput < newestSource) {
    process.stderr.write('The app bundles are older than the sources: running electron-vite build...\n')
    run(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], 'electron-vite build')
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium binary the end-to-end tests drive. */
    chromium: string
  }
}
