import { SdlError } from '../errors'

export type ImageDecodeReason = 'not-found' | 'permission-denied' | 'not-a-file' | 'unreadable' | 'empty' | 'unsupported' | 'corrupt' | 'too-large'

/** A photo that cannot be read or decoded; `message` names it and says why. */
export class ImageDecodeError extends SdlError {
  constructor(
    /** The quoted path, or a description of in-memory input (see describeSource). */
    readonly source: string,
    readonly reason: ImageDecodeReason,
    /** Why, in plain words, without the file name: for lists that already name the file. */
    readonly why: string,
    hint?: string
  ) {
    super(`Cannot read image ${source}: ${why}`, hint)
    this.name = 'ImageDecodeError'
  }
}

/** How errors name a photo: its quoted path, or its size when it is only in memory. */
export function describeSource(input: string | Buffer): string {
  return typeof input === 'string' ? `"${input}"` : `(${input.length} bytes in memory)`
}

/** Why a photo file could not be read, from the file system's error. */
export function fileReadError(err: unknown, source: string): ImageDecodeError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ImageDecodeError(source, 'not-found', 'file not found')
  if (code === 'EACCES' || code === 'EPERM') {
    return new ImageDecodeError(source, 'permission-denied', 'permission denied', 'Check that this user may read the file.')
  }
  if (code === 'EISDIR') return new ImageDecodeError(source, 'not-a-file', 'it is a folder, not a file')
  if (code === 'ELOOP') {
    return new ImageDecodeError(
      source,
      'unreadable',
      'it is a symbolic link loop (the link leads back to itself, directly or through other links)',
      'Delete the link or point it at a photo.'
    )
  }
  return new ImageDecodeError(source, 'unreadable', `the file could not be read (${(err as Error).message})`)
}
