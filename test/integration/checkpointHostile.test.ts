import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { inflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tresnetSdlManifest } from '../../src/main/engine/onnx/tresnetSdl'
import { bytes, contiguousTensor, int, legacyCheckpoint, str, zeroBomb, zipCheckpoint, zipFile, zipPickle, type FakeTensor } from '../helpers/checkpointBuilders'
import { gunzipFixture } from '../helpers/sdlFixtures'
import { tempDir } from '../helpers/sharedData'

/**
 * Hostile checkpoints, each read against the official model's manifest in a process of its own
 * (see checkpointReadProbe.ts) so that its peak memory can be bounded: every one must be refused
 * with a clear error while the process stays under 1 GiB, as the well-formed fixtures do.
 */

const PROBE = fileURLToPath(new URL('../helpers/checkpointReadProbe.ts', import.meta.url))
const MEMORY_BOUND = 1024 ** 3
const GIB = 1024 ** 3

interface ProbeResult {
  error: string | null
  tensors: number
  peakRssBytes: number
}

async function probe(file: string): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', PROBE, file], { maxBuffer: 1 << 20 })
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult
  console.log(`${file.split('/').at(-1)}: peak RSS ${(result.peakRssBytes / 1024 ** 2).toFixed(0)} MiB; ${result.error ?? `${result.tensors} tensors`}`)
  return result
}

const OFFICIAL = tresnetSdlManifest({ dim: 300, rows: 7 })
const EMBEDDING_BYTES = 2100 * 2048 * 4

/** Every tensor of the official model, each with a storage of its own, embedding.weight first (storage '0'). */
function officialTensors(): FakeTensor[] {
  const keys = [...OFFICIAL.tensors.keys()].sort((a, b) => Number(b === 'embedding.weight') - Number(a === 'embedding.weight'))
  return keys.map((key, i) => contiguousTensor(key, [...OFFICIAL.tensors.get(key)!.shape], String(i)))
}

describe('hostile checkpoints are refused in bounded memory', () => {
  const tmp = tempDir()
  const write = async (name: string, data: Buffer) => {
    const path = join(tmp.dir, name)
    await writeFile(path, data)
    return path
  }
  const fixtures = { zip: '', legacy: '' }
  /** 3 GiB of zeros in about 3 MiB. */
  let bomb: Buffer

  beforeAll(async () => {
    bomb = zeroBomb(3 * 1024)
    fixtures.zip = await gunzipFixture('zip', tmp.dir)
    fixtures.legacy = await gunzipFixture('legacy', tmp.dir)
  })
  afterAll(() => tmp.cleanup())

  const expectRefused = async (path: string, message: RegExp) => {
    const result = await probe(path)
    expect(result.error).toMatch(message)
    expect(result.peakRssBytes).toBeLessThan(MEMORY_BOUND)
  }

  it('builds its bombs right: repeated full-flush chunks inflate to one MiB of zeros each', () => {
    const small = zeroBomb(3)
    expect(inflateRawSync(small).equals(Buffer.alloc(3 * 1024 * 1024))).toBe(true)
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024)
  })

  it('reads the well-formed fixtures in both formats within the bound', async () => {
    for (const format of ['zip', 'legacy'] as const) {
      const result = await probe(fixtures[format])
      expect(result).toMatchObject({ error: null, tensors: OFFICIAL.tensors.size })
      expect(result.peakRssBytes).toBeLessThan(MEMORY_BOUND)
    }
  })

  it('a data.pkl that inflates to 3 GiB, whether its directory says so or not', async () => {
    const honest = await write('pickle-bomb.pth', zipFile([['archive/data.pkl', bomb, 'deflated', 3 * GIB]]))
    await expectRefused(honest, /pickle-bomb\.pth: ZIP entry 'archive\/data\.pkl' unpacks to 3221225472 bytes, more than the 8388608 it can hold/)
    const lying = await write('pickle-bomb-lying.pth', zipFile([['archive/data.pkl', bomb, 'deflated', 4 * 1024 * 1024]]))
    await expectRefused(lying, /pickle-bomb-lying\.pth: ZIP entry 'archive\/data\.pkl' unpacks to more than the 4194304 bytes its directory says/)
  })

  it('a storage entry that inflates to 3 GiB, whether its directory says so or not', async () => {
    const pickle = zipPickle(officialTensors(), 'model')
    const honest = await write('storage-bomb.pth', zipCheckpoint(pickle, [], [['archive/data/0', bomb, 'deflated', 3 * GIB]]))
    await expectRefused(honest, new RegExp(`storage-bomb\\.pth: ZIP entry 'archive/data/0' unpacks to 3221225472 bytes, more than the ${EMBEDDING_BYTES} it can hold`))
    const lying = await write('storage-bomb-lying.pth', zipCheckpoint(pickle, [], [['archive/data/0', bomb, 'deflated', EMBEDDING_BYTES]]))
    await expectRefused(lying, new RegExp(`storage-bomb-lying\\.pth: ZIP entry 'archive/data/0' unpacks to more than the ${EMBEDDING_BYTES} bytes its directory says`))
  })

  it('a storage that declares billions of elements', async () => {
    const tensors = officialTensors()
    tensors[0] = { ...tensors[0], numel: 2 ** 31 - 1 }
    const path = await write('storage-claim.pth', zipCheckpoint(zipPickle(tensors), []))
    await expectRefused(path, /storage-claim\.pth: storage 'data\/0' declares 8589934588 bytes, more than the \d+ that TResNet-M SDL can need for 'embedding\.weight'/)
  })

  it('a tensor of shape [20000, 20000] at stride 0, as a key the model has and as one it lacks', async () => {
    const huge = { size: [20000, 20000], stride: [0, 0] }
    const known = await write('stride0-known.pth', zipCheckpoint(zipPickle([{ ...contiguousTensor('conv1.0.weight', [1], '0'), ...huge }]), [['0', Buffer.alloc(4)]]))
    await expectRefused(known, /stride0-known\.pth: tensor 'conv1\.0\.weight' has shape \[20000,20000\] but TResNet-M SDL expects \[64,48,3,3\]/)
    // The unknown key is skipped unread, so what stops the file is the model's first missing tensor.
    const unknown = await write('stride0-unknown.pth', zipCheckpoint(zipPickle([{ ...contiguousTensor('extra', [1], '0'), ...huge }]), [['0', Buffer.alloc(4)]]))
    await expectRefused(unknown, /stride0-unknown\.pth lacks tensor 'conv1\.0\.weight', which TResNet-M SDL needs/)
    const tensors = officialTensors()
    tensors[0] = { ...tensors[0], numel: 2048, stride: [0, 1] }
    const repeated = await write('stride0-repeated.pth', zipCheckpoint(zipPickle(tensors), [['0', Buffer.alloc(2048 * 4)]]))
    await expectRefused(
      repeated,
      /stride0-repeated\.pth: tensor 'embedding\.weight' has stride 0 in dimension 0 \(shape \[2100,2048\], stride \[0,1\], offset 0\), so its elements overlap/
    )
  })

  it('a data.pkl that builds millions of objects', async () => {
    const path = await write('pickle-flood.pth', zipFile([['archive/data.pkl', bytes(0x80, 2, Buffer.alloc(4_000_000, '}'), '.'), 'deflate']]))
    await expectRefused(path, /pickle-flood\.pth \(archive\/data\.pkl\): its pickle builds more than 1000000 values/)
  })

  it('truncated copies of the fixtures', async () => {
    const zip = await write('truncated.pth', (await readFile(fixtures.zip)).subarray(0, 60_000_000))
    await expectRefused(zip, /truncated\.pth is truncated or damaged: the ZIP end-of-central-directory record is missing/)
    const legacy = await write('truncated-legacy.pth', (await readFile(fixtures.legacy)).subarray(0, 60_000_000))
    await expectRefused(legacy, /truncated-legacy\.pth is truncated: storage '\d+' ends past the end of the file/)
  })

  it('a legacy file whose storage claims 2^40 elements, or whose pickles run on for megabytes', async () => {
    const tensors = officialTensors()
    const claim = legacyCheckpoint(tensors, [['0', Buffer.alloc(16), 2 ** 40]])
    await expectRefused(await write('legacy-claim.pth', claim), /legacy-claim\.pth is truncated: storage '0' ends past the end of the file/)
    // A 9 MiB string in sys_info: reading on would need the whole pickle in memory, however long.
    const magic = bytes(0x80, 2, 0x8a, 0x0a, Buffer.from('6cfc9c46f9206aa85019', 'hex'), '.')
    const long = bytes(magic, 0x80, 2, int(1001), '.', 0x80, 2, '}(', str('padding'), str('x'.repeat(9 * 1024 * 1024)), 'u.')
    await expectRefused(await write('legacy-long.pth', long), /legacy-long\.pth: its pickles run past the first 8388608 bytes, more than any model's state dict needs/)
  })
})
