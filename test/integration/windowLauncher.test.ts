import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/sharedData'

const ROOT = join(import.meta.dirname, '../..')
const REAL_ELECTRON = join(ROOT, 'node_modules/electron')

/**
 * A project folder where Electron's program was never downloaded, as after `npm ci` here: the
 * launcher and Electron's real package (its installer included) without dist/ or path.txt. Modules
 * the installer needs come from the project through NODE_PATH.
 */
function projectWithoutElectronProgram(dir: string): void {
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(join(ROOT, 'scripts/launch-window.mjs'), join(dir, 'scripts/launch-window.mjs'))
  mkdirSync(join(dir, 'node_modules/electron'), { recursive: true })
  for (const file of ['package.json', 'install.js', 'checksums.json', 'index.js']) copyFileSync(join(REAL_ELECTRON, file), join(dir, 'node_modules/electron', file))
}

/** A local port that refuses connections, so the download fails at once and never leaves the machine. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function run(dir: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { ELECTRON_EXEC_PATH: _exec, ELECTRON_OVERRIDE_DIST_PATH: _dist, ...inherited } = process.env
  const child = spawn(process.execPath, [join(dir, 'scripts/launch-window.mjs'), ...args], { cwd: dir, env: { ...inherited, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

describe('npm start without Electron’s program', () => {
  const temp = tempDir('sdl-tagger-launcher-')
  afterAll(() => temp.cleanup())
  projectWithoutElectronProgram(temp.dir)

  for (const mode of ['preview', 'dev']) {
    it(`${mode}: says in one paragraph what failed and that \`npm run cli -- serve\` opens the app in a browser`, async () => {
      const port = await closedPort()
      const result = await run(temp.dir, [mode], {
        NODE_PATH: join(ROOT, 'node_modules'),
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        electron_config_cache: join(temp.dir, 'cache')
      })
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      const lines = result.stderr.trimEnd().split('\n')
      expect(lines[0]).toMatch(/^Downloading Electron’s program/)
      expect(lines).toHaveLength(2)
      const paragraph = lines[1]
      expect(paragraph).toMatch(/^The desktop window cannot start: Electron’s program is not installed, and downloading it failed \((?!no reason given).+\)\. /)
      expect(paragraph).toContain('run `npm run cli -- serve` and open the address it prints')
      expect(result.stderr).not.toMatch(/^\s+at /m)
      expect(result.stderr).not.toMatch(/Error:/)
    })
  }

  it('names a missing ELECTRON_EXEC_PATH without trying a download', async () => {
    const result = await run(temp.dir, ['preview'], { ELECTRON_EXEC_PATH: join(temp.dir, 'no-such-electron') })
    expect(result.code).toBe(1)
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^The desktop window cannot start: ELECTRON_EXEC_PATH names .*no-such-electron, which does not exist\. .*npm run cli -- serve/)
    ])
  })

  it('refuses an unknown mode with its usage', async () => {
    const result = await run(temp.dir, ['build'], {})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('usage: node scripts/launch-window.mjs dev|preview')
  })
})
