import { copyFile, mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readOfficialVocabulary } from '../../src/main/engine/checkpoint/officialVocabulary'
import type { StateDict, Tensor, TensorDType, TensorManifest } from '../../src/main/engine/checkpoint/tensor'
import { readTorchCheckpoint, readTorchCheckpointBuffer } from '../../src/main/engine/checkpoint/torchCheckpoint'
import { tresnetSdlManifest } from '../../src/main/engine/onnx/tresnetSdl'
import { SDL_DIR, tempDir } from '../helpers/sharedData'
import { VOCAB_DIR, gunzipFixture } from '../helpers/sdlFixtures'
import { bytes, int, legacyCheckpoint, str, zipCheckpoint, zipFile, zipPickle, type FakeTensor } from '../helpers/checkpointBuilders'

const f32 = (...values: number[]) => Buffer.from(Float32Array.of(...values).buffer)
const u16 = (...values: number[]) => Buffer.from(Uint16Array.of(...values).buffer)
const plain = (t: Tensor) => ({ dtype: t.dtype, shape: t.shape, data: [...t.data] })

/** A numpy (D, T) array pickled at protocol 2 (bytes via _codecs.encode), as numpy writes it. */
function numpyPickle(columns: number[][], spec: 'f4' | 'f8', order: '<' | '>', fortran: boolean, module = 'numpy.core.multiarray'): Buffer {
  const [dim, count] = [columns[0].length, columns.length]
  const width = spec === 'f4' ? 4 : 8
  const raw = Buffer.alloc(dim * count * width)
  let i = 0
  const put = (v: number) => {
    if (width === 4) order === '<' ? raw.writeFloatLE(v, i) : raw.writeFloatBE(v, i)
    else order === '<' ? raw.writeDoubleLE(v, i) : raw.writeDoubleBE(v, i)
    i += width
  }
  if (fortran) columns.forEach((column) => column.forEach(put))
  else for (let d = 0; d < dim; d++) columns.forEach((column) => put(column[d]))
  const encode = (data: Buffer) => bytes('c_codecs\nencode\n', str(data.toString('latin1')), str('latin1'), 0x86, 'R')
  return bytes(
    0x80,
    2,
    `c${module}\n_reconstruct\n`,
    'cnumpy\nndarray\n',
    int(0),
    0x85,
    encode(Buffer.from('b')),
    0x87,
    'R',
    '(',
    int(1),
    int(dim),
    int(count),
    0x86,
    'cnumpy\ndtype\n',
    str(spec),
    0x89,
    0x88,
    0x87,
    'R',
    '(',
    int(3),
    str(order),
    'NNN',
    int(-1),
    int(-1),
    int(0),
    'tb',
    fortran ? 0x88 : 0x89,
    encode(raw),
    'tb.'
  )
}
const pickleOfTags = (tags: string[]) => bytes(0x80, 2, '}(', ...tags.flatMap((tag, i) => [int(i), str(tag)]), 'u.')
const pickleOfList = (tags: string[]) => bytes(0x80, 2, ']', '(', ...tags.map(str), 'e.')

// --- the fixtures --------------------------------------------------------------------------------

interface ManifestEntry {
  key: string
  shape: number[]
  dtype: string
}

/** The official model: 300-d word vectors, 7 principal vectors. */
const OFFICIAL = tresnetSdlManifest({ dim: 300, rows: 7 })

describe('readTorchCheckpoint on the SDL fixtures', () => {
  const tmp = tempDir()
  const paths = { zip: '', legacy: '' }
  const loaded: Record<'zip' | 'legacy', StateDict> = { zip: new Map(), legacy: new Map() }

  beforeAll(async () => {
    for (const format of ['zip', 'legacy'] as const) {
      paths[format] = await gunzipFixture(format, tmp.dir)
      const start = performance.now()
      loaded[format] = await readTorchCheckpoint(paths[format], OFFICIAL)
      console.log(`${format} fixture loaded in ${Math.round(performance.now() - start)} ms`)
    }
  })
  afterAll(() => tmp.cleanup())

  it('holds every manifest key but num_batches_tracked, with its shape and dtype, in both formats', async () => {
    const manifest = JSON.parse(await readFile(join(SDL_DIR, 'fixtures/tresnet_m_sdl_state_dict_manifest.json'), 'utf8')) as ManifestEntry[]
    expect(manifest).toHaveLength(433)
    const kept = manifest.filter((entry) => !entry.key.endsWith('num_batches_tracked'))
    expect([...OFFICIAL.tensors.keys()]).toEqual(kept.map((entry) => entry.key))
    for (const stateDict of [loaded.zip, loaded.legacy]) {
      expect([...stateDict.keys()]).toEqual(kept.map((entry) => entry.key))
      for (const { key, shape, dtype } of kept) {
        const tensor = stateDict.get(key)!
        expect({ key, shape: tensor.shape, dtype: tensor.dtype }).toEqual({ key, shape, dtype })
        expect(tensor.data).toBeInstanceOf(Float32Array)
        expect(tensor.data.length).toBe(shape.reduce((a, b) => a * b, 1))
      }
    }
  })

  it('gives identical data for both formats', () => {
    for (const [key, tensor] of loaded.zip) {
      const other = loaded.legacy.get(key)!
      const a = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
      const b = Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength)
      expect(a.equals(b), key).toBe(true)
    }
    // Spot checks against the raw storage bytes, as Python's zipfile and struct read them.
    expect([...loaded.zip.get('conv1.0.weight')!.data.subarray(0, 2)]).toEqual([-0.00505526177585125, -0.009816352277994156])
    expect([...loaded.zip.get('embedding.weight')!.data.subarray(-2)]).toEqual([-0.011857007630169392, 0.035702597349882126])
  })

  it('reads the same from a file and from memory', async () => {
    const fromMemory = await readTorchCheckpointBuffer(await readFile(paths.zip), 'in memory', OFFICIAL)
    const key = 'layer3.10.conv3.0.weight'
    expect(Buffer.from(fromMemory.get(key)!.data.buffer).equals(Buffer.from(loaded.zip.get(key)!.data.buffer))).toBe(true)
  })

  it('refuses truncated copies, saying so', async () => {
    for (const format of ['zip', 'legacy'] as const) {
      const cut = join(tmp.dir, `truncated-${format}.pth`)
      await copyFile(paths[format], cut)
      await truncate(cut, 60_000_000)
      const message =
        format === 'zip'
          ? /truncated-zip\.pth is truncated or damaged: the ZIP end-of-central-directory record is missing/
          : /truncated-legacy\.pth is truncated: storage '\d+' ends past the end of the file/
      await expect(readTorchCheckpoint(cut, OFFICIAL)).rejects.toThrow(message)
    }
  })

  it('names a storage missing from the archive', async () => {
    const bytes = await readFile(paths.zip)
    const name = 'sdl_fixture_zip/data/0'
    bytes.write('sdl_fixture_zip/data/X', bytes.lastIndexOf(name)) // the central directory's copy
    await expect(readTorchCheckpointBuffer(bytes, 'renamed.pth', OFFICIAL)).rejects.toThrow(/renamed\.pth is damaged: storage 'data\/0' is missing from the archive/)
  })

  it('names the tensor that a vocabulary of another dimension does not fit', async () => {
    await expect(readTorchCheckpoint(paths.legacy, tresnetSdlManifest({ dim: 400, rows: 7 }))).rejects.toThrow(
      /tensor 'embedding\.weight' has shape \[2100,2048\] but TResNet-M SDL expects \[2800,2048\] \(400-d word vectors of the vocabulary x 7 principal vectors\)/
    )
  })

  it('refuses a text file and a missing file', async () => {
    const text = join(tmp.dir, 'notes.pth')
    await writeFile(text, 'these are my holiday notes, not a model\n')
    await expect(readTorchCheckpoint(text, OFFICIAL)).rejects.toThrow(/notes\.pth is not a PyTorch checkpoint/)
    await expect(readTorchCheckpoint(join(tmp.dir, 'absent.pth'), OFFICIAL)).rejects.toThrow(/Cannot read .*absent\.pth: no such file/)
  })
})

/** A manifest of exactly these tensors, each in one dtype. */
function manifestOf(...tensors: Array<[string, number[], TensorDType]>): TensorManifest {
  return { model: 'the test model', hint: 'test hint', tensors: new Map(tensors.map(([key, shape, dtype]) => [key, { shape, dtypes: [dtype] }])) }
}

describe('readTorchCheckpointBuffer on synthetic checkpoints', () => {
  // Storage '0' holds 0..5; 'w' reads it transposed from element 1: [[1, 3], [2, 4]].
  const transposed: FakeTensor = { key: 'w', type: 'FloatStorage', storage: '0', numel: 6, offset: 1, size: [2, 2], stride: [1, 2] }
  const floats: [string, Buffer, number] = ['0', f32(0, 1, 2, 3, 4, 5), 6]
  const justW = manifestOf(['w', [2, 2], 'float32'])

  it('applies storage offsets, strides, legacy storage views and half precision (legacy format)', async () => {
    const half: FakeTensor = { key: 'h', type: 'HalfStorage', storage: '1', numel: 4, offset: 0, size: [2], stride: [1], view: ['v', 2, 2] }
    const tracked: FakeTensor = { key: 'bn.num_batches_tracked', type: 'LongStorage', storage: '2', numel: 1, offset: 0, size: [], stride: [] }
    const file = legacyCheckpoint([transposed, half, tracked], [floats, ['1', u16(0x3c00, 0xc000, 0x3800, 0x7bff), 4], ['2', Buffer.alloc(8), 1]], 'state_dict')
    const stateDict = await readTorchCheckpointBuffer(file, 'legacy.pth', manifestOf(['w', [2, 2], 'float32'], ['h', [2], 'float16']))
    expect([...stateDict.keys()]).toEqual(['w', 'h'])
    expect(plain(stateDict.get('w')!)).toEqual({ dtype: 'float32', shape: [2, 2], data: [1, 3, 2, 4] })
    expect(plain(stateDict.get('h')!)).toEqual({ dtype: 'float16', shape: [2], data: [0.5, 65504] })
    expect(stateDict.get('h')!.data).toBeInstanceOf(Float32Array)
  })

  it('reads a zip whose data.pkl is DEFLATE-compressed, with int64, bool and bfloat16 tensors', async () => {
    const tensors: FakeTensor[] = [
      transposed,
      { key: 'step', type: 'LongStorage', storage: '1', numel: 1, offset: 0, size: [], stride: [] },
      { key: 'mask', type: 'BoolStorage', storage: '2', numel: 3, offset: 0, size: [3], stride: [1] },
      { key: 'b', type: 'BFloat16Storage', storage: '3', numel: 2, offset: 0, size: [2], stride: [1] }
    ]
    const file = zipCheckpoint(zipPickle(tensors), [
      ['0', floats[1]],
      ['1', Buffer.from(BigInt64Array.of(-(2n ** 60n)).buffer)],
      ['2', Buffer.of(1, 0, 1)],
      ['3', u16(0x3fc0, 0xc100)]
    ])
    const manifest = manifestOf(['w', [2, 2], 'float32'], ['step', [], 'int64'], ['mask', [3], 'bool'], ['b', [2], 'bfloat16'])
    const stateDict = await readTorchCheckpointBuffer(file, 'tiny.pth', manifest)
    expect(plain(stateDict.get('w')!)).toEqual({ dtype: 'float32', shape: [2, 2], data: [1, 3, 2, 4] })
    expect(plain(stateDict.get('step')!)).toEqual({ dtype: 'int64', shape: [], data: [-(2n ** 60n)] })
    expect(plain(stateDict.get('mask')!)).toEqual({ dtype: 'bool', shape: [3], data: [1, 0, 1] })
    expect(plain(stateDict.get('b')!)).toEqual({ dtype: 'bfloat16', shape: [2], data: [1.5, -8] })
  })

  it('refuses a view that reads past its storage, naming the key', async () => {
    const bad: FakeTensor = { ...transposed, key: 'layer.bad', offset: 3 }
    for (const file of [legacyCheckpoint([bad], [floats]), zipCheckpoint(zipPickle([bad]), [['0', floats[1]]])]) {
      await expect(readTorchCheckpointBuffer(file, 'bad.pth', manifestOf(['layer.bad', [2, 2], 'float32']))).rejects.toThrow(
        /bad\.pth is damaged: tensor 'layer\.bad' .* reads element 6 of a storage that holds 6/
      )
    }
  })

  it('refuses stride 0 and overlapping strides before reading any storage, naming the key and the reason', async () => {
    // No storage entries at all: reading one would fail differently.
    const repeated: FakeTensor = { ...transposed, stride: [0, 1] }
    await expect(readTorchCheckpointBuffer(zipCheckpoint(zipPickle([repeated]), []), 's.pth', justW)).rejects.toThrow(
      /s\.pth: tensor 'w' has stride 0 in dimension 0 \(shape \[2,2\], stride \[0,1\], offset 1\), so its elements overlap/
    )
    const overlapping: FakeTensor = { ...transposed, stride: [1, 1] }
    await expect(readTorchCheckpointBuffer(legacyCheckpoint([overlapping], []), 'o.pth', justW)).rejects.toThrow(
      /o\.pth: tensor 'w' has strides that make its elements overlap or interleave \(shape \[2,2\], stride \[1,1\]/
    )
  })

  it('refuses a tensor of another shape or dtype, or a missing one, before reading any storage', async () => {
    const huge: FakeTensor = { ...transposed, size: [20000, 20000], stride: [0, 0] }
    await expect(readTorchCheckpointBuffer(zipCheckpoint(zipPickle([huge]), []), 'h.pth', justW)).rejects.toThrow(
      /h\.pth: tensor 'w' has shape \[20000,20000\] but the test model expects \[2,2\]/
    )
    const doubles: FakeTensor = { ...transposed, type: 'DoubleStorage' }
    await expect(readTorchCheckpointBuffer(zipCheckpoint(zipPickle([doubles]), []), 'd.pth', justW)).rejects.toThrow(
      /d\.pth: tensor 'w' has dtype float64 but the test model expects float32/
    )
    await expect(readTorchCheckpointBuffer(zipCheckpoint(zipPickle([transposed]), []), 'm.pth', manifestOf(['w', [2, 2], 'float32'], ['v', [3], 'float32']))).rejects.toThrow(
      /m\.pth lacks tensor 'v', which the test model needs/
    )
  })

  it('skips tensors the model does not need without reading them, however large they claim to be', async () => {
    // 'extra' claims 400 M elements at stride 0, and its storage is not even in the file.
    const extra: FakeTensor = { key: 'extra', type: 'FloatStorage', storage: '9', numel: 1, offset: 0, size: [20000, 20000], stride: [0, 0] }
    for (const file of [zipCheckpoint(zipPickle([extra, transposed]), [['0', floats[1]]]), legacyCheckpoint([extra, transposed], [floats])]) {
      const stateDict = await readTorchCheckpointBuffer(file, 'x.pth', justW)
      expect([...stateDict.keys()]).toEqual(['w'])
      expect(plain(stateDict.get('w')!).data).toEqual([1, 3, 2, 4])
    }
  })

  it('refuses a storage that declares more than its tensors can need', async () => {
    const oversized: FakeTensor = { ...transposed, numel: 1_000_000_000 }
    for (const file of [zipCheckpoint(zipPickle([oversized]), []), legacyCheckpoint([oversized], [])]) {
      await expect(readTorchCheckpointBuffer(file, 'big.pth', justW)).rejects.toThrow(
        /big\.pth: storage '(data\/)?0' declares 4000000000 bytes, more than the 32 that the test model can need for 'w'/
      )
    }
  })

  it('refuses storages that are missing or too short', async () => {
    await expect(readTorchCheckpointBuffer(legacyCheckpoint([transposed], []), 'l.pth', justW)).rejects.toThrow(/l\.pth is damaged: storage '0' is missing/)
    await expect(readTorchCheckpointBuffer(zipCheckpoint(zipPickle([transposed]), [['0', f32(1, 2)]]), 'z.pth', justW)).rejects.toThrow(
      /z\.pth is damaged: storage 'data\/0' holds 8 bytes, fewer than its 6 elements need/
    )
  })

  it('refuses torch.storage._load_from_bytes and other globals', async () => {
    const pickle = bytes(0x80, 2, 'ctorch.storage\n_load_from_bytes\n', 'C', 1, 0, 0x85, 'R.')
    const file = zipFile([['archive/data.pkl', pickle, 'stored']])
    await expect(readTorchCheckpointBuffer(file, 'evil.pth', justW)).rejects.toThrow(
      /Unsupported pickle global 'torch\.storage\._load_from_bytes' in evil\.pth \(archive\/data\.pkl\)/
    )
  })

  it('refuses a file holding no tensors', async () => {
    const file = zipFile([['archive/data.pkl', bytes(0x80, 2, '}.'), 'stored']])
    await expect(readTorchCheckpointBuffer(file, 'empty.pth', justW)).rejects.toThrow(/empty\.pth holds no tensors/)
  })
})

// --- vocabulary ----------------------------------------------------------------------------------

describe('readOfficialVocabulary', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  async function vocabDir(name: string, files: Record<string, Buffer | 'official'>): Promise<string> {
    const dir = join(tmp.dir, name)
    await mkdir(dir)
    for (const [file, content] of Object.entries(files)) {
      if (content === 'official') await symlink(join(VOCAB_DIR, file), join(dir, file))
      else await writeFile(join(dir, file), content)
    }
    return dir
  }

  it('reads the official pickles exactly as tags.json and the .bin hold them', async () => {
    const vocab = await readOfficialVocabulary(VOCAB_DIR)
    const expected = JSON.parse(await readFile(join(SDL_DIR, 'nus-wide/tags.json'), 'utf8')) as { tags: string[]; unseen: string[] }
    expect(vocab.tags).toEqual(expected.tags)
    expect(vocab.unseen).toEqual(expected.unseen)
    expect(vocab.dim).toBe(300)
    const bin = await readFile(join(SDL_DIR, 'nus-wide/wordvecs-1006x300-f32le.bin'))
    expect(Buffer.from(vocab.vectors.buffer, vocab.vectors.byteOffset, vocab.vectors.byteLength).equals(bin)).toBe(true)
  })

  it.each([
    ['C order, big-endian float32', 'f4', '>', false, 'numpy.core.multiarray'],
    ['Fortran order, little-endian float64, numpy 2 module name', 'f8', '<', true, 'numpy._core.multiarray']
  ] as const)('reads %s arrays as one row per tag', async (name, spec, order, fortran, module) => {
    const dir = await vocabDir(name.replace(/\W+/g, '-'), {
      'classes.pickle': pickleOfTags(['cat', 'dog', 'sky']),
      'unseen_classes.pickle': pickleOfList(['sky']),
      'wordvec_array.pickle': numpyPickle(
        [
          [1, 10],
          [2, 20],
          [3.5, -30]
        ],
        spec,
        order,
        fortran,
        module
      )
    })
    const vocab = await readOfficialVocabulary(dir)
    expect(vocab).toEqual({ tags: ['cat', 'dog', 'sky'], unseen: ['sky'], dim: 2, vectors: Float32Array.of(1, 10, 2, 20, 3.5, -30) })
  })

  it('refuses files that disagree, naming them', async () => {
    const vectors = numpyPickle(
      [
        [1, 10],
        [2, 20],
        [3, 30]
      ],
      'f4',
      '<',
      true
    )
    const strangeUnseen = await vocabDir('strange-unseen', {
      'classes.pickle': pickleOfTags(['cat', 'dog', 'sky']),
      'unseen_classes.pickle': pickleOfList(['zebra']),
      'wordvec_array.pickle': vectors
    })
    await expect(readOfficialVocabulary(strangeUnseen)).rejects.toThrow(
      /strange-unseen\/unseen_classes\.pickle lists 'zebra', which is not a tag in .*strange-unseen\/classes\.pickle/
    )
    const fewerTags = await vocabDir('fewer-tags', {
      'classes.pickle': pickleOfTags(['cat', 'dog']),
      'unseen_classes.pickle': pickleOfList([]),
      'wordvec_array.pickle': vectors
    })
    await expect(readOfficialVocabulary(fewerTags)).rejects.toThrow(/fewer-tags\/wordvec_array\.pickle holds 3 word vectors but .*fewer-tags\/classes\.pickle has 2 tags/)
    const missing = await vocabDir('missing', { 'classes.pickle': 'official', 'unseen_classes.pickle': 'official' })
    await expect(readOfficialVocabulary(missing)).rejects.toThrow(/Cannot read .*missing\/wordvec_array\.pickle: no such file/)
  })

  it('refuses a vocabulary file far larger than any, before reading it', async () => {
    const dir = await vocabDir('huge', { 'classes.pickle': 'official', 'unseen_classes.pickle': 'official', 'wordvec_array.pickle': Buffer.alloc(0) })
    await truncate(join(dir, 'wordvec_array.pickle'), 3 * 1024 ** 3) // sparse: takes no disk space
    await expect(readOfficialVocabulary(dir)).rejects.toThrow(/huge\/wordvec_array\.pickle takes 3221225472 bytes, far more than a vocabulary file \(at most 67108864\)/)
  })
})
