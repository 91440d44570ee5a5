import type { Result } from './api'

/**
 * What only the Electron window can do, beside the engine's API: ask the system for a folder or
 * a file, and name a file or folder dropped onto the window. A browser (web mode) can do neither:
 * there the engine's `browseFolder` lists the server's folders instead.
 */

/** What the picker asks for: a photo folder, or a model file to add (an ONNX pack) or import (a checkpoint). */
export type PickKind = 'folder' | 'vocabulary' | 'onnx' | 'checkpoint'

export const PICK_KINDS: readonly PickKind[] = ['folder', 'vocabulary', 'onnx', 'checkpoint']

export interface ShellBridge {
  /** The system's open dialog; null when the user cancelled it. */
  pick(kind: PickKind): Promise<Result<string | null>>
  /** Where a file or folder dropped onto the window is. */
  pathOf(file: File): string
}

/** The IPC channel of the picker (ipcRenderer.invoke(channel, kind)). */
export const PICK_CHANNEL = 'sdl:shell:pick'
