/**
 * float32 <-> IEEE 754 half precision, for storing principal vectors in half the space. Node 20
 * has no Float16Array. Rounds to nearest even; overflow goes to infinity, tiny values to
 * subnormals or zero, as a hardware conversion would.
 */
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

export function toFloat16(value: number): number {
  f32[0] = value
  const x = u32[0]
  const sign = (x >>> 16) & 0x8000
  const exponent = (x >>> 23) & 0xff
  let mantissa = x & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0) // Inf or NaN
  const e = exponent - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mantissa |= 0x800000
    const shift = 14 - e
    const half = mantissa >>> shift
    const rest = mantissa & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    return sign | (half + (rest > halfway || (rest === halfway && half & 1) ? 1 : 0))
  }
  const half = (e << 10) | (mantissa >>> 13)
  const rest = mantissa & 0x1fff
  // Carry from rounding may bump the exponent, which is the right result (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0))
}

export function fromFloat16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exponent = (h >>> 10) & 0x1f
  const mantissa = h & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** Every half's float32 value, made on first use: loading a library decodes millions of values. */
let halfToFloat: Float32Array | null = null

function halfTable(): Float32Array {
  if (!halfToFloat) {
    halfToFloat = new Float32Array(65536)
    for (let h = 0; h < 65536; h++) halfToFloat[h] = fromFloat16(h)
  }
  return halfToFloat
}

export function decodeFloat16(bytes: Uint8Array, scale = 1): Float32Array {
  const table = halfTable()
  const out = new Float32Array(bytes.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)] * scale
  return out
}

/**
 * A photo's principal vectors as stored: a float32 scale (the largest |value|), then every value
 * divided by it as float16. Scaling keeps any model's output clear of float16's overflow (65504)
 * and underflow, with the same relative precision (about 1e-3 of the largest value).
 */
export function encodePrincipalVectors(values: ArrayLike<number>): Buffer {
  let scale = 0
  for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]))
  if (!Number.isFinite(scale)) throw new RangeError('principal vectors must be finite')
  const out = Buffer.alloc(4 + values.length * 2)
  out.writeFloatLE(scale, 0)
  const inverse = scale > 0 ? 1 / scale : 0
  for (let i = 0; i < values.length; i++) out.writeUInt16LE(toFloat16(values[i] * inverse), 4 + i * 2)
  return out
}

export function decodePrincipalVectors(bytes: Uint8Array): Float32Array {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return decodeFloat16(view.subarray(4), view.readFloatLE(0))
}
