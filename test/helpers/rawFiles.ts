import { rmSync, writeFileSync } from 'node:fs'
import sharp from 'sharp'
import { ExifToolRunner } from '../../src/main/engine/xmp/exifToolRunner'

/**
 * Stand-ins for camera RAW files, which cannot be downloaded here: TIFF files laid out as cameras
 * lay out theirs, whose main image (where a RAW keeps its sensor data) is a flat grey, with a
 * real photo embedded by ExifTool where the camera puts its JPEG preview. A reader that decodes
 * the main image instead of the preview sees only grey.
 */

/** Where the preview goes, as in the cameras' own files. */
export type RawLayout =
  /** DNG: a reduced-resolution SubIFD holding a JPEG (Compression 7): ExifTool's PreviewImage. */
  | 'dng'
  /** NEF: a SubIFD with JPEGInterchangeFormat: ExifTool's JpgFromRaw. */
  | 'nef'

export interface TestRaw {
  layout: RawLayout
  /** The JPEG ExifTool embeds as the preview. */
  preview: Buffer
  /** The main (sensor-data) image's size, filled with grey level 128. */
  main?: { width: number; height: number }
  /** More tags for ExifTool to write, e.g. `-Orientation#=6`, `-DateTimeOriginal=2023:06:01 08:15:00`. */
  tags?: readonly string[]
}

/** The flat grey of every test RAW's main image. */
export const RAW_MAIN_GREY = 128

const TYPE = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4 } as const

interface Entry {
  tag: number
  type: number
  values: number[] | string
  /** A LONG that holds the offset of the `blob` of this name, patched once the layout is known. */
  pointsTo?: string
}

/**
 * Writes `raw` to `path` and returns `path`. ExifTool can replace an embedded image but not make
 * one, so the file is first written with a placeholder JPEG in the preview's place. The runner is
 * the caller's, to be closed by it.
 */
export async function writeTestRaw(exifTool: ExifToolRunner, path: string, raw: TestRaw): Promise<string> {
  const main = raw.main ?? { width: 320, height: 240 }
  const placeholder = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer()
  writeFileSync(path, tiffWithPreviewSlot(raw.layout, main, placeholder))
  const previewFile = `${path}.preview.jpg`
  writeFileSync(previewFile, raw.preview)
  const previewTag = raw.layout === 'dng' ? 'PreviewImage' : 'JpgFromRaw'
  const out = await exifTool.run(['-overwrite_original', `-${previewTag}<=${previewFile}`, ...(raw.tags ?? []), path])
  if (out.errors.length || !/1 image files updated/.test(out.stdout)) throw new Error(`ExifTool could not make ${path}: ${out.errors.join('; ')} ${out.stdout}`)
  rmSync(previewFile)
  return path
}

/** A little-endian TIFF: IFD0 the grey RGB main image, one SubIFD the preview slot. */
function tiffWithPreviewSlot(layout: RawLayout, main: { width: number; height: number }, placeholder: Buffer): Buffer {
  const grey = Buffer.alloc(main.width * main.height * 3, RAW_MAIN_GREY)
  const ifd0: Entry[] = [
    { tag: 0xfe, type: TYPE.LONG, values: [0] },
    { tag: 0x100, type: TYPE.LONG, values: [main.width] },
    { tag: 0x101, type: TYPE.LONG, values: [main.height] },
    { tag: 0x102, type: TYPE.SHORT, values: [8, 8, 8] },
    { tag: 0x103, type: TYPE.SHORT, values: [1] },
    { tag: 0x106, type: TYPE.SHORT, values: [2] },
    { tag: 0x10f, type: TYPE.ASCII, values: layout === 'nef' ? 'NIKON CORPORATION' : 'Canon' },
    { tag: 0x110, type: TYPE.ASCII, values: layout === 'nef' ? 'NIKON D750' : 'Canon EOS R5' },
    { tag: 0x111, type: TYPE.LONG, values: [0], pointsTo: 'grey' },
    { tag: 0x112, type: TYPE.SHORT, values: [1] },
    { tag: 0x115, type: TYPE.SHORT, values: [3] },
    { tag: 0x116, type: TYPE.LONG, values: [main.height] },
    { tag: 0x117, type: TYPE.LONG, values: [grey.length] },
    { tag: 0x11c, type: TYPE.SHORT, values: [1] },
    { tag: 0x14a, type: TYPE.LONG, values: [0], pointsTo: 'subIfd' },
    ...(layout === 'dng' ? [{ tag: 0xc612, type: TYPE.BYTE, values: [1, 4, 0, 0] }] : [])
  ]
  const slot: Entry[] =
    layout === 'dng'
      ? [
          { tag: 0xfe, type: TYPE.LONG, values: [1] },
          { tag: 0x100, type: TYPE.LONG, values: [16] },
          { tag: 0x101, type: TYPE.LONG, values: [16] },
          { tag: 0x102, type: TYPE.SHORT, values: [8, 8, 8] },
          { tag: 0x103, type: TYPE.SHORT, values: [7] },
          { tag: 0x106, type: TYPE.SHORT, values: [6] },
          { tag: 0x111, type: TYPE.LONG, values: [0], pointsTo: 'placeholder' },
          { tag: 0x115, type: TYPE.SHORT, values: [3] },
          { tag: 0x116, type: TYPE.LONG, values: [16] },
          { tag: 0x117, type: TYPE.LONG, values: [placeholder.length] }
        ]
      : [
          { tag: 0xfe, type: TYPE.LONG, values: [1] },
          { tag: 0x103, type: TYPE.SHORT, values: [6] },
          { tag: 0x201, type: TYPE.LONG, values: [0], pointsTo: 'placeholder' },
          { tag: 0x202, type: TYPE.LONG, values: [placeholder.length] }
        ]
  return layoutTiff([ifd0, slot], { grey, placeholder }, { subIfd: 1 })
}

/**
 * Lays out `ifds` (not chained: the second and later are reached through pointers) and `blobs`
 * after the header; `ifdNames` maps a pointer name to the index of the IFD it points at.
 */
function layoutTiff(ifds: Entry[][], blobs: Record<string, Buffer>, ifdNames: Record<string, number>): Buffer {
  const size = (e: Entry) => (typeof e.values === 'string' ? e.values.length + 1 : e.values.length) * (e.type === TYPE.SHORT ? 2 : e.type === TYPE.LONG ? 4 : 1)
  let at = 8
  const ifdAt: number[] = []
  for (const ifd of ifds) {
    ifdAt.push(at)
    at += 2 + ifd.length * 12 + 4
    for (const e of ifd) if (size(e) > 4) at += size(e) + (size(e) & 1)
  }
  const blobAt: Record<string, number> = {}
  for (const [name, blob] of Object.entries(blobs)) {
    blobAt[name] = at
    at += blob.length + (blob.length & 1)
  }
  const file = Buffer.alloc(at)
  file.write('II', 0, 'latin1')
  file.writeUInt16LE(42, 2)
  file.writeUInt32LE(ifdAt[0], 4)
  ifds.forEach((ifd, i) => {
    let entryAt = ifdAt[i] + 2
    let dataAt = ifdAt[i] + 2 + ifd.length * 12 + 4
    file.writeUInt16LE(ifd.length, ifdAt[i])
    for (const e of ifd) {
      const values = e.pointsTo ? [e.pointsTo in ifdNames ? ifdAt[ifdNames[e.pointsTo]] : blobAt[e.pointsTo]] : e.values
      const bytes = encodeValues(e.type, values)
      file.writeUInt16LE(e.tag, entryAt)
      file.writeUInt16LE(e.type, entryAt + 2)
      file.writeUInt32LE(typeof values === 'string' ? values.length + 1 : values.length, entryAt + 4)
      if (bytes.length <= 4) bytes.copy(file, entryAt + 8)
      else {
        file.writeUInt32LE(dataAt, entryAt + 8)
        bytes.copy(file, dataAt)
        dataAt += bytes.length + (bytes.length & 1)
      }
      entryAt += 12
    }
    file.writeUInt32LE(0, entryAt)
  })
  for (const [name, blob] of Object.entries(blobs)) blob.copy(file, blobAt[name])
  return file
}

function encodeValues(type: number, values: number[] | string): Buffer {
  if (typeof values === 'string') return Buffer.from(`${values}\0`, 'latin1')
  const width = type === TYPE.SHORT ? 2 : type === TYPE.LONG ? 4 : 1
  const bytes = Buffer.alloc(values.length * width)
  values.forEach((v, i) => (width === 2 ? bytes.writeUInt16LE(v, i * 2) : width === 4 ? bytes.writeUInt32LE(v, i * 4) : bytes.writeUInt8(v, i)))
  return bytes
}
