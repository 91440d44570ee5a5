/**
 * The SDL TResNet-M network (see shared/docs/sdl-model.md), described once in code and used both
 * to validate a PyTorch state dict and to write the equivalent ONNX graph, so that no Python
 * converter is needed on a user's machine.
 */
import { elementCount, type StateDict, type Tensor, type TensorDType, type TensorManifest } from '../checkpoint/tensor'
import { SdlError } from '../errors'
import { attr, encodeOnnxModel, OnnxGraphBuilder } from './onnxModel'

const ARCHITECTURE = 'tresnet-m-sdl'
const IMAGE_SIZE = 224
const FEATURES = 2048
const EMBEDDING_KEY = 'embedding.weight'
const INPUT_NAME = 'image'
const OUTPUT_NAME = 'embedding'
const BN_EPS = 1e-5
const STEM_SLOPE = 0.01
const BLOCK_SLOPE = 0.001
const ONNX_IR_VERSION = 8
const ONNX_OPSET = 17

/** A convolution followed by batch norm: keys `${prefix}.0.weight` and `${prefix}.1.*`. */
interface ConvBn {
  prefix: string
  cin: number
  cout: number
  kernel: 1 | 3
}

interface SqueezeExcite {
  prefix: string
  channels: number
  hidden: number
}

/** One conv + ABN of a block's main path, with what follows it before the next conv. */
interface ConvStage {
  conv: ConvBn
  leaky: boolean
  /** Stride 2 is an anti-aliased downsample after the activation, never a strided conv. */
  antiAlias: boolean
  se?: SqueezeExcite
}

interface Block {
  name: string
  stages: ConvStage[]
  /** Residual path of a strided block: 2x2 average pool, then this 1x1 conv + BN. */
  downsample?: ConvBn
}

const STEM: ConvBn = { prefix: 'conv1', cin: 3 * 16, cout: 64, kernel: 3 }

const LAYERS = [
  { kind: 'basic', planes: 64, blocks: 3, strided: false, se: true },
  { kind: 'basic', planes: 128, blocks: 4, strided: true, se: true },
  { kind: 'bottleneck', planes: 256, blocks: 11, strided: true, se: true },
  { kind: 'bottleneck', planes: 512, blocks: 3, strided: true, se: false }
] as const

function tresnetBlocks(): Block[] {
  const blocks: Block[] = []
  let cin = STEM.cout
  LAYERS.forEach((layer, li) => {
    const p = layer.planes
    for (let b = 0; b < layer.blocks; b++) {
      const name = `layer${li + 1}.${b}`
      const strided = layer.strided && b === 0
      // A strided conv is wrapped with its anti-alias layer in one more Sequential, hence the `.0`.
      const prefix = (conv: string, antiAlias: boolean) => `${name}.${conv}${antiAlias ? '.0' : ''}`
      let stages: ConvStage[]
      let cout: number
      if (layer.kind === 'basic') {
        cout = p
        const se = layer.se ? { prefix: `${name}.se`, channels: p, hidden: Math.max(p / 4, 64) } : undefined
        const conv1: ConvBn = { prefix: prefix('conv1', strided), cin, cout: p, kernel: 3 }
        const conv2: ConvBn = { prefix: `${name}.conv2`, cin: p, cout: p, kernel: 3 }
        stages = [
          { conv: conv1, leaky: true, antiAlias: strided },
          { conv: conv2, leaky: false, antiAlias: false, se }
        ]
      } else {
        cout = 4 * p
        const se = layer.se ? { prefix: `${name}.se`, channels: p, hidden: Math.max(cout / 8, 64) } : undefined
        const conv1: ConvBn = { prefix: `${name}.conv1`, cin, cout: p, kernel: 1 }
        const conv2: ConvBn = { prefix: prefix('conv2', strided), cin: p, cout: p, kernel: 3 }
        const conv3: ConvBn = { prefix: `${name}.conv3`, cin: p, cout, kernel: 1 }
        stages = [
          { conv: conv1, leaky: true, antiAlias: false },
          { conv: conv2, leaky: true, antiAlias: strided, se },
          { conv: conv3, leaky: false, antiAlias: false }
        ]
      }
      const downsample = strided ? { prefix: `${name}.downsample.1`, cin, cout, kernel: 1 as const } : undefined
      blocks.push({ name, stages, downsample })
      cin = cout
    }
  })
  return blocks
}

function convBnShapes(c: ConvBn): [string, number[]][] {
  const bn = ['weight', 'bias', 'running_mean', 'running_var'].map((p): [string, number[]] => [`${c.prefix}.1.${p}`, [c.cout]])
  return [[`${c.prefix}.0.weight`, [c.cout, c.cin, c.kernel, c.kernel]], ...bn]
}

function seShapes(se: SqueezeExcite): [string, number[]][] {
  return [
    [`${se.prefix}.fc1.weight`, [se.hidden, se.channels, 1, 1]],
    [`${se.prefix}.fc1.bias`, [se.hidden]],
    [`${se.prefix}.fc2.weight`, [se.channels, se.hidden, 1, 1]],
    [`${se.prefix}.fc2.bias`, [se.channels]]
  ]
}

/**
 * Every parameter of TResNet-M SDL in state_dict order, with its shape (num_batches_tracked
 * excluded: it carries nothing for inference). `embeddingRows` is D * rows.
 */
export function tresnetSdlParameterShapes(embeddingRows: number): Map<string, number[]> {
  const entries = convBnShapes(STEM)
  for (const block of tresnetBlocks()) {
    for (const stage of block.stages) entries.push(...convBnShapes(stage.conv))
    if (block.downsample) entries.push(...convBnShapes(block.downsample))
    for (const stage of block.stages) if (stage.se) entries.push(...seShapes(stage.se))
  }
  entries.push([EMBEDDING_KEY, [embeddingRows, FEATURES]])
  return new Map(entries)
}

const formatShape = (shape: readonly number[]) => `[${shape.join(',')}]`

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i])

const CHECKPOINT_HINT = 'Use the official SDL model (NUS_mtresnet_224.pth from Alibaba-MIIL/ZS_SDL); ' + 'if it is that file, download it again: it may be damaged.'

function invalid(message: string): SdlError {
  return new SdlError(`Not a TResNet-M SDL checkpoint: ${message}.`, CHECKPOINT_HINT)
}

/**
 * The tensors a checkpoint reader must find for TResNet-M SDL with `dim`-d word vectors and
 * `rows` principal vectors, in any floating-point dtype.
 */
export function tresnetSdlManifest(opts: { dim: number; rows: number }): TensorManifest {
  const dtypes = [...FLOAT_DTYPES]
  const tensors = new Map(
    [...tresnetSdlParameterShapes(opts.dim * opts.rows)].map(([key, shape]) => [
      key,
      key === EMBEDDING_KEY ? { shape, dtypes, note: `${opts.dim}-d word vectors of the vocabulary x ${opts.rows} principal vectors` } : { shape, dtypes }
    ])
  )
  return { model: 'TResNet-M SDL', hint: CHECKPOINT_HINT, tensors }
}

/**
 * Checks that `sd` holds exactly the parameters of TResNet-M SDL, with the right shapes and sane
 * values, and throws an SdlError naming the first offending key. Returns D, the word-vector
 * dimension, from embedding.weight's D * rows outputs.
 */
export function validateTresnetSdlStateDict(sd: StateDict, opts: { rows: number }): { dim: number } {
  const { rows } = opts
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`)
  const embedding = sd.get(EMBEDDING_KEY)
  const embeddingRows = embedding?.shape.length === 2 ? embedding.shape[0] : -1
  const expected = tresnetSdlParameterShapes(embeddingRows)
  const unexpected = [...sd.keys()].filter((k) => !expected.has(k) && !k.endsWith('.num_batches_tracked'))

  for (const [key, shape] of expected) {
    const tensor = sd.get(key)
    if (!tensor) {
      const seen = unexpected.length > 0 ? ` (it has an unexpected key ${unexpected[0]})` : ''
      throw invalid(`it has no ${key}${seen}`)
    }
    const expectedShape = key === EMBEDDING_KEY ? `[D*${rows},${FEATURES}]` : formatShape(shape)
    if (!sameShape(tensor.shape, shape)) {
      throw invalid(`${key} has shape ${formatShape(tensor.shape)} but TResNet-M SDL expects ${expectedShape}`)
    }
    checkValues(key, tensor)
  }
  if (embeddingRows === 0 || embeddingRows % rows !== 0) {
    throw invalid(`${EMBEDDING_KEY} has ${embeddingRows} rows, not a positive multiple of ${rows} ` + `(D word-vector dimensions x ${rows} principal vectors)`)
  }
  if (unexpected.length > 0) throw invalid(`it has an unexpected key ${unexpected[0]}`)
  return { dim: embeddingRows / rows }
}

const FLOAT_DTYPES = new Set<TensorDType>(['float64', 'float32', 'float16', 'bfloat16'])

function checkValues(key: string, tensor: Tensor): void {
  const { data } = tensor
  if (!(data instanceof Float32Array) || !FLOAT_DTYPES.has(tensor.dtype)) {
    throw invalid(`${key} has dtype ${tensor.dtype} but TResNet-M SDL expects floating-point weights`)
  }
  const count = elementCount(tensor.shape)
  if (data.length !== count) {
    throw invalid(`${key} holds ${data.length} values but its shape ${formatShape(tensor.shape)} needs ${count}`)
  }
  const i = firstInvalidIndex(data, key.endsWith('.running_var'))
  if (i >= 0) {
    const what = Number.isFinite(data[i]) ? 'a negative variance' : 'a non-finite value'
    throw invalid(`${key} holds ${what} (${data[i]} at index ${i})`)
  }
}

/**
 * Index of the first NaN or infinity (or negative value, with `nonNegative`), or -1. A separate
 * function that only ever sees Float32Array keeps V8's code for this 33.7 M-value scan fast.
 */
function firstInvalidIndex(data: Float32Array, nonNegative: boolean): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (!Number.isFinite(v) || (nonNegative && v < 0)) return i
  }
  return -1
}

export interface TresnetSdlOnnxMeta {
  /** Principal vectors per photo (K; 7 for the official model). */
  rows: number
  /** Identifies the word vectors the embedding lives in (stored as sdl.word_space). */
  wordSpace: string
  extraMetadata?: Record<string, string>
}

/**
 * Writes the ONNX model (IR 8, opset 17) of a TResNet-M SDL state dict: input `image` float32
 * [N,3,224,224] (RGB in [0,1]), output `embedding` float32 [N, D*rows] in the checkpoint's
 * d-major layout. Batch norm is folded into the convolutions. Validates the state dict first.
 */
export function buildTresnetSdlOnnx(sd: StateDict, meta: TresnetSdlOnnxMeta): Uint8Array {
  const { dim } = validateTresnetSdlStateDict(sd, { rows: meta.rows })
  const outputs = dim * meta.rows
  const net = new NetworkWriter(sd)
  const g = net.graph

  let x = g.node('SpaceToDepth', [INPUT_NAME], 'space_to_depth', [attr.int('blocksize', 4)])
  x = net.leakyRelu(net.convBn(STEM, x), STEM_SLOPE, STEM.prefix)
  for (const block of tresnetBlocks()) x = net.block(block, x)
  x = g.node('GlobalAveragePool', [x], 'head')
  x = g.node('Flatten', [x], 'head', [attr.int('axis', 1)])
  // Gemm with transB reads embedding.weight [D*rows, 2048] as stored: no transposed copy.
  const w = g.initializer(EMBEDDING_KEY, [outputs, FEATURES], floats(sd, EMBEDDING_KEY))
  g.node('Gemm', [x, w], 'head', [attr.int('transB', 1)], OUTPUT_NAME)

  const metadata: Record<string, string> = {
    'sdl.dim': String(dim),
    'sdl.rows': String(meta.rows),
    'sdl.layout': 'dk',
    'sdl.word_space': meta.wordSpace,
    'sdl.input': 'rgb01-224-stretch',
    'sdl.architecture': ARCHITECTURE
  }
  for (const [key, value] of Object.entries(meta.extraMetadata ?? {})) {
    if (key in metadata) throw new Error(`extraMetadata may not override ${key}`)
    metadata[key] = value
  }
  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'sdl-tagger',
    metadata,
    graph: {
      name: ARCHITECTURE,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: INPUT_NAME, elemType: 'float32', shape: ['N', 3, IMAGE_SIZE, IMAGE_SIZE] }],
      outputs: [{ name: OUTPUT_NAME, elemType: 'float32', shape: ['N', outputs] }]
    }
  })
}

/** Validated tensors are Float32Array; this narrows the type. */
function floats(sd: StateDict, key: string): Float32Array {
  return sd.get(key)!.data as Float32Array
}

/** Emits the network's building blocks into one graph, sharing the constant tensors they reuse. */
class NetworkWriter {
  readonly graph = new OnnxGraphBuilder()
  private readonly antiAliasFilters = new Map<number, string>()
  private antiAliasPads?: string

  constructor(private readonly sd: StateDict) {}

  block(b: Block, input: string): string {
    let x = input
    for (const stage of b.stages) {
      x = this.convBn(stage.conv, x)
      if (stage.leaky) x = this.leakyRelu(x, BLOCK_SLOPE, stage.conv.prefix)
      if (stage.antiAlias) x = this.antiAlias(x, stage.conv.cout, stage.conv.prefix)
      if (stage.se) x = this.squeezeExcite(stage.se, x)
    }
    let residual = input
    if (b.downsample) {
      residual = this.graph.node('AveragePool', [input], `${b.name}.downsample`, [
        attr.ints('kernel_shape', [2, 2]),
        attr.ints('strides', [2, 2]),
        attr.int('ceil_mode', 1),
        attr.int('count_include_pad', 0)
      ])
      residual = this.convBn(b.downsample, residual)
    }
    return this.graph.node('Relu', [this.graph.node('Add', [x, residual], b.name)], b.name)
  }

  /** Conv with the following batch norm folded in (in float64, then rounded to float32). */
  convBn(c: ConvBn, input: string): string {
    const w = floats(this.sd, `${c.prefix}.0.weight`)
    const gamma = floats(this.sd, `${c.prefix}.1.weight`)
    const beta = floats(this.sd, `${c.prefix}.1.bias`)
    const mean = floats(this.sd, `${c.prefix}.1.running_mean`)
    const variance = floats(this.sd, `${c.prefix}.1.running_var`)
    const weight = new Float32Array(w.length)
    const bias = new Float32Array(c.cout)
    const perOutput = w.length / c.cout
    for (let o = 0; o < c.cout; o++) {
      const scale = gamma[o] / Math.sqrt(variance[o] + BN_EPS)
      for (let i = o * perOutput; i < (o + 1) * perOutput; i++) weight[i] = w[i] * scale
      bias[o] = beta[o] - mean[o] * scale
    }
    const k = c.kernel
    const pad = (k - 1) / 2
    const g = this.graph
    const inputs = [input, g.initializer(`${c.prefix}.weight`, [c.cout, c.cin, k, k], weight), g.initializer(`${c.prefix}.bias`, [c.cout], bias)]
    return g.node('Conv', inputs, c.prefix, [attr.ints('kernel_shape', [k, k]), attr.ints('pads', [pad, pad, pad, pad]), attr.ints('strides', [1, 1])])
  }

  leakyRelu(input: string, slope: number, scope: string): string {
    return this.graph.node('LeakyRelu', [input], scope, [attr.float('alpha', slope)])
  }

  /** Reflect-pad 1, then a fixed [1,2,1]x[1,2,1]/16 depthwise blur at stride 2. */
  antiAlias(input: string, channels: number, scope: string): string {
    const g = this.graph
    // Pad's pads input: begins of N,C,H,W then ends; only H and W are padded.
    this.antiAliasPads ??= g.initializer('antialias.pads', [8], BigInt64Array.from([0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]))
    let filter = this.antiAliasFilters.get(channels)
    if (!filter) {
      const taps = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((t) => t / 16)
      const data = new Float32Array(channels * 9).map((_, i) => taps[i % 9])
      filter = g.initializer(`antialias.filter${channels}`, [channels, 1, 3, 3], data)
      this.antiAliasFilters.set(channels, filter)
    }
    const padded = g.node('Pad', [input, this.antiAliasPads], `${scope}.antialias`, [attr.string('mode', 'reflect')])
    return g.node('Conv', [padded, filter], `${scope}.antialias`, [attr.int('group', channels), attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2])])
  }

  squeezeExcite(se: SqueezeExcite, input: string): string {
    const g = this.graph
    // The SE convs have biases and no batch norm, so their tensors are used as stored.
    const param = (name: string, dims: number[]) => g.initializer(`${se.prefix}.${name}`, dims, floats(this.sd, `${se.prefix}.${name}`))
    const conv1x1 = (s: string, fc: string, cout: number, cin: number) =>
      g.node('Conv', [s, param(`${fc}.weight`, [cout, cin, 1, 1]), param(`${fc}.bias`, [cout])], se.prefix, [attr.ints('kernel_shape', [1, 1])])
    let s = g.node('GlobalAveragePool', [input], se.prefix)
    s = conv1x1(s, 'fc1', se.hidden, se.channels)
    s = g.node('Relu', [s], se.prefix)
    s = conv1x1(s, 'fc2', se.channels, se.hidden)
    s = g.node('Sigmoid', [s], se.prefix)
    return g.node('Mul', [input, s], se.prefix)
  }
}
