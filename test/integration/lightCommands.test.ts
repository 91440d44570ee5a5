import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { COCO_DIR, CONSE_ONNX, tempDir } from '../helpers/sharedData'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const HOOK = fileURLToPath(new URL('../helpers/reportNativeLoads.mjs', import.meta.url))

/** The engine builds its services lazily: commands that need no image decoding nor model start without either. */
describe('commands that need neither sharp nor onnxruntime', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  const runIn = (dataDir: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--import', HOOK, join(ROOT, 'src/main/cli/main.ts'), '--data-dir', dataDir, '--ep', 'cpu', ...args], {
      cwd: ROOT,
      encoding: 'utf8'
    })
  const run = (...args: string[]) => runIn(join(tmp.dir, 'light'), ...args)

  it.each([
    ['folders', 'add', COCO_DIR],
    ['folders', 'list'],
    ['purge-missing', '--dry-run'],
    ['status', '--json'],
    ['backup', '--list']
  ])('%s %s loads neither', (...args) => {
    const result = run(...args)
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).not.toMatch(/native module loaded/)
  })

  it('the hook does see them when a command needs them', () => {
    const dataDir = join(tmp.dir, 'embedding')
    expect(runIn(dataDir, 'model', 'add', CONSE_ONNX, '--name', 'conse').status).toBe(0)
    const result = runIn(
      dataDir,
      'embed',
      join(
        COCO_DIR,
        readdirSync(COCO_DIR).find((f) => f.endsWith('.jpg'))!
      )
    )
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/native module loaded: .*sharp/)
    expect(result.stderr).toMatch(/native module loaded: .*onnxruntime-node/)
  })
})
