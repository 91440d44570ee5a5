#!/usr/bin/env node
// Renders the app icon's PNGs from resources/icon.svg. electron-builder converts the 1024 px one
// into the macOS .icns and the Windows .ico, and installs both sizes as the Linux icon set, so the
// SVG stays the only drawn source. Run again after changing the SVG, and commit the PNGs.
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const resources = fileURLToPath(new URL('../resources/', import.meta.url))

for (const size of [512, 1024]) {
  await sharp(`${resources}icon.svg`, { density: (72 * size) / 1024 })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(`${resources}icons/${size}x${size}.png`)
}
