import { once } from 'node:events'
import { createDeflate, crc32 } from 'node:zlib'

/**
 * `png` with a compressed text chunk (zTXt, or iTXt with its compressed flag set) right after
 * IHDR whose text inflates to `inflatedMB` MB of one repeated letter: a few hundred KB on disk.
 */
export async function withCompressedText(png: Buffer, keyword: string, inflatedMB: number, type: 'zTXt' | 'iTXt' = 'zTXt'): Promise<Buffer> {
  // zTXt: keyword, 0, method. iTXt: keyword, 0, compressed flag, method, language, 0, translated keyword, 0.
  const header = type === 'zTXt' ? `${keyword}\0\0` : `${keyword}\0\x01\0en\0${keyword}\0`
  return withChunk(png, type, Buffer.concat([Buffer.from(header, 'latin1'), await deflatedLetters(inflatedMB)]))
}

/** `png` with a chunk of `type` holding `data` right after IHDR. */
export function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  // Signature (8 bytes), then IHDR: length, type, its data, CRC.
  const afterIhdr = 8 + 8 + png.readUInt32BE(8) + 4
  return Buffer.concat([png.subarray(0, afterIhdr), chunk(type, data), png.subarray(afterIhdr)])
}

/** `megabytes` MB of 'A' deflated 1 MB at a time, so making it never holds more than that. */
async function deflatedLetters(megabytes: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 })
  const compressed: Buffer[] = []
  deflate.on('data', (piece: Buffer) => compressed.push(piece))
  const ended = once(deflate, 'end')
  const megabyte = Buffer.alloc(1 << 20, 'A')
  for (let i = 0; i < megabytes; i++) if (!deflate.write(megabyte)) await once(deflate, 'drain')
  deflate.end()
  await ended
  return Buffer.concat(compressed)
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0)
  return Buffer.concat([head, data, crc])
}
