#!/usr/bin/env node
// Electron's install script downloads the Electron binary from the internet. The project's
// set-up does not run it (see allowScripts in package.json), so that set-up works offline and in
// CI, where only the window's bundles are built. This runs it on first use of the window instead.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const electronDir = dirname(require.resolve('electron/package.json'))

if (!existsSync(join(electronDir, 'path.txt'))) {
  process.stderr.write('Downloading the Electron binary (first start of the desktop app)...\n')
  const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit' })
  if (result.status !== 0 || !existsSync(join(electronDir, 'path.txt'))) {
    process.stderr.write(
      'error: the Electron binary could not be downloaded, so the desktop window cannot start here.\n' +
        'hint: check the internet connection (or set ELECTRON_MIRROR), then run this again. ' +
        'Without a window, everything works from the command line: npm run cli -- --help\n'
    )
    process.exit(1)
  }
}
