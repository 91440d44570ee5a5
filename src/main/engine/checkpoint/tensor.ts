/** Element types that torch and numpy files can hold. */
export type TensorDType = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool'

/**
 * A dense, contiguous (row-major) tensor read from a checkpoint or a pickle. Floating-point
 * tensors of any stored precision are widened or kept as Float32Array, since the engine computes
 * in float32; integer tensors keep their values (int64 as BigInt64Array).
 */
export interface Tensor {
  /** The dtype the file stored, before any widening. */
  dtype: TensorDType
  shape: number[]
  data: Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array
}

/** Parameter name -> tensor, as in a PyTorch state_dict. */
export type StateDict = Map<string, Tensor>

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/** A tensor a model needs: its shape, and the dtypes it may be stored in. */
export interface ExpectedTensor {
  shape: readonly number[]
  dtypes: readonly TensorDType[]
  /** Where a dimension comes from something other than the architecture (e.g. the vocabulary), says so. */
  note?: string
}

/**
 * What a checkpoint must hold for a model. Readers check every tensor against it before reading
 * any data, and skip tensors it does not list, so a file's claims cannot make them allocate more
 * than the model needs.
 */
export interface TensorManifest {
  /** Names the model in errors. */
  model: string
  /** The hint of errors about tensors that do not fit. */
  hint: string
  tensors: ReadonlyMap<string, ExpectedTensor>
}
