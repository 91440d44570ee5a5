import { runCliCaptured } from '../test/helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX } from '../test/helpers/sharedData'

/** A data folder with the ConSE pack installed and the COCO dev photos indexed, made through the CLI as a user would. */
export async function indexCocoThroughCli(dataDir: string): Promise<void> {
  const cli = async (...args: string[]) => {
    const run = await runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
    if (run.code !== 0) throw new Error(`sdl-tagger ${args.join(' ')}: ${run.stderr}`)
  }
  await cli('model', 'add', CONSE_ONNX, '--name', 'conse')
  await cli('folders', 'add', COCO_DIR)
  await cli('index')
}
