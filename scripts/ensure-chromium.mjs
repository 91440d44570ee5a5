#!/usr/bin/env node
// The end-to-end tests drive a real Chromium through playwright-core, which downloads no browser
// of its own. They use Debian's package (/usr/bin/chromium): one apt install, no binary blobs from
// elsewhere, and the same browser here and in CI. This installs it when it is missing and says
// plainly what to do when it cannot (not root, no apt).
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'

export const CHROMIUM = process.env.SDL_TAGGER_CHROMIUM || '/usr/bin/chromium'

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function fail(message, hint) {
  process.stderr.write(`error: ${message}\nhint: ${hint}\n`)
  process.exit(1)
}

function apt(args) {
  const run = spawnSync('apt-get', args, {
    // apt's stdout goes to stderr: this script's stdout is the one line naming the binary, which
    // the e2e set-up reads (on a fresh machine apt's progress was taken for the path).
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  return run.status === 0
}

if (!isExecutable(CHROMIUM)) {
  const manual = 'install it yourself (Debian/Ubuntu: `sudo apt-get install chromium`), or set SDL_TAGGER_CHROMIUM to a Chromium binary'
  if (process.env.SDL_TAGGER_CHROMIUM) fail(`SDL_TAGGER_CHROMIUM names ${CHROMIUM}, which is not an executable file.`, manual)
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    fail(`Chromium is not installed at ${CHROMIUM}, and this system has no apt-get to install it with.`, manual)
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    fail(`Chromium is not installed at ${CHROMIUM}, and installing it needs root.`, manual)
  }
  process.stderr.write(`Installing Chromium with apt-get (for the end-to-end tests)...\n`)
  // A fresh container has no package lists yet: install first, and refresh the lists only when needed.
  const installArgs = ['install', '-y', 'chromium']
  if (!apt(installArgs) && !(apt(['update']) && apt(installArgs))) {
    fail('apt-get could not install the chromium package.', `check access to the Debian mirrors, then ${manual}`)
  }
  if (!isExecutable(CHROMIUM)) fail(`apt-get installed chromium, but ${CHROMIUM} is still missing.`, manual)
}
process.stdout.write(`${CHROMIUM}\n`)
