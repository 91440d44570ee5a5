export const PACK_FORMAT = 1

/** `pack.json`: everything the engine needs to know about a pack without opening the model. */
export interface PackManifest {
  format: typeof PACK_FORMAT
  name: string
  description: string
  /** Word-vector dimension D and number of principal vectors K: the output is D*K numbers. */
  dim: number
  rows: number
  /** `dk`: output element d*K + k is A[d][k] (the only layout the official model uses). */
  layout: 'dk'
  wordSpace: string
  input: string
  modelFile: string
  modelSha256: string
  vocabulary: { tagsFile: string; vectorsFile: string; tagCount: number; unseenCount: number } | null
  origin: 'import' | 'add' | 'install'
  /** Where the model came from (file names, URLs, checksums), for the user's records. */
  source: Record<string, string>
  createdAt: string
}

/** A pack's tags with their unit word vectors, row-major [tag][D]. */
export interface PackVocabulary {
  tags: string[]
  unseen: Set<string>
  dim: number
  vectors: Float32Array
}
