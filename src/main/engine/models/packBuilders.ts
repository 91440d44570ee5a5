import { copyFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ModelInfo } from '../../../shared/models'
import { readOfficialVocabulary } from '../checkpoint/officialVocabulary'
import { readTorchCheckpoint } from '../checkpoint/torchCheckpoint'
import { SdlError } from '../errors'
import { readOnnxMetadata } from '../onnx/onnxMetadata'
import { buildTresnetSdlOnnx, tresnetSdlManifest, validateTresnetSdlStateDict } from '../onnx/tresnetSdl'
import type { PackManifest } from './packManifest'
import type { PackStore } from './packStore'
import { SUPPORTED_INPUT, parseSdlMetadata } from './sdlMetadata'

/** The official model has 7 principal vectors; the checkpoint does not record it. */
export const OFFICIAL_SDL_ROWS = 7
/** The official vocabulary's word vectors are fastText English, 300-d. */
export const OFFICIAL_WORD_SPACE = 'fasttext-en-300'

const MODEL_FILE = 'model.onnx'
const TAGS_FILE = 'tags.json'
const VECTORS_FILE = 'wordvecs-f32le.bin'

export interface ImportOptions {
  checkpointPath: string
  vocabDir: string
  name: string
  replace?: boolean
  /** Extra provenance recorded in the manifest (e.g. the URL a file was downloaded from). */
  source?: Record<string, string>
  origin?: PackManifest['origin']
  onStep?: (message: string) => void
}

/**
 * Turns an official SDL checkpoint and its three vocabulary pickles into a pack: the TResNet-M
 * graph as ONNX (batch norm folded), plus the tags and their word vectors. Everything is read
 * and checked before the pack appears; see PackStore.create for the atomicity.
 */
export async function importSdlCheckpoint(store: PackStore, opts: ImportOptions): Promise<ModelInfo> {
  const step = opts.onStep ?? (() => {})
  return store.create(
    opts.name,
    async (staging) => {
      step(`Reading vocabulary from ${opts.vocabDir}`)
      const vocab = await readOfficialVocabulary(opts.vocabDir)
      step(`Reading checkpoint ${opts.checkpointPath}`)
      // Only tensors of the shapes that fit this vocabulary are read, so a hostile file cannot make the import allocate more.
      const stateDict = await readTorchCheckpoint(opts.checkpointPath, tresnetSdlManifest({ dim: vocab.dim, rows: OFFICIAL_SDL_ROWS }))
      step('Checking every tensor against the TResNet-M SDL architecture')
      const { dim } = validateTresnetSdlStateDict(stateDict, { rows: OFFICIAL_SDL_ROWS })
      const description = `SDL TResNet-M, imported from ${basename(opts.checkpointPath)}`
      step('Building the ONNX graph (batch norm folded into convolutions)')
      const onnx = buildTresnetSdlOnnx(stateDict, {
        rows: OFFICIAL_SDL_ROWS,
        wordSpace: OFFICIAL_WORD_SPACE,
        extraMetadata: { description }
      })
      stateDict.clear()
      step('Writing the model pack')
      await writeFile(join(staging, MODEL_FILE), onnx)
      await writeVocabulary(staging, vocab)
      return {
        description,
        dim,
        rows: OFFICIAL_SDL_ROWS,
        layout: 'dk',
        wordSpace: OFFICIAL_WORD_SPACE,
        input: SUPPORTED_INPUT,
        modelFile: MODEL_FILE,
        vocabulary: vocabularyEntry(vocab),
        origin: opts.origin ?? 'import',
        source: { checkpoint: opts.checkpointPath, vocabulary: opts.vocabDir, ...opts.source }
      }
    },
    { replace: opts.replace }
  )
}

export interface AddOptions {
  onnxPath: string
  name: string
  vocabDir?: string
  replace?: boolean
}

/** Registers any ONNX model that declares the SDL contract in its metadata_props. */
export async function addOnnxModel(store: PackStore, opts: AddOptions): Promise<ModelInfo> {
  const contract = parseSdlMetadata(await readOnnxMetadata(opts.onnxPath), opts.onnxPath)
  return store.create(
    opts.name,
    async (staging) => {
      let vocabulary: PackManifest['vocabulary'] = null
      if (opts.vocabDir) {
        const vocab = await readOfficialVocabulary(opts.vocabDir)
        if (vocab.dim !== contract.dim) {
          throw new SdlError(`${opts.onnxPath} declares sdl.dim=${contract.dim} but the vocabulary in ${opts.vocabDir} has ${vocab.dim}-d vectors`)
        }
        await writeVocabulary(staging, vocab)
        vocabulary = vocabularyEntry(vocab)
      }
      await copyFile(opts.onnxPath, join(staging, MODEL_FILE))
      return {
        description: contract.description || `ONNX model added from ${basename(opts.onnxPath)}`,
        dim: contract.dim,
        rows: contract.rows,
        layout: contract.layout,
        wordSpace: contract.wordSpace,
        input: contract.input,
        modelFile: MODEL_FILE,
        vocabulary,
        origin: 'add',
        source: { onnx: opts.onnxPath, ...(opts.vocabDir ? { vocabulary: opts.vocabDir } : {}) }
      }
    },
    { replace: opts.replace }
  )
}

interface Vocabulary {
  tags: string[]
  unseen: string[]
  dim: number
  vectors: Float32Array
}

async function writeVocabulary(dir: string, vocab: Vocabulary): Promise<void> {
  await writeFile(join(dir, TAGS_FILE), JSON.stringify({ tags: vocab.tags, unseen: vocab.unseen }) + '\n')
  // Little-endian on every platform this runs on, so the Float32Array bytes go out as they are.
  await writeFile(join(dir, VECTORS_FILE), new Uint8Array(vocab.vectors.buffer, vocab.vectors.byteOffset, vocab.vectors.byteLength))
}

function vocabularyEntry(vocab: Vocabulary): NonNullable<PackManifest['vocabulary']> {
  return { tagsFile: TAGS_FILE, vectorsFile: VECTORS_FILE, tagCount: vocab.tags.length, unseenCount: vocab.unseen.length }
}
