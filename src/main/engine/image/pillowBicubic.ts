/**
 * Pillow's `Image.resize(size, Image.BICUBIC)` for 8-bit RGB, bit for bit: a port of
 * ImagingResample in Pillow's libImaging/Resample.c. The SDL network was trained and is
 * demonstrated on photos resized this way. sharp cannot reproduce it: when enlarging, libvips
 * ignores the kernel option and samples at other positions (its output for the official sample
 * photos, each enlarged along one axis, is far off on average; bench/preprocess-vs-pillow.ts),
 * and when reducing its cubic differs in rounding. So the final step to the model's input size
 * is done here.
 *
 * The algorithm: a separable convolution, horizontal pass first, then vertical. Along each axis
 * every output pixel has its own Catmull-Rom (a = -0.5) kernel centred on it, with the support
 * stretched by the downscale factor (antialiasing), cut at the image border and renormalised to
 * sum to 1, then rounded to fixed point with 22 fractional bits. Each pass rounds and clamps to
 * 0..255, as Pillow does.
 */

const PRECISION_BITS = 22
const ONE = 1 << PRECISION_BITS
const HALF = 1 << (PRECISION_BITS - 1)
const CHANNELS = 3

/** Pillow's bicubic_filter: Keys' cubic convolution with a = -0.5 (Catmull-Rom), support 2. */
function bicubic(x: number): number {
  const a = -0.5
  const t = Math.abs(x)
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a
  return 0
}

/** Per output pixel along one axis: first input index, tap count, and fixed-point weights. */
interface AxisKernel {
  /** Stride of `weights`: the most taps any output pixel uses. */
  taps: number
  first: Int32Array
  count: Int32Array
  weights: Int32Array
}

/** precompute_coeffs + normalize_coeffs_8bpc from Resample.c, same float operations in the same order. */
function axisKernel(inSize: number, outSize: number): AxisKernel {
  const scale = inSize / outSize
  const filterScale = Math.max(scale, 1)
  const support = 2 * filterScale
  const taps = Math.ceil(support) * 2 + 1
  const first = new Int32Array(outSize)
  const count = new Int32Array(outSize)
  const weights = new Int32Array(outSize * taps)
  const raw = new Float64Array(taps)
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale
    // C's (int) cast truncates; both bounds are clamped to the image.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0)
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - lo
    let sum = 0
    for (let i = 0; i < n; i++) {
      raw[i] = bicubic((i + lo - centre + 0.5) / filterScale)
      sum += raw[i]
    }
    for (let i = 0; i < n; i++) {
      const w = sum !== 0 ? raw[i] / sum : raw[i]
      weights[out * taps + i] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE)
    }
    first[out] = lo
    count[out] = n
  }
  return { taps, first, count, weights }
}

/** Fixed-point sum -> byte. Pillow's sums fit in an int32, so `>>` is an exact floor here. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS
  return v < 0 ? 0 : v > 255 ? 255 : v
}

/**
 * Rows `rowFrom`..`rowFrom + rows - 1` of `src` (RGB, `width` wide) resampled to `outWidth`
 * columns.
 */
function horizontalPass(src: Uint8Array, width: number, rowFrom: number, rows: number, k: AxisKernel, outWidth: number): Uint8Array {
  const dst = new Uint8Array(outWidth * rows * CHANNELS)
  const { taps, first, count, weights } = k
  for (let y = 0; y < rows; y++) {
    const rowStart = (rowFrom + y) * width
    let o = y * outWidth * CHANNELS
    for (let x = 0; x < outWidth; x++) {
      let r = HALF
      let g = HALF
      let b = HALF
      let s = (rowStart + first[x]) * CHANNELS
      const wBase = x * taps
      const n = count[x]
      for (let i = 0; i < n; i++, s += CHANNELS) {
        const w = weights[wBase + i]
        r = (r + Math.imul(src[s], w)) | 0
        g = (g + Math.imul(src[s + 1], w)) | 0
        b = (b + Math.imul(src[s + 2], w)) | 0
      }
      dst[o++] = clip8(r)
      dst[o++] = clip8(g)
      dst[o++] = clip8(b)
    }
  }
  return dst
}

/**
 * `src` (RGB, `width` wide, whose row 0 is input row `rowOffset`) resampled to `outHeight` rows.
 * Accumulates whole rows at a time so the inner loop walks memory in order.
 */
function verticalPass(src: Uint8Array, width: number, rowOffset: number, k: AxisKernel, outHeight: number): Uint8Array {
  const stride = width * CHANNELS
  const dst = new Uint8Array(outHeight * stride)
  const acc = new Int32Array(stride)
  const { taps, first, count, weights } = k
  for (let y = 0; y < outHeight; y++) {
    acc.fill(HALF)
    const top = first[y] - rowOffset
    for (let i = 0; i < count[y]; i++) {
      const w = weights[y * taps + i]
      const s = (top + i) * stride
      for (let j = 0; j < stride; j++) acc[j] = (acc[j] + Math.imul(src[s + j], w)) | 0
    }
    const o = y * stride
    for (let j = 0; j < stride; j++) dst[o + j] = clip8(acc[j])
  }
  return dst
}

/**
 * Interleaved 8-bit RGB (`width` x `height`) resized to `outWidth` x `outHeight` exactly as
 * Pillow's `resize((outWidth, outHeight), Image.BICUBIC)` would, aspect ratio not kept.
 */
export function resizeBicubicRgb(src: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (src.length !== width * height * CHANNELS) {
    throw new RangeError(`resizeBicubicRgb: ${src.length} bytes is not ${width}x${height} RGB`)
  }
  let image = src
  let rowOffset = 0
  const vertical = height !== outHeight ? axisKernel(height, outHeight) : null
  if (width !== outWidth) {
    // Like Pillow, run the horizontal pass only over the rows the vertical pass will read.
    const rowFrom = vertical ? vertical.first[0] : 0
    const rowTo = vertical ? vertical.first[outHeight - 1] + vertical.count[outHeight - 1] : height
    image = horizontalPass(src, width, rowFrom, rowTo - rowFrom, axisKernel(width, outWidth), outWidth)
    rowOffset = rowFrom
  }
  return vertical ? verticalPass(image, outWidth, rowOffset, vertical, outHeight) : image
}
