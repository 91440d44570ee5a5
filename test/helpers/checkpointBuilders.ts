import { constants, deflateRawSync } from 'node:zlib'

/**
 * Builders for synthetic torch.save files (both formats) and the pickles in them, so tests can
 * make small, damaged or hostile checkpoints byte by byte.
 */

export function bytes(...parts: Array<string | number | Uint8Array>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : typeof p === 'number' ? Buffer.of(p) : Buffer.from(p))))
}
export const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer)
export const i32 = (n: number) => Buffer.from(Int32Array.of(n).buffer)
export const str = (s: string) => bytes('X', u32(Buffer.byteLength(s)), Buffer.from(s))
export const int = (n: number) => bytes('J', i32(n))
const ints = (list: number[]) => bytes('(', ...list.map(int), 't')

export interface FakeTensor {
  key: string
  type: string
  storage: string
  numel: number
  offset: number
  size: number[]
  stride: number[]
  /** Legacy storage view: (view key, element offset, element count). */
  view?: [string, number, number]
}

/** A contiguous float32 tensor of `shape` with storage `storage` of its own. */
export function contiguousTensor(key: string, shape: number[], storage: string): FakeTensor {
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1))
  return { key, type: 'FloatStorage', storage, numel: shape.reduce((a, b) => a * b, 1), offset: 0, size: shape, stride }
}

/** The body of a dict of _rebuild_tensor_v2 calls, each storage given by `pid`. */
function stateDictPickle(tensors: FakeTensor[], pid: (t: FakeTensor) => Uint8Array): Buffer {
  return bytes(
    '}(',
    ...tensors.map((t) =>
      bytes(str(t.key), 'ctorch._utils\n_rebuild_tensor_v2\n(', pid(t), 'Q', int(t.offset), ints(t.size), ints(t.stride), 0x89, 'ccollections\nOrderedDict\n)R', 'tR')
    ),
    'u'
  )
}

const wrapped = (key: string, body: Buffer) => bytes('}(', str(key), body, str('epoch'), int(3), 'u')

/** A legacy torch.save stream; each storage is (key, raw bytes, element count written before them). */
export function legacyCheckpoint(tensors: FakeTensor[], storages: Array<[string, Buffer, number]>, wrapIn?: string): Buffer {
  const magic = bytes(0x80, 2, 0x8a, 0x0a, Buffer.from('6cfc9c46f9206aa85019', 'hex'), '.')
  const sysInfo = bytes(0x80, 2, '}(', str('protocol_version'), int(1001), str('little_endian'), 0x88, 'u.')
  const pid = (t: FakeTensor) =>
    bytes('(', str('storage'), `ctorch\n${t.type}\n`, str(t.storage), str('cpu'), int(t.numel), t.view ? bytes('(', str(t.view[0]), int(t.view[1]), int(t.view[2]), 't') : 'N', 't')
  const body = stateDictPickle(tensors, pid)
  return bytes(
    magic,
    bytes(0x80, 2, int(1001), '.'),
    sysInfo,
    0x80,
    2,
    wrapIn ? wrapped(wrapIn, body) : body,
    '.',
    bytes(0x80, 2, ']', '(', ...storages.map(([key]) => str(key)), 'e.'),
    ...storages.map(([, data, numel]) => bytes(Buffer.from(BigInt64Array.of(BigInt(numel)).buffer), data))
  )
}

/**
 * One ZIP entry: STORED or DEFLATE data, or data already raw-deflated ('deflated') together with
 * the uncompressed size the directory is to claim for it.
 */
export type ZipEntrySpec = [name: string, data: Buffer, method: 'stored' | 'deflate'] | [name: string, data: Buffer, method: 'deflated', size: number]

/** A plain ZIP: no zip64, as `zip` tools write (unlike torch). */
export function zipFile(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, data, method, claimed] of entries) {
    const packed = method === 'deflate' ? deflateRawSync(data) : data
    const size = method === 'deflated' ? claimed! : data.length
    const fields = (sig: number) => {
      const header = Buffer.alloc(sig === 0x04034b50 ? 30 : 46)
      header.writeUInt32LE(sig, 0)
      const at = sig === 0x04034b50 ? 8 : 10 // method
      header.writeUInt16LE(method === 'stored' ? 0 : 8, at)
      header.writeUInt32LE(packed.length, at + 10)
      header.writeUInt32LE(size, at + 14)
      header.writeUInt16LE(Buffer.byteLength(name), at + 18)
      if (sig !== 0x04034b50) header.writeUInt32LE(offset, 42)
      return Buffer.concat([header, Buffer.from(name)])
    }
    const local = Buffer.concat([fields(0x04034b50), packed])
    centrals.push(fields(0x02014b50))
    locals.push(local)
    offset += local.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

/** The data.pkl of a zip checkpoint holding `tensors` (wrapped in a dict under `wrapIn` if given). */
export function zipPickle(tensors: FakeTensor[], wrapIn?: string): Buffer {
  const pid = (t: FakeTensor) => bytes('(', str('storage'), `ctorch\n${t.type}\n`, str(t.storage), str('cpu'), int(t.numel), 't')
  const body = stateDictPickle(tensors, pid)
  return bytes(0x80, 2, wrapIn ? wrapped(wrapIn, body) : body, '.')
}

/** A zip checkpoint: data.pkl, byteorder, and the given entries under archive/data/. */
export function zipCheckpoint(pickle: Buffer, storages: Array<[string, Buffer]>, extra: ZipEntrySpec[] = []): Buffer {
  return zipFile([
    ['archive/data.pkl', pickle, 'deflate'],
    ['archive/byteorder', Buffer.from('little'), 'stored'],
    ...storages.map(([key, data]): ZipEntrySpec => [`archive/data/${key}`, data, 'stored']),
    ...extra
  ])
}

/**
 * Raw DEFLATE data that inflates to `mebibytes` MiB of zeros, built without ever holding them:
 * each 1 MiB chunk ends on a full flush, so it is byte-aligned and independent of the others, and
 * the same chunk can simply repeat (about 1 KiB of file per MiB of output).
 */
export function zeroBomb(mebibytes: number): Buffer {
  const chunk = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH })
  return Buffer.concat([...Array<Buffer>(mebibytes).fill(chunk), deflateRawSync(Buffer.alloc(0))])
}
