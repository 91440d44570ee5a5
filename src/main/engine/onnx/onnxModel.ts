/**
 * Typed builders for the subset of ONNX's ModelProto that the engine writes, and its encoder.
 * Field numbers follow onnx.proto3 (onnx/onnx, IR version 8).
 */
import { endianness } from 'node:os'
import { ProtoWriter } from './protobufWriter'

export type OnnxAttribute =
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'ints'; value: readonly number[] }
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'string'; value: string }

export const attr = {
  int: (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value }),
  ints: (name: string, value: readonly number[]): OnnxAttribute => ({ name, type: 'ints', value }),
  float: (name: string, value: number): OnnxAttribute => ({ name, type: 'float', value }),
  string: (name: string, value: string): OnnxAttribute => ({ name, type: 'string', value })
}

export interface OnnxNode {
  name: string
  opType: string
  inputs: readonly string[]
  outputs: readonly string[]
  attributes: readonly OnnxAttribute[]
  /** Operator set the op comes from; the default ("ai.onnx") when absent, e.g. "com.microsoft" for onnxruntime's own ops. */
  domain?: string
}

/** A constant tensor, stored as little-endian raw_data. */
export interface OnnxInitializer {
  name: string
  dims: readonly number[]
  data: InitializerData
}

type InitializerData = Float32Array | BigInt64Array | Uint8Array

/** A graph input or output; a string dimension is symbolic (e.g. the batch size `N`). */
export interface OnnxValueInfo {
  name: string
  elemType: keyof typeof ELEMENT_TYPE
  shape: readonly (number | string)[]
}

export interface OnnxGraph {
  name: string
  nodes: readonly OnnxNode[]
  initializers: readonly OnnxInitializer[]
  inputs: readonly OnnxValueInfo[]
  outputs: readonly OnnxValueInfo[]
}

export interface OnnxModel {
  irVersion: number
  /** Version of the default ("ai.onnx") operator set. */
  opsetVersion: number
  /** Further operator sets the graph's nodes use, by domain, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Readonly<Record<string, number>>
  producerName: string
  graph: OnnxGraph
  metadata: Readonly<Record<string, string>>
}

/**
 * Collects nodes and initializers with unique names. Each node has one output, named after the
 * node, which is what a feed-forward network needs.
 */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = []
  readonly initializers: OnnxInitializer[] = []
  private readonly names = new Set<string>()

  /** Adds a constant and returns its name. */
  initializer(name: string, dims: readonly number[], data: InitializerData): string {
    const count = dims.reduce((n, d) => n * d, 1)
    if (count !== data.length) {
      throw new Error(`initializer ${name}: dims [${dims}] need ${count} values, got ${data.length}`)
    }
    this.claim(name)
    this.initializers.push({ name, dims, data })
    return name
  }

  /** Adds a node and returns the name of its output; `output` names it explicitly (graph outputs). */
  node(opType: string, inputs: readonly string[], scope: string, attributes: readonly OnnxAttribute[] = [], output?: string): string {
    const name = output ?? this.unusedName(`${scope}/${opType}`)
    this.claim(name)
    this.nodes.push({ name, opType, inputs, outputs: [name], attributes })
    return name
  }

  private unusedName(base: string): string {
    let name = base
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`
    return name
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate ONNX value name ${name}`)
    this.names.add(name)
  }
}

// TensorProto.DataType values.
const DATA_TYPE_FLOAT = 1
const DATA_TYPE_UINT8 = 2
const DATA_TYPE_INT64 = 7
const ELEMENT_TYPE = { float32: DATA_TYPE_FLOAT, uint8: DATA_TYPE_UINT8, int8: 3, int32: 6, int64: DATA_TYPE_INT64 } as const

// AttributeProto.AttributeType values.
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const

export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter()
  w.varint(1, model.irVersion)
  w.string(2, model.producerName)
  w.message(7, encodeGraph(model.graph))
  w.message(8, new ProtoWriter().string(1, '').varint(2, model.opsetVersion))
  for (const [domain, version] of Object.entries(model.extraOpsets ?? {})) w.message(8, new ProtoWriter().string(1, domain).varint(2, version))
  for (const [key, value] of Object.entries(model.metadata)) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value))
  }
  return w.finish()
}

function encodeGraph(graph: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter()
  for (const node of graph.nodes) w.message(1, encodeNode(node))
  w.string(2, graph.name)
  for (const init of graph.initializers) w.message(5, encodeInitializer(init))
  for (const input of graph.inputs) w.message(11, encodeValueInfo(input))
  for (const output of graph.outputs) w.message(12, encodeValueInfo(output))
  return w
}

function encodeNode(node: OnnxNode): ProtoWriter {
  const w = new ProtoWriter()
  for (const input of node.inputs) w.string(1, input)
  for (const output of node.outputs) w.string(2, output)
  w.string(3, node.name)
  w.string(4, node.opType)
  for (const a of node.attributes) w.message(5, encodeAttribute(a))
  if (node.domain) w.string(7, node.domain)
  return w
}

function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name).varint(20, ATTRIBUTE_TYPE[a.type])
  switch (a.type) {
    case 'float':
      return w.float(2, a.value)
    case 'int':
      return w.varint(3, a.value)
    case 'string':
      return w.string(4, a.value)
    case 'ints':
      return w.packedVarints(8, a.value)
  }
}

function encodeInitializer(init: OnnxInitializer): ProtoWriter {
  const w = new ProtoWriter()
  w.packedVarints(1, init.dims)
  w.varint(2, init.data instanceof Float32Array ? DATA_TYPE_FLOAT : init.data instanceof Uint8Array ? DATA_TYPE_UINT8 : DATA_TYPE_INT64)
  w.string(8, init.name)
  w.bytes(9, littleEndianBytes(init.data))
  return w
}

function encodeValueInfo(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter()
  for (const d of info.shape) {
    const dim = new ProtoWriter()
    if (typeof d === 'number') dim.varint(1, d)
    else dim.string(2, d)
    shape.message(1, dim)
  }
  const tensorType = new ProtoWriter().varint(1, ELEMENT_TYPE[info.elemType]).message(2, shape)
  const type = new ProtoWriter().message(1, tensorType)
  return new ProtoWriter().string(1, info.name).message(2, type)
}

/** raw_data must be little-endian: a view of the array on little-endian hosts (no copy). */
function littleEndianBytes(data: InitializerData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (endianness() === 'LE') return bytes
  const swapped = new Uint8Array(bytes)
  for (let i = 0; i < swapped.length; i += data.BYTES_PER_ELEMENT) {
    swapped.subarray(i, i + data.BYTES_PER_ELEMENT).reverse()
  }
  return swapped
}
