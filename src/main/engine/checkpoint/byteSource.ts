import { open } from 'node:fs/promises'
import { SdlError } from '../errors'

/**
 * Random access to a file's bytes, so that readers take into memory only the parts they need
 * and a huge or hostile file costs no more than a well-formed one.
 */
export interface ByteSource {
  /** Names the bytes in errors (a file path). */
  readonly name: string
  readonly size: number
  /** The `length` bytes from `offset`, or fewer where the source ends first. */
  read(offset: number, length: number): Promise<Buffer>
}

export function bufferSource(buffer: Buffer, name: string): ByteSource {
  return {
    name,
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length))
  }
}

/** Opens `path`, runs `use` on it and closes it again, whatever `use` does. */
export async function withFileSource<T>(path: string, use: (source: ByteSource) => Promise<T>): Promise<T> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new SdlError(`Cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  })
  try {
    const { size } = await handle.stat()
    return await use({
      name: path,
      size,
      read: async (offset, length) => {
        // A fresh ArrayBuffer per read (never the shared pool), so typed arrays can view it aligned.
        const buffer = Buffer.from(new ArrayBuffer(Math.max(0, Math.min(length, size - offset))))
        let filled = 0
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, offset + filled)
          if (bytesRead === 0) break
          filled += bytesRead
        }
        return buffer.subarray(0, filled)
      }
    })
  } finally {
    await handle.close()
  }
}
