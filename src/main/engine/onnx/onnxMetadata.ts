import { open } from 'node:fs/promises'
import { SdlError } from '../errors'

/**
 * Reads the metadata_props of an ONNX file without loading its weights. onnxruntime does not
 * expose custom metadata to JavaScript, and a pack must be described (D, K, word space) before
 * any session is created, so we walk ModelProto's top-level fields and skip the graph by length.
 */
export async function readOnnxMetadata(path: string): Promise<Record<string, string>> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new SdlError(`Cannot open ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  })
  try {
    const { size } = await handle.stat()
    const reader = new FieldReader(handle, size, path)
    const props: Record<string, string> = {}
    while (reader.offset < size) {
      const key = await reader.varint()
      const field = Number(key >> 3n)
      const wireType = Number(key & 7n)
      if (field === METADATA_PROPS && wireType === LENGTH_DELIMITED) {
        const entry = await reader.bytes(Number(await reader.varint()))
        const [k, v] = decodeStringPair(entry, path)
        props[k] = v
      } else {
        await reader.skip(wireType)
      }
    }
    return props
  } finally {
    await handle.close()
  }
}

const METADATA_PROPS = 14 // ModelProto.metadata_props (StringStringEntryProto: key = 1, value = 2)
const LENGTH_DELIMITED = 2

class FieldReader {
  offset = 0
  constructor(
    private readonly handle: import('node:fs/promises').FileHandle,
    private readonly size: number,
    private readonly path: string
  ) {}

  async bytes(length: number): Promise<Buffer> {
    if (this.offset + length > this.size) throw this.malformed()
    const buffer = Buffer.alloc(length)
    await this.handle.read(buffer, 0, length, this.offset)
    this.offset += length
    return buffer
  }

  async varint(): Promise<bigint> {
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const [byte] = await this.bytes(1)
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
    }
    throw this.malformed()
  }

  async skip(wireType: number): Promise<void> {
    if (wireType === 0) await this.varint()
    else if (wireType === 1) this.advance(8)
    else if (wireType === 5) this.advance(4)
    else if (wireType === LENGTH_DELIMITED) this.advance(Number(await this.varint()))
    else throw this.malformed()
  }

  private advance(length: number): void {
    if (this.offset + length > this.size) throw this.malformed()
    this.offset += length
  }

  private malformed(): SdlError {
    return new SdlError(`${this.path} is not a valid ONNX model (malformed or truncated at byte ${this.offset})`)
  }
}

function decodeStringPair(entry: Buffer, path: string): [string, string] {
  const out = ['', '']
  let i = 0
  while (i < entry.length) {
    const tag = entry[i++]
    let length = 0
    for (let shift = 0; ; shift += 7) {
      if (i >= entry.length) throw new SdlError(`${path} has a malformed metadata entry`)
      const byte = entry[i++]
      length |= (byte & 0x7f) << shift
      if ((byte & 0x80) === 0) break
    }
    const field = tag >> 3
    if (field === 1 || field === 2) out[field - 1] = entry.subarray(i, i + length).toString('utf8')
    i += length
  }
  return [out[0], out[1]]
}
