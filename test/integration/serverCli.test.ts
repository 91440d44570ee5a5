import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** `sdl-tagger serve` from source (no build needed), as its own process, so a real signal can stop it. */
function serve(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null>; listening: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (c) => (stderr += String(c)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      stdout += String(c)
      const match = /^Listening on (http:\/\/\S+)\n/.exec(stdout)
      if (match) resolve(match[1])
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
  // A run expected to fail is awaited through `exited` instead.
  listening.catch(() => {})
  return { child, stdout: () => stdout, stderr: () => stderr, exited, listening }
}

describe('sdl-tagger serve', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('prints one Listening line with a free port, serves the API, and stops cleanly on SIGTERM', async () => {
    const run = serve(['--data-dir', join(tmp.dir, 'data'), 'serve', '--port', '0'])
    const url = await run.listening
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(Number(new URL(url).port)).toBeGreaterThan(0)
    const status = await fetch(`${url}api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args":[]}' })
    expect(await status.json()).toMatchObject({ ok: true, value: { dataDir: join(tmp.dir, 'data'), activeModel: null } })
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    expect(run.stdout()).toBe(`Listening on ${url}\n`)
    expect(run.stderr()).toMatch(/Stopping/)
  })

  it('with --token prints the address carrying it, and refuses requests without it', async () => {
    const token = 'serve-test-token-0123456789abcdef'
    const run = serve(['--data-dir', join(tmp.dir, 'data'), 'serve', '--port', '0', '--token', token])
    const url = await run.listening
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/\\?token=${token}$`))
    const base = url.slice(0, url.indexOf('?'))
    expect((await fetch(`${base}api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401)
    const authorized = await fetch(`${base}api/getStatus`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' })
    expect(authorized.status).toBe(200)
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
  })

  it('says clearly when the port is taken', async () => {
    const first = serve(['--data-dir', join(tmp.dir, 'data'), 'serve', '--port', '0'])
    const port = new URL(await first.listening).port
    const second = serve(['--data-dir', join(tmp.dir, 'data'), 'serve', '--port', port])
    expect(await second.exited).toBe(1)
    expect(second.stderr()).toMatch(new RegExp(`error: Port ${port} on 127\\.0\\.0\\.1 is in use`))
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
  })
})
