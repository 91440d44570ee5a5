import { SdlError } from '../errors'
import { bufferSource, withFileSource, type ByteSource } from './byteSource'
import { TruncatedPickleError, unpickle, type UnpickleOptions } from './pickle'
import { elementCount, type ExpectedTensor, type StateDict, type Tensor, type TensorDType, type TensorManifest } from './tensor'
import { looksLikeZip, UNEXPECTED_HINT, ZipArchive } from './zipArchive'

/**
 * Reads the tensors that `expected` lists from a PyTorch checkpoint, without PyTorch and without
 * running any of the file's code: both torch.save formats (the ZIP archive of torch >= 1.6 and the
 * older stream of pickles) go through the allow-listed unpickler, which only ever builds tensor
 * descriptions. Every description is checked against `expected` before any tensor data is read,
 * and each storage is read only up to what its tensors need, so no file can make this take more
 * memory than the model's own tensors (plus a pickle of at most MAX_PICKLE_BYTES).
 */
export async function readTorchCheckpoint(path: string, expected: TensorManifest): Promise<StateDict> {
  return withFileSource(path, (bytes) => readCheckpoint(bytes, expected))
}

/** Same as readTorchCheckpoint for bytes already in memory; `source` names them in errors. */
export async function readTorchCheckpointBuffer(buffer: Buffer, source: string, expected: TensorManifest): Promise<StateDict> {
  return readCheckpoint(bufferSource(buffer, source), expected)
}

async function readCheckpoint(bytes: ByteSource, expected: TensorManifest): Promise<StateDict> {
  const head = await bytes.read(0, 4)
  if (looksLikeZip(head)) return readZipCheckpoint(bytes, expected)
  if (head[0] === PROTO_OPCODE) return readLegacyCheckpoint(bytes, expected)
  throw notACheckpoint(bytes.name)
}

/**
 * A state dict's pickle only describes its tensors, in a few hundred bytes each (the official
 * model's takes 65 KB); a pickle of megabytes is not a model's.
 */
const MAX_PICKLE_BYTES = 8 * 1024 * 1024
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

/**
 * A persistent id resolved: `numel` elements of type `type`, from element `offset` of storage
 * `key`, which holds `rootNumel` elements in all (legacy files can view part of a storage).
 */
class StorageRef {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly offset: number,
    readonly numel: number,
    readonly rootNumel: number
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

async function readZipCheckpoint(bytes: ByteSource, expected: TensorManifest): Promise<StateDict> {
  const source = bytes.name
  const zip = await ZipArchive.open(bytes)
  // Entries live under one top-level folder named after the file torch.save first wrote.
  const pickleName = [...zip.entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name))
  if (!pickleName) {
    throw new SdlError(`${source} is a ZIP archive but not a PyTorch checkpoint: it has no data.pkl.`)
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length)
  const byteOrderName = `${prefix}byteorder`
  if (zip.entries.has(byteOrderName)) {
    checkLittleEndian((await zip.read(byteOrderName, 'little'.length)).toString('latin1') === 'little', source)
  }

  const root = unpickle(await zip.read(pickleName, MAX_PICKLE_BYTES), {
    source: `${source} (${pickleName})`,
    globals: GLOBALS,
    persistentLoad: (pid) => {
      const [type, key, , numel] = storagePid(pid, 5)
      return new StorageRef(key, type, 0, numel, numel)
    }
  }).value

  return buildStateDict(root, source, expected, {
    name: (key) => `data/${key}`,
    read: async (key, byteLength) => {
      const name = `${prefix}data/${key}`
      if (!zip.entries.has(name)) {
        throw new SdlError(`${source} is damaged: storage 'data/${key}' is missing from the archive.`, DAMAGED_HINT)
      }
      return zip.read(name, byteLength)
    }
  })
}

// --- legacy format ---------------------------------------------------------------------------

/**
 * Pre-1.6 torch.save: pickles for the magic number, the format version and sys_info, then the
 * object (whose persistent ids name root storages, optionally viewed at an element offset), then
 * the list of storage keys, then each storage as an int64 element count and its raw bytes.
 */
async function readLegacyCheckpoint(bytes: ByteSource, expected: TensorManifest): Promise<StateDict> {
  const source = bytes.name
  // Only the pickles are read whole; they come first, and the storages are read one by one later.
  const head = await bytes.read(0, MAX_PICKLE_BYTES)
  let position = 0
  const next = (options: Partial<UnpickleOptions> = {}): unknown => {
    try {
      const result = unpickle(head, { source, globals: GLOBALS, ...options, offset: position })
      position = result.end
      return result.value
    } catch (err) {
      if (!(err instanceof TruncatedPickleError) || head.length === bytes.size) throw err
      throw new SdlError(`${source}: its pickles run past the first ${MAX_PICKLE_BYTES} bytes, more than any model's state dict needs.`, UNEXPECTED_HINT)
    }
  }
  if (next() !== LEGACY_MAGIC) throw notACheckpoint(source)
  const version = next()
  if (version !== LEGACY_PROTOCOL_VERSION) {
    throw new SdlError(`${source} uses legacy torch.save format version ${String(version)}, which is not supported.`)
  }
  const sysInfo = next()
  if (!(sysInfo instanceof Map)) throw new SdlError(`${source} is damaged: its sys_info is not a dict.`, DAMAGED_HINT)
  checkLittleEndian(sysInfo.get('little_endian') === true, source)

  const roots = new Map<string, StorageType>()
  const root = next({
    persistentLoad: (pid) => {
      const [type, key, , numel, view] = storagePid(pid, 6)
      roots.set(key, type)
      if (view === null) return new StorageRef(key, type, 0, numel, numel)
      if (!Array.isArray(view) || view.length !== 3) throw new Error('bad storage view metadata')
      return new StorageRef(key, type, index(view[1], 'view offset'), index(view[2], 'view size'), numel)
    }
  })
  const keys = next()
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) {
    throw new SdlError(`${source} is damaged: its storage key list is not a list of strings.`, DAMAGED_HINT)
  }
  const stored = await locateLegacyStorages(bytes, keys, roots, position)

  return buildStateDict(root, source, expected, {
    name: (key) => key,
    read: async (key, byteLength) => {
      const at = stored.get(key)
      if (!at) throw new SdlError(`${source} is damaged: storage '${key}' is missing.`, DAMAGED_HINT)
      if (at.byteLength > byteLength) {
        throw new SdlError(`${source}: storage '${key}' holds ${at.byteLength} bytes, more than the ${byteLength} its description declares.`, UNEXPECTED_HINT)
      }
      return bytes.read(at.offset, at.byteLength)
    }
  })
}

/** Where each storage's bytes lie, found from the element counts alone, without reading any data. */
async function locateLegacyStorages(
  bytes: ByteSource,
  keys: string[],
  roots: ReadonlyMap<string, StorageType>,
  start: number
): Promise<Map<string, { offset: number; byteLength: number }>> {
  const source = bytes.name
  const located = new Map<string, { offset: number; byteLength: number }>()
  let position = start
  for (const key of keys) {
    const type = roots.get(key)
    if (!type) throw new SdlError(`${source} is damaged: it stores data for unknown storage '${key}'.`, DAMAGED_HINT)
    const count = position + 8 <= bytes.size ? (await bytes.read(position, 8)).readBigInt64LE(0) : -1n
    const end = BigInt(position + 8) + count * BigInt(type.itemSize)
    if (count < 0n || end > BigInt(bytes.size)) {
      throw new SdlError(`${source} is truncated: storage '${key}' ends past the end of the file.`, 'The file is incomplete; download or copy it again.')
    }
    located.set(key, { offset: position + 8, byteLength: Number(end) - position - 8 })
    position = Number(end)
  }
  return located
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

/** How a format names its storages in errors, and reads one (at most `byteLength` bytes). */
interface StorageReader {
  name(key: string): string
  read(key: string, byteLength: number): Promise<Uint8Array>
}

/**
 * Picks the state dict (`state_dict` or `model` of a training checkpoint, or the whole object),
 * checks every tensor `expected` lists against it, then reads each storage those tensors use,
 * once, and copies the tensors out of it. Other entries (BatchNorm's num_batches_tracked, an
 * optimizer's state) are never read.
 */
async function buildStateDict(root: unknown, source: string, expected: TensorManifest, storages: StorageReader): Promise<StateDict> {
  const views = expectedViews(root, source, expected)
  const byStorage = new Map<string, [string, TensorView][]>()
  for (const [key, view] of views) {
    const group = byStorage.get(view.storage.key) ?? []
    group.push([key, view])
    byStorage.set(view.storage.key, group)
  }
  const largest = Math.max(...[...expected.tensors.values()].map(byteSize))
  const tensors = new Map<string, Tensor>()
  for (const [storageKey, group] of byStorage) {
    const name = storages.name(storageKey)
    const declared = Math.max(...group.map(([, view]) => view.storage.rootNumel * view.storage.type.itemSize))
    // Views may leave part of a storage unused, but never more than the model's largest tensor.
    const allowed = largest + group.reduce((sum, [key]) => sum + byteSize(expected.tensors.get(key)!), 0)
    if (declared > allowed) {
      throw new SdlError(`${source}: storage '${name}' declares ${declared} bytes, more than the ${allowed} that ${expected.model} can need for '${group[0][0]}'.`, expected.hint)
    }
    const bytes = await storages.read(storageKey, declared)
    for (const [key, view] of group) {
      const { offset, numel, type } = view.storage
      if (bytes.length < (offset + numel) * type.itemSize) {
        throw new SdlError(`${source} is damaged: storage '${name}' holds ${bytes.length} bytes, fewer than its ${offset + numel} elements need.`, DAMAGED_HINT)
      }
      tensors.set(key, materialize(view, bytes))
    }
  }
  return new Map([...views.keys()].map((key) => [key, tensors.get(key)!]))
}

/** The expected tensors' views, in the file's order, each checked against its expected shape and dtype. */
function expectedViews(root: unknown, source: string, expected: TensorManifest): Map<string, TensorView> {
  const dict = root instanceof Map ? ([root.get('state_dict'), root.get('model')].find((v) => v instanceof Map) ?? root) : undefined
  const entries = dict instanceof Map ? [...dict] : []
  if (!entries.some(([, value]) => value instanceof TensorView)) {
    throw new SdlError(`${source} holds no tensors: expected a state dict, or a dict with 'model' or 'state_dict' holding one.`)
  }
  const views = new Map<string, TensorView>()
  for (const [key, value] of entries) {
    const spec = typeof key === 'string' ? expected.tensors.get(key) : undefined
    if (!spec) continue
    if (!(value instanceof TensorView)) {
      throw new SdlError(`${source}: '${key}' is ${describe(value)}, not a tensor as ${expected.model} expects.`, expected.hint)
    }
    checkView(key, value, spec, source, expected)
    views.set(key, value)
  }
  const missing = [...expected.tensors.keys()].find((key) => !views.has(key))
  if (missing !== undefined) {
    throw new SdlError(`${source} lacks tensor '${missing}', which ${expected.model} needs.`, expected.hint)
  }
  return views
}

/**
 * Refuses a view whose dtype or shape the model does not expect, whose strides make elements
 * overlap (stride 0 repeats one element across a whole dimension), or that reads past its storage.
 */
function checkView(key: string, view: TensorView, spec: ExpectedTensor, source: string, expected: TensorManifest): void {
  const { dtype } = view.storage.type
  const layout = `shape [${view.shape}], stride [${view.stride}], offset ${view.storageOffset}`
  const refuse = (why: string) => new SdlError(`${source}: tensor '${key}' ${why}.`, expected.hint)
  if (!spec.dtypes.includes(dtype)) throw refuse(`has dtype ${dtype} but ${expected.model} expects ${spec.dtypes.join(' or ')}`)
  if (view.shape.length !== spec.shape.length || view.shape.some((size, d) => size !== spec.shape[d])) {
    const note = spec.note ? ` (${spec.note})` : ''
    throw refuse(`has shape [${view.shape}] but ${expected.model} expects [${spec.shape}]${note}`)
  }
  // Walking the dimensions from the smallest stride up, each must step past every element the smaller ones reach.
  const dims = view.shape.map((size, d) => ({ size, d, stride: view.stride[d] })).filter((dim) => dim.size > 1)
  let reach = 0
  for (const { size, d, stride } of dims.sort((a, b) => a.stride - b.stride)) {
    if (stride === 0) throw refuse(`has stride 0 in dimension ${d} (${layout}), so its elements overlap`)
    if (stride <= reach) throw refuse(`has strides that make its elements overlap or interleave (${layout})`)
    reach += (size - 1) * stride
  }
  const last = view.storageOffset + reach
  if (elementCount(view.shape) > 0 && last >= view.storage.numel) {
    throw new SdlError(`${source} is damaged: tensor '${key}' (${layout}) reads element ${last} of a storage that holds ${view.storage.numel}.`, DAMAGED_HINT)
  }
}

/** The most bytes `spec`'s tensor can take in the file, in the widest dtype it may be stored in. */
function byteSize(spec: ExpectedTensor): number {
  return elementCount(spec.shape) * Math.max(...spec.dtypes.map((dtype) => ITEM_SIZES[dtype]))
}

const ITEM_SIZES: Record<TensorDType, number> = Object.fromEntries(Object.values(STORAGE_TYPES).map((type) => [type.dtype, type.itemSize])) as Record<TensorDType, number>

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

/** Copies a view that checkView accepted out of its storage's bytes, row-major. */
function materialize(view: TensorView, root: Uint8Array): Tensor {
  const { type } = view.storage
  const numel = elementCount(view.shape)
  // The highest element the view reads, relative to the (possibly offset) storage.
  const last = view.shape.reduce((at, size, d) => at + (size - 1) * view.stride[d], view.storageOffset)
  const spanned = numel === 0 ? 0 : last - view.storageOffset + 1
  const start = (view.storage.offset + view.storageOffset) * type.itemSize
  const length = spanned * type.itemSize
  // A storage read into a buffer of its own that the view spans whole is used as it is; anything
  // else is copied into a fresh, aligned buffer, so a tensor never keeps a file's bytes alive.
  const owned = root.byteOffset === 0 && root.byteLength === root.buffer.byteLength && start === 0 && length === root.byteLength
  const region = owned ? root : new Uint8Array(length)
  if (!owned) region.set(root.subarray(start, start + length))
  const elements = ARRAY_OF[type.dtype](region.buffer as ArrayBuffer)
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
  return new SdlError(`${source} is not a PyTorch checkpoint: it is neither a torch.save ZIP archive nor a legacy torch.save file.`, 'Choose the .pth file of the model.')
}
