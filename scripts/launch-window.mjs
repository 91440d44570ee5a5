#!/usr/bin/env node
// `npm start` and `npm run dev`: starts the desktop window through electron-vite (`preview` or `dev`).
// Set-up does not run Electron's install script, which downloads Electron's program (see allowScripts
// in package.json), so that set-up works offline and in CI. The first start downloads it instead;
// where that fails, this says so in one paragraph, pointing at web mode, rather than letting
// electron-vite or Electron's installer end in a stack trace.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const MODES = ['dev', 'preview']
const mode = process.argv[2]
if (!MODES.includes(mode)) {
  process.stderr.write(`usage: node scripts/launch-window.mjs ${MODES.join('|')}\n`)
  process.exit(2)
}

const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))

/** Electron's program as electron-vite finds it: $ELECTRON_EXEC_PATH, else the one Electron's installer recorded. */
function electronProgram() {
  if (process.env.ELECTRON_EXEC_PATH) return existsSync(process.env.ELECTRON_EXEC_PATH) ? process.env.ELECTRON_EXEC_PATH : null
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const program = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(program) ? program : null
}

/** The installer's own reason, without its stack: the first line that is not a stack frame. */
function reasonFrom(output) {
  const line = output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('at ') && !/^Downloading/i.test(l))
  return line ? line.replace(/^\w*Error: /, '') : 'no reason given'
}

function giveUp(what) {
  process.stderr.write(
    `The desktop window cannot start: ${what}. ` +
      'The same app opens in your browser without it: run `npm run cli -- serve` and open the address it prints. ' +
      'For the window, connect to the internet (or set ELECTRON_MIRROR to a mirror of Electron’s releases) and run this again.\n'
  )
  process.exit(1)
}

if (!electronProgram()) {
  if (process.env.ELECTRON_EXEC_PATH) giveUp(`ELECTRON_EXEC_PATH names ${process.env.ELECTRON_EXEC_PATH}, which does not exist`)
  process.stderr.write('Downloading Electron’s program for the desktop window (only on its first start)…\n')
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8' })
  if (!electronProgram()) {
    const reason = install.error?.message ?? reasonFrom(`${install.stderr}\n${install.stdout}`)
    giveUp(`Electron’s program is not installed, and downloading it failed (${reason})`)
  }
}

const viteManifest = createRequire(import.meta.url).resolve('electron-vite/package.json')
const electronVite = join(dirname(viteManifest), JSON.parse(readFileSync(viteManifest, 'utf8')).bin['electron-vite'])
const child = spawn(process.execPath, [electronVite, mode, ...process.argv.slice(3)], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
