import { describe, expect, it } from 'vitest'
import { VectorMatrix } from '../../src/main/engine/search/vectorMatrix'

function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1
}

const DIM = 12
const ROWS = 3

/** Exactly what SDL defines: max over principal vectors k of sum_d A[d][k] w[d], A in dk layout. */
function bruteForce(photo: Float32Array, w: Float32Array): number {
  let best = -Infinity
  for (let k = 0; k < ROWS; k++) {
    let dot = 0
    for (let d = 0; d < DIM; d++) dot += photo[d * ROWS + k] * w[d]
    best = Math.max(best, dot)
  }
  return best
}

describe('VectorMatrix', () => {
  const rand = seeded(42)
  const photos = Array.from({ length: 300 }, () => Float32Array.from({ length: DIM * ROWS }, rand))
  const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v))
  const terms = Array.from({ length: 5 }, () => unit(Float32Array.from({ length: DIM }, rand)))

  it('scores every photo as max_k <A_k, w> within 8-bit quantisation error, and ranks like the exact scores', async () => {
    const matrix = await VectorMatrix.build(photos, photos.length, DIM, ROWS, { bits: 8 })
    // 12 values pad to one block of 16, with one float32 scale.
    expect(matrix.bytesPerPhoto).toBe(ROWS * (16 + 4))
    for (const w of terms) {
      const scores = await matrix.scores(w)
      const exact = photos.map((p) => bruteForce(p, w))
      const scale = Math.max(...exact.map(Math.abs))
      for (let p = 0; p < photos.length; p++) expect(Math.abs(scores[p] - exact[p])).toBeLessThan(0.02 * scale)
      const top = (s: ArrayLike<number>) =>
        Array.from(s, (v, i) => [v, i])
          .sort((a, b) => b[0] - a[0])
          .slice(0, 10)
          .map(([, i]) => i)
      const overlap = top(scores).filter((i) => top(exact).includes(i)).length
      expect(overlap).toBeGreaterThanOrEqual(9)
    }
  })

  it("scores within each photo's error margin at 4 bits, and the best by 4-bit scores hold the exact best", async () => {
    const matrix = await VectorMatrix.build(photos, photos.length, DIM, ROWS)
    expect(matrix.bytesPerPhoto).toBe(ROWS * (8 + 4))
    let outside = 0
    for (const w of terms) {
      const scores = await matrix.scores(w)
      const exact = photos.map((p) => bruteForce(p, w))
      for (let p = 0; p < photos.length; p++) {
        expect(matrix.errorMargins[p]).toBeGreaterThan(0)
        if (Math.abs(scores[p] - exact[p]) > matrix.errorMargins[p]) outside++
      }
      const top = (s: ArrayLike<number>, n: number) =>
        Array.from(s, (v, i) => [v, i])
          .sort((a, b) => b[0] - a[0])
          .slice(0, n)
          .map(([, i]) => i)
      // What search relies on: rescoring the 4-bit best 40 exactly finds the exact best 10.
      expect(top(exact, 10).every((i) => top(scores, 40).includes(i))).toBe(true)
    }
    // Five standard deviations: a photo outside its margin is a rare event, not a habit.
    expect(outside).toBeLessThanOrEqual(2)
  })

  it('gives the same scores whether the photos sit in one shard or in several', async () => {
    const whole = await VectorMatrix.build(photos, photos.length, DIM, ROWS)
    const sharded = await VectorMatrix.build(photos, photos.length, DIM, ROWS, { shardPhotos: 64 })
    expect(Array.from(sharded.errorMargins)).toEqual(Array.from(whole.errorMargins))
    for (const w of terms) expect(Array.from(await sharded.scores(w))).toEqual(Array.from(await whole.scores(w)))
  })

  it('frees its sessions on release, after which it cannot score', async () => {
    const matrix = await VectorMatrix.build(photos.slice(0, 10), 10, DIM, ROWS)
    await matrix.scores(terms[0])
    await matrix.release()
    await expect(matrix.scores(terms[0])).rejects.toThrow()
  })

  it('extended with more photos, scores as if built with them all, sharing its shards until the last user releases them', async () => {
    // Shards of 128 photos: under 8 a shard is small.
    const whole = await VectorMatrix.build(photos, photos.length, DIM, ROWS, { shardPhotos: 128 })
    // The same weights; onnxruntime's kernel for a shard of a few photos may round the last bit differently.
    const sameAsWhole = async (matrix: VectorMatrix) => {
      for (const w of terms) {
        const [got, want] = [await matrix.scores(w), await whole.scores(w)]
        expect(got.length).toBe(want.length)
        expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5)
      }
    }
    const first = await VectorMatrix.build(photos.slice(0, 200), 200, DIM, ROWS, { shardPhotos: 128 })
    const second = await first.extend(photos.slice(200, 205), 5)
    const third = await second.extend(photos.slice(205, 210), 5)
    expect([first.smallTailShards, second.smallTailShards, third.smallTailShards]).toEqual([0, 1, 2])
    const extended = await third.extend(photos.slice(210), 90)
    expect(extended.photoCount).toBe(300)
    expect(extended.smallTailShards).toBe(0)
    expect(Array.from(extended.errorMargins)).toEqual(Array.from(whole.errorMargins))
    await sameAsWhole(extended)
    // The earlier indexes go (as replaced ones do): their shards stay for the extension.
    await first.release()
    await second.release()
    await sameAsWhole(extended)
    // Cut back before its small shards and extended again with their photos: one shard for them, same scores.
    const head = third.withoutSmallTail()
    expect(head.photoCount).toBe(200)
    const compacted = await head.extend(photos.slice(200), 100)
    await head.release()
    expect(compacted.smallTailShards).toBe(0)
    await sameAsWhole(compacted)
    await third.release()
    await extended.release()
    await sameAsWhole(compacted)
    await compacted.release()
    await expect(compacted.scores(terms[0])).rejects.toThrow()
    await whole.release()
  })

  it('refuses a photo count that does not match what it was given', async () => {
    await expect(VectorMatrix.build(photos.slice(0, 3), 4, DIM, ROWS)).rejects.toThrow(/expected 4 photos, got 3/)
    await expect(VectorMatrix.build(photos.slice(0, 5), 4, DIM, ROWS)).rejects.toThrow(/expected 4 photos/)
  })
})
