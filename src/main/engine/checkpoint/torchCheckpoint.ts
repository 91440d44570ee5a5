import { readFile } from 'node:fs/promises'
import { SdlError } from '../errors'
import { unpickle, type UnpickleOptions } from './pickle'
import { elementCount, type StateDict, type Tensor, type TensorDType } from './tensor'
import { looksLikeZip, ZipArchive } from './zipArchive'

/**
 * Reads the state dict of a PyTorch checkpoint without PyTorch and without running any of the
 * file's code: both torch.save formats (the ZIP archive of torch >= 1.6 and the older stream of
 * pickles) go through the allow-listed unpickler, which only ever builds tensor descriptions.
 * The tensors are materialized afterwards, because the legacy format stores the raw data after
 * the pickle that describes it.
 */
export async function readTorchCheckpoint(path: string): Promise<StateDict> {
  const buffer = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new SdlError(`Cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  })
  return readTorchCheckpointBuffer(buffer, path)
}

/** Same as readTorchCheckpoint for bytes already in memory; `source` names them in errors. */
export function readTorchCheckpointBuffer(buffer: Buffer, source: string): StateDict {
  if (looksLikeZip(buffer)) return readZipCheckpoint(buffer, source)
  if (buffer[0] === PROTO_OPCODE) return readLegacyCheckpoint(buffer, source)
  throw notACheckpoint(source)
}

const PROTO_OPCODE = 0x80
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn
const LEGACY_PROTOCOL_VERSION = 1001
const DAMAGED_HINT = 'The file is incomplete or damaged; download or copy it again.'

/** A torch.<X>Storage class: the element type of the storages that name it. */
class StorageType {
  constructor(
    readonly dtype: TensorDType,
    readonly itemSize: number
  ) {}
}

const STORAGE_TYPES: Record<string, StorageType> = {
  FloatStorage: new StorageType('float32', 4),
  DoubleStorage: new StorageType('float64', 8),
  HalfStorage: new StorageType('float16', 2),
  BFloat16Storage: new StorageType('bfloat16', 2),
  LongStorage: new StorageType('int64', 8),
  IntStorage: new StorageType('int32', 4),
  ShortStorage: new StorageType('int16', 2),
  CharStorage: new StorageType('int8', 1),
  ByteStorage: new StorageType('uint8', 1),
  BoolStorage: new StorageType('bool', 1)
}

/** A persistent id resolved: `numel` elements of type `type`, from element `offset` of storage `key`. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly offset: number,
    readonly numel: number
  ) {}
}

/** What torch._utils._rebuild_tensor* describe: a strided view into a storage. */
class TensorView {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[]
  ) {}
}

function rebuildTensor(storage: unknown, storageOffset: unknown, size: unknown, stride: unknown): TensorView {
  if (!(storage instanceof StorageRef)) throw new Error('its storage is not a torch storage')
  const shape = indexList(size, 'size')
  const strides = indexList(stride, 'stride')
  if (shape.length !== strides.length) throw new Error('size and stride differ in length')
  return new TensorView(storage, index(storageOffset, 'storage offset'), shape, strides)
}

/** The only Python names a checkpoint may use; everything else (torch.storage._load_from_bytes included) is refused. */
const GLOBALS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ...Object.entries(STORAGE_TYPES).map(([name, type]): [string, unknown] => [`torch.${name}`, type]),
  ['torch._utils._rebuild_tensor', rebuildTensor],
  // requires_grad, backward hooks and metadata do not matter for inference.
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  [
    'torch._utils._rebuild_parameter',
    (data: unknown) => {
      if (!(data instanceof TensorView)) throw new Error('its data is not a tensor')
      return data
    }
  ],
  // Python 2 pickled an OrderedDict's items as an argument; Python 3 sends them with SETITEMS.
  ['collections.OrderedDict', (items?: unknown) => new Map(items === undefined ? [] : pairs(items))]
])

// --- zip format ------------------------------------------------------------------------------

function readZipCheckpoint(buffer: Buffer, source: string): StateDict {
  const zip = ZipArchive.open(buffer, source)
  // Entries live under one top-level folder named after the file torch.save first wrote.
  const pickleName = [...zip.entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name))
  if (!pickleName) {
    throw new SdlError(`${source} is a ZIP archive but not a PyTorch checkpoint: it has no data.pkl.`)
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length)
  const byteOrderName = `${prefix}byteorder`
  if (zip.entries.has(byteOrderName)) checkLittleEndian(zip.read(byteOrderName).toString('latin1') === 'little', source)

  const root = unpickle(zip.read(pickleName), {
    source: `${source} (${pickleName})`,
    globals: GLOBALS,
    persistentLoad: (pid) => {
      const [type, key, , numel] = storagePid(pid, 5)
      return new StorageRef(key, type, 0, numel)
    }
  }).value

  return buildStateDict(root, source, (ref) => {
    const name = `data/${ref.key}`
    if (!zip.entries.has(prefix + name)) {
      throw new SdlError(`${source} is damaged: storage '${name}' is missing from the archive.`, DAMAGED_HINT)
    }
    const bytes = zip.read(prefix + name)
    if (bytes.length < (ref.offset + ref.numel) * ref.type.itemSize) {
      throw new SdlError(
        `${source} is damaged: storage '${name}' holds ${bytes.length} bytes, fewer than its ${ref.numel} elements need.`,
        DAMAGED_HINT
      )
    }
    return bytes
  })
}

// --- legacy format ---------------------------------------------------------------------------

/**
 * Pre-1.6 torch.save: pickles for the magic number, the format version and sys_info, then the
 * object (whose persistent ids name root storages, optionally viewed at an element offset), then
 * the list of storage keys, then each storage as an int64 element count and its raw bytes.
 */
function readLegacyCheckpoint(buffer: Buffer, source: string): StateDict {
  let position = 0
  const next = (options: Partial<UnpickleOptions> = {}): unknown => {
    const result = unpickle(buffer, { source, globals: GLOBALS, ...options, offset: position })
    position = result.end
    return result.value
  }
  if (next() !== LEGACY_MAGIC) throw notACheckpoint(source)
  const version = next()
  if (version !== LEGACY_PROTOCOL_VERSION) {
    throw new SdlError(`${source} uses legacy torch.save format version ${String(version)}, which is not supported.`)
  }
  const sysInfo = next()
  if (!(sysInfo instanceof Map)) throw new SdlError(`${source} is damaged: its sys_info is not a dict.`, DAMAGED_HINT)
  checkLittleEndian(sysInfo.get('little_endian') === true, source)

  const roots = new Map<string, { type: StorageType; numel: number }>()
  const root = next({
    persistentLoad: (pid) => {
      const [type, key, , numel, view] = storagePid(pid, 6)
      roots.set(key, { type, numel })
      if (view === null) return new StorageRef(key, type, 0, numel)
      if (!Array.isArray(view) || view.length !== 3) throw new Error('bad storage view metadata')
      return new StorageRef(key, type, index(view[1], 'view offset'), index(view[2], 'view size'))
    }
  })
  const keys = next()
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) {
    throw new SdlError(`${source} is damaged: its storage key list is not a list of strings.`, DAMAGED_HINT)
  }

  const storages = new Map<string, Uint8Array>()
  for (const key of keys) {
    const info = roots.get(key)
    if (!info) throw new SdlError(`${source} is damaged: it stores data for unknown storage '${key}'.`, DAMAGED_HINT)
    const truncated = new SdlError(
      `${source} is truncated: storage '${key}' ends past the end of the file.`,
      'The file is incomplete; download or copy it again.'
    )
    if (position + 8 > buffer.length) throw truncated
    const count = buffer.readBigInt64LE(position)
    const end = position + 8 + Number(count) * info.type.itemSize
    if (count < 0n || end > buffer.length) throw truncated
    storages.set(key, buffer.subarray(position + 8, end))
    position = end
  }

  return buildStateDict(root, source, (ref) => {
    const bytes = storages.get(ref.key)
    if (!bytes) throw new SdlError(`${source} is damaged: storage '${ref.key}' is missing.`, DAMAGED_HINT)
    if (bytes.length < (ref.offset + ref.numel) * ref.type.itemSize) {
      throw new SdlError(
        `${source} is damaged: storage '${ref.key}' is shorter than the views into it need.`,
        DAMAGED_HINT
      )
    }
    return bytes
  })
}

// --- shared ----------------------------------------------------------------------------------

/** Validates ('storage', type, key, location, numel[, view]) and returns the fields after 'storage'. */
function storagePid(pid: unknown, length: number): [StorageType, string, unknown, number, unknown] {
  if (!Array.isArray(pid) || pid.length !== length || pid[0] !== 'storage') {
    throw new Error(`unexpected persistent id ${describe(pid)}`)
  }
  const [, type, key, location, numel, view] = pid
  if (!(type instanceof StorageType)) throw new Error('persistent id names no storage type')
  if (typeof key !== 'string') throw new Error('persistent id has no storage key')
  return [type, key, location, index(numel, 'storage size'), view]
}

function checkLittleEndian(little: boolean, source: string): void {
  if (!little) {
    throw new SdlError(`${source} was saved on a big-endian machine, which this reader does not support.`)
  }
}

/**
 * Picks the state dict (`state_dict` or `model` of a training checkpoint, or the whole object)
 * and copies each tensor out of its storage. BatchNorm's num_batches_tracked counters are dropped:
 * they only matter for training.
 */
function buildStateDict(root: unknown, source: string, storageBytes: (ref: StorageRef) => Uint8Array): StateDict {
  const dict =
    root instanceof Map ? [root.get('state_dict'), root.get('model')].find((v) => v instanceof Map) ?? root : undefined
  const stateDict: StateDict = new Map()
  for (const [key, value] of dict instanceof Map ? dict : []) {
    if (typeof key !== 'string' || !(value instanceof TensorView) || key.endsWith('num_batches_tracked')) continue
    stateDict.set(key, materialize(key, value, storageBytes(value.storage), source))
  }
  if (stateDict.size === 0) {
    throw new SdlError(
      `${source} holds no tensors: expected a state dict, or a dict with 'model' or 'state_dict' holding one.`
    )
  }
  return stateDict
}

type StoredArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array

/** Typed-array views in the host's byte order; every platform Node runs on is little-endian. */
const ARRAY_OF: Record<TensorDType, (buffer: ArrayBuffer) => StoredArray> = {
  float32: (b) => new Float32Array(b),
  float64: (b) => new Float64Array(b),
  float16: (b) => new Uint16Array(b),
  bfloat16: (b) => new Uint16Array(b),
  int64: (b) => new BigInt64Array(b),
  int32: (b) => new Int32Array(b),
  int16: (b) => new Int16Array(b),
  int8: (b) => new Int8Array(b),
  uint8: (b) => new Uint8Array(b),
  bool: (b) => new Uint8Array(b)
}

function materialize(key: string, view: TensorView, root: Uint8Array, source: string): Tensor {
  const { type, numel: available } = view.storage
  const numel = elementCount(view.shape)
  // The highest element the view reads, relative to the (possibly offset) storage.
  const last = view.shape.reduce((at, size, d) => at + (size - 1) * view.stride[d], view.storageOffset)
  if (numel > 0 && last >= available) {
    throw new SdlError(
      `${source} is damaged: tensor '${key}' (shape [${view.shape}], stride [${view.stride}], offset ` +
        `${view.storageOffset}) reads element ${last} of a storage that holds ${available}.`,
      DAMAGED_HINT
    )
  }
  // Copy just the elements the view spans into a fresh, aligned buffer.
  const spanned = numel === 0 ? 0 : last - view.storageOffset + 1
  const start = (view.storage.offset + view.storageOffset) * type.itemSize
  const region = new Uint8Array(spanned * type.itemSize)
  region.set(root.subarray(start, start + region.length))
  const elements = ARRAY_OF[type.dtype](region.buffer)
  const data = isContiguous(view.shape, view.stride) ? elements : gather(elements, view.shape, view.stride, type)
  return { dtype: type.dtype, shape: [...view.shape], data: widen(data, type.dtype) }
}

/** Row-major with no gaps; dimensions of size 1 may carry any stride. */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false
    expected *= shape[d]
  }
  return true
}

/** Element access shared by all typed arrays; source and target always have the same type. */
type Elements = { readonly length: number; [i: number]: number | bigint }

/** Reads a non-contiguous view (e.g. a transposed weight) into row-major order. */
function gather(source: Elements, shape: number[], stride: number[], type: StorageType): StoredArray {
  const out = ARRAY_OF[type.dtype](new ArrayBuffer(elementCount(shape) * type.itemSize))
  const target: Elements = out
  const counter = shape.map(() => 0)
  let at = 0
  for (let i = 0; i < out.length; i++) {
    target[i] = source[at]
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++counter[d] < shape[d]) {
        at += stride[d]
        break
      }
      at -= (shape[d] - 1) * stride[d]
      counter[d] = 0
    }
  }
  return out
}

/** The engine computes in float32, so other float widths become Float32Array (dtype keeps the stored one). */
function widen(data: StoredArray, dtype: TensorDType): Tensor['data'] {
  if (data instanceof Float64Array) return Float32Array.from(data)
  if (dtype === 'float16') return Float32Array.from(data as Uint16Array, halfToFloat)
  if (dtype === 'bfloat16') {
    // bfloat16 is the top half of a float32.
    const bits = Uint32Array.from(data as Uint16Array, (h) => h << 16)
    return new Float32Array(bits.buffer)
  }
  return data as Exclude<StoredArray, Float64Array | Uint16Array>
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exponent = (h >> 10) & 0x1f
  const fraction = h & 0x3ff
  if (exponent === 0) return sign * fraction * 2 ** -24
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15)
}

function index(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`bad ${what} ${describe(value)}`)
  }
  return value
}

function indexList(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a tuple`)
  return value.map((v) => index(v, what))
}

function pairs(items: unknown): [unknown, unknown][] {
  if (!Array.isArray(items) || !items.every((item) => Array.isArray(item) && item.length === 2)) {
    throw new Error('OrderedDict items are not key/value pairs')
  }
  return items as [unknown, unknown][]
}

function describe(value: unknown): string {
  if (value instanceof Map) return 'a dict'
  if (Array.isArray(value)) return `a tuple of ${value.length}`
  return value === null ? 'None' : typeof value === 'string' ? `'${value}'` : typeof value
}

function notACheckpoint(source: string): SdlError {
  return new SdlError(
    `${source} is not a PyTorch checkpoint: it is neither a torch.save ZIP archive nor a legacy torch.save file.`,
    'Choose the .pth file of the model.'
  )
}
