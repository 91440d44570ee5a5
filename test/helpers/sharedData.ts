import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** ../shared beside the checkout: read in place, never copied into the project. */
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url))
export const SDL_DIR = join(SHARED, 'sdl')
export const CONSE_ONNX = join(SHARED, 'models/conse-mobilenetv2-glove100/conse-mobilenetv2-glove100.onnx')
export const COCO_DIR = join(SHARED, 'photos/coco-dev')

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'sdl-tagger-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The first `count` COCO dev photos' file names, in name order: the same photos on every machine. */
export function cocoPhotoNames(count: number): string[] {
  return readdirSync(COCO_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, count)
}
