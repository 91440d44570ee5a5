import type { OpenDialogOptions } from 'electron'
import type { Result } from '../../shared/api'
import { PICK_CHANNEL, PICK_KINDS, type PickKind } from '../../shared/shell'
import { SdlError } from '../engine/errors'
import type { IpcMainLike } from './ipc'
import { toResult } from './ipc'

/** The part of Electron's dialog module the picker uses, so tests can pass a fake one. */
export interface DialogLike {
  /** `window` is the one that asked (the dialog is modal to it), or null when it is gone. */
  showOpenDialog(window: unknown, options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>
}

const PICKERS: Record<PickKind, OpenDialogOptions> = {
  folder: { title: 'Add a folder of photos', buttonLabel: 'Add folder', properties: ['openDirectory'] },
  vocabulary: { title: 'The folder with classes.pickle, unseen_classes.pickle and wordvec_array.pickle', buttonLabel: 'Choose', properties: ['openDirectory'] },
  onnx: { title: 'Choose an ONNX model pack', buttonLabel: 'Choose', properties: ['openFile'], filters: [{ name: 'ONNX model', extensions: ['onnx'] }] },
  checkpoint: { title: 'Choose an SDL checkpoint', buttonLabel: 'Choose', properties: ['openFile'], filters: [{ name: 'PyTorch checkpoint', extensions: ['pth'] }] }
}

/** The system's open dialog for one kind of pick. */
export function pickerOptions(kind: PickKind): OpenDialogOptions {
  return PICKERS[kind]
}

/**
 * Answers the renderer's `pick(kind)` with the system's open dialog, modal to the window that
 * asked: the chosen path, or null when cancelled. A kind the contract lacks is refused before any
 * dialog opens. Returns the function that removes the handler.
 */
export function registerPickerHandler(ipcMain: IpcMainLike, dialog: DialogLike, windowOf: (event: unknown) => unknown): () => void {
  ipcMain.handle(PICK_CHANNEL, (event, kind): Promise<Result<string | null>> =>
    toResult(async () => {
      if (!PICK_KINDS.includes(kind as PickKind)) throw new SdlError(`pick: argument 'kind' must be one of ${PICK_KINDS.join(', ')}`)
      const { canceled, filePaths } = await dialog.showOpenDialog(windowOf(event), pickerOptions(kind as PickKind))
      return canceled || !filePaths.length ? null : filePaths[0]
    })
  )
  return () => ipcMain.removeHandler(PICK_CHANNEL)
}
