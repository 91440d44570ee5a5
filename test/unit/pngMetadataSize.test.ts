import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pngMetadataProblem } from '../../src/main/engine/xmp/pngMetadataSize'
import { withChunk, withCompressedText } from '../helpers/hostilePng'
import { tempDir } from '../helpers/sharedData'

describe('pngMetadataProblem', () => {
  const tmp = tempDir()
  let png: Buffer
  const file = (name: string, bytes: Buffer | string) => {
    const path = join(tmp.dir, name)
    writeFileSync(path, bytes)
    return path
  }
  beforeAll(async () => {
    png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
      .png()
      .toBuffer()
  })
  afterAll(() => tmp.cleanup())

  it('passes other files, a plain PNG, and compressed text within the limit', async () => {
    expect(await pngMetadataProblem(file('a.jpg', 'not a png'))).toBeNull()
    expect(await pngMetadataProblem(join(tmp.dir, 'missing.png'))).toBeNull()
    expect(await pngMetadataProblem(tmp.dir)).toBeNull()
    expect(await pngMetadataProblem(file('plain.png', png))).toBeNull()
    expect(await pngMetadataProblem(file('text.png', await withCompressedText(png, 'Comment', 8)))).toBeNull()
  })

  it('refuses zTXt and iTXt chunks that inflate past the limit, naming them', async () => {
    expect(await pngMetadataProblem(file('z.png', await withCompressedText(png, 'Comment', 100)))).toMatch(
      /^not read: its metadata comes to more than 64 MB once inflated \(reached at its zTXt chunk 'Comment'\)/
    )
    expect(await pngMetadataProblem(file('i.png', await withCompressedText(png, 'XML:com.adobe.xmp', 100, 'iTXt')))).toMatch(/reached at its iTXt chunk 'XML:com.adobe.xmp'/)
  })

  it('counts all chunks together, and refuses a chunk claiming more bytes than the limit', async () => {
    let several = png
    for (let i = 0; i < 3; i++) several = await withCompressedText(several, `Part${i}`, 30)
    expect(await pngMetadataProblem(file('several.png', several))).toMatch(/reached at its zTXt chunk 'Part\d'/)
    // ExifTool would allocate what the header claims before finding the file short.
    const claim = withChunk(png, 'tEXt', Buffer.from('Comment\0hi'))
    claim.writeUInt32BE(0x70000000, 8 + 8 + 13 + 4) // its length field, after the signature and IHDR
    expect(await pngMetadataProblem(file('claim.png', claim))).toMatch(/reached at its tEXt chunk\)/)
  })
})
