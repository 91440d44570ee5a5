import { describe, expect, it } from 'vitest'
import { decodeFloat16, decodePrincipalVectors, encodePrincipalVectors, fromFloat16, toFloat16 } from '../../src/main/engine/library/float16'

describe('float16', () => {
  it('decodes every half exactly as the scalar conversion does', () => {
    const bytes = new Uint8Array(65536 * 2)
    for (let h = 0; h < 65536; h++) [bytes[2 * h], bytes[2 * h + 1]] = [h & 0xff, h >>> 8]
    const decoded = decodeFloat16(bytes)
    for (let h = 0; h < 65536; h++) expect(Object.is(decoded[h], Math.fround(fromFloat16(h))) || (Number.isNaN(decoded[h]) && Number.isNaN(fromFloat16(h)))).toBe(true)
    expect(fromFloat16(toFloat16(1.5))).toBe(1.5)
    expect(fromFloat16(toFloat16(65504))).toBe(65504)
    expect(fromFloat16(toFloat16(1e6))).toBe(Infinity)
  })

  it('stores principal vectors within float16 precision of their largest value', () => {
    const values = Float32Array.from({ length: 2100 }, (_, i) => Math.sin(i) * 37.5)
    const back = decodePrincipalVectors(encodePrincipalVectors(values))
    for (let i = 0; i < values.length; i++) expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(37.5 * 2 ** -11)
    expect(() => encodePrincipalVectors([1, Infinity])).toThrow(RangeError)
  })
})
