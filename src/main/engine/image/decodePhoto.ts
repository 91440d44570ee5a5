import { readFile } from 'node:fs/promises'
import { describeSource, fileReadError } from './imageDecodeError'
import { isRawFileName } from './photoFiles'
import { type PhotoMetadata, rawPhotoMetadata, readPhotoMetadata } from './photoMetadata'
import { decodeToModelInput } from './preprocess'
import { withRawPreview } from './rawPhoto'

/**
 * What the indexer stores for the photo at `path` and the model's input made from it: from its
 * bytes (read here unless given), or, for a camera RAW, from its embedded preview and its own
 * metadata, read by ExifTool from the file (`bytes` are not needed). Errors are ImageDecodeError naming `path`.
 */
export async function decodePhoto(path: string, bytes?: Buffer): Promise<{ details: PhotoMetadata; pixels: Float32Array }> {
  if (isRawFileName(path)) return withRawPreview(path, async (raw) => ({ details: rawPhotoMetadata(raw, path), pixels: await decodeToModelInput(raw.jpeg) }))
  const content = bytes ?? (await readPhotoFile(path))
  const [details, pixels] = await Promise.all([readPhotoMetadata(content, path), decodeToModelInput(content)])
  return { details, pixels }
}

async function readPhotoFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw fileReadError(err, describeSource(path))
  }
}
