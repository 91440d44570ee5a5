import { SdlError } from '../errors'

/** The ONNX metadata_props that make a model usable as an SDL Tagger pack. */
export interface SdlModelContract {
  dim: number
  rows: number
  layout: 'dk'
  wordSpace: string
  input: string
  description: string
}

export const SUPPORTED_INPUT = 'rgb01-224-stretch'

/**
 * Checks an ONNX model's metadata against the contract. The engine takes D, K and the word space
 * from here, so a model without them cannot be scored correctly and is refused up front.
 */
export function parseSdlMetadata(props: Record<string, string>, file: string): SdlModelContract {
  const missing = ['sdl.dim', 'sdl.rows', 'sdl.layout', 'sdl.word_space', 'sdl.input'].filter((k) => !(k in props))
  if (missing.length) {
    throw new SdlError(
      `${file} lacks the SDL metadata ${missing.join(', ')}`,
      'An SDL Tagger model declares its output in ONNX metadata_props: sdl.dim (D), sdl.rows (K), sdl.layout=dk, sdl.word_space and sdl.input=rgb01-224-stretch.'
    )
  }
  const dim = positiveInt(props['sdl.dim'], 'sdl.dim', file)
  const rows = positiveInt(props['sdl.rows'], 'sdl.rows', file)
  if (props['sdl.layout'] !== 'dk') {
    throw new SdlError(`${file} declares sdl.layout=${props['sdl.layout']}; only 'dk' (element d*K + k = A[d][k]) is supported`)
  }
  if (props['sdl.input'] !== SUPPORTED_INPUT) {
    throw new SdlError(`${file} declares sdl.input=${props['sdl.input']}; only '${SUPPORTED_INPUT}' (RGB in [0,1], stretched to 224x224) is supported`)
  }
  return { dim, rows, layout: 'dk', wordSpace: props['sdl.word_space'], input: SUPPORTED_INPUT, description: props.description ?? '' }
}

function positiveInt(value: string, key: string, file: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new SdlError(`${file} declares ${key}=${value}, which is not a positive integer`)
  return n
}
