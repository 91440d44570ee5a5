import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import type { StateDict, Tensor } from '../../src/main/engine/checkpoint/tensor'
import { SdlError } from '../../src/main/engine/errors'
import { ProtoWriter } from '../../src/main/engine/onnx/protobufWriter'
import { buildTresnetSdlOnnx, tresnetSdlParameterShapes, validateTresnetSdlStateDict } from '../../src/main/engine/onnx/tresnetSdl'
import { SDL_DIR } from '../helpers/sharedData'
import { relativeMaxError as relativeError } from '../helpers/sdlFixtures'
import { prng as random } from '../helpers/prng'

// The fixture checkpoint against the official forward pass is tested end to end, through a
// model pack, in sdlImport.test.ts; this file tests the builder itself on synthetic weights.
const SIZE = 224
const PIXELS = SIZE * SIZE

/**
 * Random TResNet-M SDL weights scaled so that activations stay in a sane range through all 21
 * residual blocks: unit-variance convs, positive variances, and a small gamma on the batch norm
 * that ends each block's main path (conv2 of basic blocks, conv3 of bottlenecks).
 */
function syntheticStateDict(dim: number, rows: number): StateDict {
  const rand = random(42)
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand()
  const sd: StateDict = new Map()
  for (const [key, shape] of tresnetSdlParameterShapes(dim * rows)) {
    const data = new Float32Array(shape.reduce((n, d) => n * d, 1))
    const fanIn = shape.slice(1).reduce((n, d) => n * d, 1)
    const endsBlock = /^layer[12]\.\d+\.conv2\.1\.|^layer[34]\.\d+\.conv3\.1\./.test(key)
    let fill: () => number
    if (key.endsWith('running_var')) fill = () => uniform(0.5, 1.5)
    else if (key.endsWith('running_mean') || key.endsWith('.bias')) fill = () => uniform(-0.1, 0.1)
    else if (shape.length === 1) fill = () => (endsBlock ? uniform(0.1, 0.3) : uniform(0.5, 1.5))
    else fill = () => uniform(-1, 1) * Math.sqrt(3 / fanIn)
    for (let i = 0; i < data.length; i++) data[i] = fill()
    sd.set(key, { dtype: 'float32', shape, data })
  }
  return sd
}

/** A shallow copy of `sd` with `change` applied, so each case starts from valid weights. */
function altered(sd: StateDict, change: (copy: StateDict) => void): StateDict {
  const copy = new Map(sd)
  change(copy)
  return copy
}

function validationError(sd: StateDict, rows = 7): SdlError {
  try {
    validateTresnetSdlStateDict(sd, { rows })
  } catch (err) {
    expect(err).toBeInstanceOf(SdlError)
    return err as SdlError
  }
  throw new Error('validation passed but should have failed')
}

/** Top-level ModelProto fields we check: ir_version (1), opset_import (8), metadata_props (14). */
function readModelHeader(bytes: Uint8Array): { irVersion: number; opsets: number[]; metadata: Record<string, string> } {
  const header = { irVersion: 0, opsets: [] as number[], metadata: {} as Record<string, string> }
  const walk = (buf: Uint8Array, onField: (field: number, value: number | Uint8Array) => void) => {
    let i = 0
    const varint = () => {
      let v = 0
      for (let scale = 1; ; scale *= 128) {
        const byte = buf[i++]
        v += (byte & 0x7f) * scale
        if (byte < 0x80) return v
      }
    }
    while (i < buf.length) {
      const key = varint()
      const wire = key & 7
      if (wire === 0) onField(key >>> 3, varint())
      else if (wire === 2) {
        const len = varint()
        onField(key >>> 3, buf.subarray(i, i + len))
        i += len
      } else if (wire === 5) i += 4
      else if (wire === 1) i += 8
      else throw new Error(`unexpected wire type ${wire}`)
    }
  }
  const text = (v: number | Uint8Array) => Buffer.from(v as Uint8Array).toString('utf8')
  walk(bytes, (field, value) => {
    if (field === 1) header.irVersion = value as number
    if (field === 8) walk(value as Uint8Array, (f, v) => f === 2 && header.opsets.push(v as number))
    if (field === 14) {
      const entry: string[] = []
      walk(value as Uint8Array, (f, v) => (entry[f - 1] = text(v)))
      header.metadata[entry[0]] = entry[1]
    }
  })
  return header
}

async function createSession(onnx: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx, { intraOpNumThreads: 2, interOpNumThreads: 1 })
}

/** Runs a batch of NCHW images and returns one output row per image. */
async function embed(session: ort.InferenceSession, images: Float32Array[]): Promise<Float32Array[]> {
  const batch = new Float32Array(images.length * 3 * PIXELS)
  images.forEach((image, i) => batch.set(image, i * 3 * PIXELS))
  const result = await session.run({ image: new ort.Tensor('float32', batch, [images.length, 3, SIZE, SIZE]) })
  const out = result.embedding
  expect(out.dims).toHaveLength(2)
  expect(out.dims[0]).toBe(images.length)
  const width = out.dims[1]
  const data = out.data as Float32Array
  return images.map((_, i) => data.subarray(i * width, (i + 1) * width))
}

describe('ProtoWriter', () => {
  it('encodes varints, negative int64, floats, strings, packed and fixed-width fields as protobuf does', () => {
    const bytes = new ProtoWriter().varint(1, 300).varint(2, -1).float(3, 1.5).string(4, 'hi').packedVarints(5, [1, 128]).fixed64(6, 1n).fixed32(7, 0x01020304).finish()
    expect([...bytes]).toEqual([
      0x08, 0xac, 0x02, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1d, 0x00, 0x00, 0xc0, 0x3f, 0x22, 0x02, 0x68, 0x69, 0x2a, 0x03, 0x01, 0x80, 0x01, 0x31,
      0x01, 0, 0, 0, 0, 0, 0, 0, 0x3d, 0x04, 0x03, 0x02, 0x01
    ])
  })

  it('keeps large byte fields and nested messages in order', () => {
    const big = new Uint8Array(5000).map((_, i) => i % 251)
    const inner = new ProtoWriter().varint(1, 7).bytes(2, big).varint(3, 9)
    const bytes = new ProtoWriter().string(1, 'a').message(2, inner).finish()
    expect(bytes.length).toBe(3 + 3 + inner.byteLength)
    expect([...bytes.subarray(0, 6)]).toEqual([0x0a, 0x01, 0x61, 0x12, 0x8f, 0x27]) // 0x138f = 5007
    expect([...bytes.subarray(6, 11)]).toEqual([0x08, 0x07, 0x12, 0x88, 0x27])
    expect(Buffer.from(bytes.subarray(11, 5011)).equals(Buffer.from(big))).toBe(true)
    expect([...bytes.subarray(5011)]).toEqual([0x18, 0x09])
  })
})

describe('TResNet-M SDL state dict and ONNX graph (synthetic weights)', () => {
  const DIM = 5
  const ROWS = 7
  const sd = syntheticStateDict(DIM, ROWS)

  it('derives the exact key list and shapes of the official manifest', () => {
    const manifest = JSON.parse(readFileSync(join(SDL_DIR, 'fixtures/tresnet_m_sdl_state_dict_manifest.json'), 'utf8')) as {
      key: string
      shape: number[]
    }[]
    const expected = manifest.filter((e) => !e.key.endsWith('num_batches_tracked')).map((e) => [e.key, e.shape])
    expect([...tresnetSdlParameterShapes(2100)]).toEqual(expected)
  })

  it('accepts a complete state dict and returns D, ignoring num_batches_tracked', () => {
    expect(validateTresnetSdlStateDict(sd, { rows: ROWS })).toEqual({ dim: DIM })
    const tracked: Tensor = { dtype: 'int64', shape: [], data: new BigInt64Array([5n]) }
    const withTracked = altered(sd, (c) => c.set('conv1.1.num_batches_tracked', tracked))
    expect(validateTresnetSdlStateDict(withTracked, { rows: ROWS })).toEqual({ dim: DIM })
  })

  it('names a renamed key', () => {
    const key = 'layer3.4.conv2.0.weight'
    const err = validationError(altered(sd, (c) => c.set('layer3.4.conv2.weight', c.get(key)!).delete(key)))
    expect(err.message).toContain(`has no ${key}`)
    expect(err.message).toContain('unexpected key layer3.4.conv2.weight')
    expect(err.hint).toBeTruthy()
  })

  it('names a key with the wrong shape, with both shapes', () => {
    const key = 'layer3.4.conv2.0.weight'
    const t = sd.get(key)!
    const err = validationError(altered(sd, (c) => c.set(key, { ...t, shape: [256, 256, 9, 1] })))
    expect(err.message).toContain(`${key} has shape [256,256,9,1] but TResNet-M SDL expects [256,256,3,3]`)
  })

  it('names a dropped key', () => {
    const err = validationError(altered(sd, (c) => c.delete('layer4.2.conv3.1.running_mean')))
    expect(err.message).toContain('has no layer4.2.conv3.1.running_mean')
    expect(err.message).not.toContain('unexpected')
  })

  it('names an unexpected extra key', () => {
    const extra = altered(sd, (c) => c.set('head.fc.weight', sd.get('layer1.0.se.fc1.bias')!))
    expect(validationError(extra).message).toContain('unexpected key head.fc.weight')
  })

  it('rejects non-float, non-finite and negative-variance tensors, naming the key', () => {
    const key = 'layer2.1.conv1.1.running_var'
    const t = sd.get(key)!
    const withValue = (v: number) => {
      const data = Float32Array.from(t.data as Float32Array)
      data[3] = v
      return altered(sd, (c) => c.set(key, { ...t, data }))
    }
    expect(validationError(withValue(NaN)).message).toContain(`${key} holds a non-finite value (NaN at index 3)`)
    expect(validationError(withValue(-0.5)).message).toContain(`${key} holds a negative variance`)
    const ints = altered(sd, (c) => c.set(key, { dtype: 'int32', shape: t.shape, data: new Int32Array(t.shape[0]) }))
    expect(validationError(ints).message).toContain(`${key} has dtype int32`)
  })

  it('rejects an embedding whose rows are not D * rows', () => {
    expect(validationError(sd, 6).message).toContain('embedding.weight has 35 rows, not a positive multiple of 6')
    const t = sd.get('embedding.weight')!
    const wide = altered(sd, (c) => c.set('embedding.weight', { ...t, shape: [7, 25, 2048] }))
    expect(validationError(wide).message).toContain('embedding.weight has shape [7,25,2048] but TResNet-M SDL expects [D*7,2048]')
  })

  it('builds a model that onnxruntime runs, batch-independent, with the SDL metadata', async () => {
    const onnx = buildTresnetSdlOnnx(sd, { rows: ROWS, wordSpace: 'test-space', extraMetadata: { description: 'synthetic' } })

    const header = readModelHeader(onnx)
    expect(header.irVersion).toBe(8)
    expect(header.opsets).toEqual([17])
    expect(header.metadata).toEqual({
      'sdl.dim': String(DIM),
      'sdl.rows': String(ROWS),
      'sdl.layout': 'dk',
      'sdl.word_space': 'test-space',
      'sdl.input': 'rgb01-224-stretch',
      'sdl.architecture': 'tresnet-m-sdl',
      description: 'synthetic'
    })

    const session = await createSession(onnx)
    try {
      expect(session.inputNames).toEqual(['image'])
      expect(session.outputNames).toEqual(['embedding'])
      expect(session.inputMetadata[0]).toMatchObject({ shape: ['N', 3, SIZE, SIZE] })
      expect(session.outputMetadata[0]).toMatchObject({ shape: ['N', DIM * ROWS] })

      const rand = random(7)
      const images = [0, 1, 2].map(() => new Float32Array(3 * PIXELS).map(() => rand()))
      const together = await embed(session, images)
      for (const [i, image] of images.entries()) {
        const [alone] = await embed(session, [image])
        expect(alone).toHaveLength(DIM * ROWS)
        expect(alone.every(Number.isFinite)).toBe(true)
        expect(relativeError(together[i], alone)).toBeLessThanOrEqual(1e-5)
      }
      // Different photos must give different embeddings, or the check above proves nothing.
      expect(relativeError(together[0], together[1])).toBeGreaterThan(1e-3)
    } finally {
      await session.release()
    }
  })
})
