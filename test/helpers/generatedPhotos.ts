import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import sharp from 'sharp'

/**
 * A small JPEG unique to `seed`: a colour gradient plus a seeded pattern, so every seed gives
 * different content (and so a different fingerprint) while staying a plausible photo.
 */
export async function writeTestPhoto(path: string, seed: number, size = { width: 96, height: 64 }): Promise<void> {
  mkdirSync(dirname(path), { recursive: true })
  const { width, height } = size
  const pixels = Buffer.alloc(width * height * 3)
  let s = seed * 2654435761
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0
      const i = (y * width + x) * 3
      pixels[i] = (x * 255) / width
      pixels[i + 1] = (y * 255) / height
      pixels[i + 2] = (seed * 37 + (s >>> 24)) & 0xff
    }
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(path)
}
