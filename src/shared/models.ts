/** A model pack as every front end (CLI, window, web mode) sees it. */
export interface ModelInfo {
  name: string
  /** Word-vector dimension D. */
  dim: number
  /** Number of principal vectors K. */
  rows: number
  /** Identifier of the word space the principal vectors live in, e.g. `fasttext-en-300`. */
  wordSpace: string
  /** Input contract, e.g. `rgb01-224-stretch`. */
  input: string
  /** Tags shipped with the pack (0 when it has no vocabulary of its own). */
  tagCount: number
  unseenTagCount: number
  /** How the pack was made: `import` of a checkpoint, `add` of an ONNX file, `install` from the catalogue. */
  origin: 'import' | 'add' | 'install'
  description: string
  createdAt: string
  active: boolean
}

/** One scored tag for one photo. */
export interface TagScore {
  tag: string
  score: number
  /** True for tags the model never saw in training (zero-shot). */
  unseen: boolean
  /** A keyword of the user's, suggested by the vector learned from this many photos that carry it. */
  learnedFrom?: number
}
