import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SdlError } from '../errors'
import { setState, unpickle, type Stateful } from './pickle'

export interface OfficialVocabulary {
  /** Tag names in class-index order. */
  tags: string[]
  /** Tags the model never saw in training: a subset of `tags`, in the same order. */
  unseen: string[]
  /** Word-vector dimension. */
  dim: number
  /** Row-major [tag][dim] word vectors, one row per entry of `tags`. */
  vectors: Float32Array
}

const CLASSES = 'classes.pickle'
const UNSEEN = 'unseen_classes.pickle'
const WORDVECS = 'wordvec_array.pickle'
const VOCABULARY_HINT = `The vocabulary folder must hold ${CLASSES}, ${UNSEEN} and ${WORDVECS} from the official SDL repository.`

/**
 * Reads the official SDL vocabulary pickles (Alibaba-MIIL/ZS_SDL): classes.pickle (dict index ->
 * tag), unseen_classes.pickle (list of tags) and wordvec_array.pickle (a numpy (D, T) array, one
 * column per tag), and checks that they agree with each other.
 */
export async function readOfficialVocabulary(dir: string): Promise<OfficialVocabulary> {
  const classesPath = join(dir, CLASSES)
  const unseenPath = join(dir, UNSEEN)
  const wordvecPath = join(dir, WORDVECS)
  const tags = tagList(await load(classesPath), classesPath)
  const known = new Set(tags)

  const unseen = await load(unseenPath)
  if (!Array.isArray(unseen) || !unseen.every((tag) => typeof tag === 'string')) {
    throw new SdlError(`${unseenPath} is not a list of tag names.`, VOCABULARY_HINT)
  }
  const stranger = unseen.find((tag) => !known.has(tag))
  if (stranger !== undefined) {
    throw new SdlError(`${unseenPath} lists '${stranger}', which is not a tag in ${classesPath}.`, VOCABULARY_HINT)
  }

  const array = await load(wordvecPath)
  if (!(array instanceof NdArray) || array.shape.length !== 2) {
    throw new SdlError(`${wordvecPath} is not a 2-D numpy array of word vectors.`, VOCABULARY_HINT)
  }
  const [dim, count] = array.shape
  if (count !== tags.length) {
    throw new SdlError(`${wordvecPath} holds ${count} word vectors but ${classesPath} has ${tags.length} tags.`, VOCABULARY_HINT)
  }
  // The pickle's order is arbitrary (the list came from a set); index order is stable and matches tags.json.
  const unseenSet = new Set(unseen)
  return { tags, unseen: tags.filter((tag) => unseenSet.has(tag)), dim, vectors: transposeToRows(array, wordvecPath) }
}

/**
 * The official files take 1.2 MB at most (the word vectors); parsing one takes a few times its
 * size, so a file far larger is refused before it is read.
 */
const MAX_FILE_BYTES = 64 * 1024 * 1024

async function load(path: string): Promise<unknown> {
  const cannotRead = (err: NodeJS.ErrnoException) => {
    throw new SdlError(`Cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, VOCABULARY_HINT)
  }
  const { size } = await stat(path).catch(cannotRead)
  if (size > MAX_FILE_BYTES) {
    throw new SdlError(`${path} takes ${size} bytes, far more than a vocabulary file (at most ${MAX_FILE_BYTES}).`, VOCABULARY_HINT)
  }
  const bytes = await readFile(path).catch(cannotRead)
  return unpickle(bytes, { source: path, globals: NUMPY_GLOBALS }).value
}

/** classes.pickle maps 0..T-1 to tag names; any gap, extra key or repeated name is an error. */
function tagList(classes: unknown, path: string): string[] {
  if (!(classes instanceof Map)) throw new SdlError(`${path} is not a dict of tag names.`, VOCABULARY_HINT)
  const tags: string[] = []
  for (const [index, tag] of classes) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= classes.size) {
      throw new SdlError(`${path} has key ${String(index)}; expected indices 0 to ${classes.size - 1}.`, VOCABULARY_HINT)
    }
    if (typeof tag !== 'string') throw new SdlError(`${path} maps ${index} to something that is not a tag name.`, VOCABULARY_HINT)
    tags[index] = tag
  }
  const seen = new Set<string>()
  for (const tag of tags) {
    if (seen.has(tag)) throw new SdlError(`${path} lists the tag '${tag}' twice.`, VOCABULARY_HINT)
    seen.add(tag)
  }
  return tags
}

// --- numpy arrays ----------------------------------------------------------------------------

/**
 * numpy.dtype as pickled: `dtype('f4', False, True)` then BUILD with
 * (version, byteorder, ...). Only the kind, width and byte order matter here.
 */
class NumpyDtype implements Stateful {
  byteOrder = '='

  constructor(readonly spec: string) {}

  [setState](state: unknown): void {
    if (!Array.isArray(state) || typeof state[1] !== 'string') throw new Error('bad numpy dtype state')
    this.byteOrder = state[1]
  }
}

/**
 * An ndarray as pickled: `_reconstruct(ndarray, (0,), b'b')` makes an empty array, then BUILD
 * with ([version,] shape, dtype, is_fortran, raw data).
 */
class NdArray implements Stateful {
  [setState](state: unknown): void {
    if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5)) throw new Error('bad numpy array state')
    const [shape, dtype, fortranOrder, data] = state.slice(-4)
    if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new Error('bad numpy array shape')
    }
    if (!(dtype instanceof NumpyDtype)) throw new Error('numpy array without a dtype')
    this.shape = shape
    this.dtype = dtype
    this.fortranOrder = fortranOrder === true
    // Python 2 pickles carry the raw data as a str, which the unpickler decoded as latin1.
    if (typeof data === 'string') this.data = Buffer.from(data, 'latin1')
    else if (data instanceof Uint8Array) this.data = data
    else throw new Error('numpy array data is not raw bytes (object arrays are not supported)')
  }

  // Fields follow the method: after an initializer, a line starting with `[setState]` would index it.
  shape: number[] = []
  dtype = new NumpyDtype('')
  fortranOrder = false
  data: Uint8Array = new Uint8Array()
}

const ndarrayClass = Symbol('numpy.ndarray')

function reconstruct(subtype: unknown): NdArray {
  if (subtype !== ndarrayClass) throw new Error('only plain numpy.ndarray can be reconstructed')
  return new NdArray()
}

/**
 * What numpy needs to unpickle an array, and nothing else. `_codecs.encode` is how protocol 2
 * pickles bytes under Python 3 (a latin1 str encoded back), so only that encoding is accepted.
 */
const NUMPY_GLOBALS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['numpy.core.multiarray._reconstruct', reconstruct],
  ['numpy._core.multiarray._reconstruct', reconstruct],
  ['numpy.ndarray', ndarrayClass],
  [
    'numpy.dtype',
    (spec: unknown) => {
      if (typeof spec !== 'string') throw new Error('numpy dtype spec is not a string')
      return new NumpyDtype(spec)
    }
  ],
  [
    '_codecs.encode',
    (text: unknown, encoding: unknown) => {
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
        throw new Error(`only latin1 strings can be encoded, not ${String(encoding)}`)
      }
      return new Uint8Array(Buffer.from(text, 'latin1'))
    }
  ]
])

/** A (D, T) float array, C or Fortran order, any byte order -> row-major [T][D] float32. */
function transposeToRows(array: NdArray, path: string): Float32Array {
  const [dim, count] = array.shape
  const match = /^f([48])$/.exec(array.dtype.spec)
  if (!match) {
    throw new SdlError(`${path} holds numpy dtype '${array.dtype.spec}'; expected float32 or float64.`, VOCABULARY_HINT)
  }
  const width = Number(match[1])
  if (array.data.length !== dim * count * width) {
    throw new SdlError(`${path} is damaged: its array data has the wrong length.`, VOCABULARY_HINT)
  }
  // numpy pickles the byte order in the dtype's state: '<', '>', or '=' / '|' for native (little).
  const littleEndian = array.dtype.byteOrder !== '>'
  const view = new DataView(array.data.buffer, array.data.byteOffset, array.data.byteLength)
  const read = width === 4 ? (i: number) => view.getFloat32(i * 4, littleEndian) : (i: number) => view.getFloat64(i * 8, littleEndian)
  const rows = new Float32Array(dim * count)
  for (let t = 0; t < count; t++) {
    for (let d = 0; d < dim; d++) {
      rows[t * dim + d] = read(array.fortranOrder ? t * dim + d : d * count + t)
    }
  }
  return rows
}
