import type { Command } from 'commander'
import type { ModelInfo } from '../../../shared/models'
import { catalogNames } from '../../engine/models/catalog'
import { installCatalogPack } from '../../engine/models/installPack'
import { addOnnxModel, importSdlCheckpoint } from '../../engine/models/packBuilders'
import type { CliContext } from '../cliContext'
import { createProgressBar } from '../progressBar'

export function registerModelCommands(program: Command, ctx: () => CliContext): void {
  const model = program.command('model').description('install, import, add and choose model packs')

  model
    .command('list')
    .description('list installed model packs')
    .action(async () => {
      const packs = await ctx().engine.packs.list()
      const human = packs.length
        ? packs.map((m) => `${m.active ? '*' : ' '} ${describePack(m)}`).join('\n')
        : 'No model packs installed. Run `sdl-tagger model install sdl-nus-wide`.'
      ctx().result(human, packs)
    })

  model
    .command('use <name>')
    .description('make a pack the active model')
    .action(async (name: string) => {
      await ctx().engine.packs.use(name)
      ctx().result(`Active model: ${name}`, { active: name })
    })

  model
    .command('remove <name>')
    .description('delete a model pack')
    .action(async (name: string) => {
      await ctx().engine.packs.remove(name)
      ctx().result(`Removed ${name}`, { removed: name })
    })

  model
    .command('import <checkpoint>')
    .description('convert an official SDL PyTorch checkpoint (.pth) and its vocabulary into a pack, without Python')
    .requiredOption('--vocab <dir>', 'folder with classes.pickle, unseen_classes.pickle and wordvec_array.pickle')
    .option('--name <name>', 'pack name', 'sdl-nus-wide')
    .option('--replace', 'overwrite an existing pack of that name')
    .action(async (checkpoint: string, opts: { vocab: string; name: string; replace?: boolean }) => {
      const c = ctx()
      const started = Date.now()
      const info = await importSdlCheckpoint(c.engine.packs, {
        checkpointPath: checkpoint,
        vocabDir: opts.vocab,
        name: opts.name,
        replace: opts.replace,
        onStep: (m) => c.info(m)
      })
      c.result(`Imported ${describePack(info)} in ${((Date.now() - started) / 1000).toFixed(1)} s`, info)
    })

  model
    .command('add <onnx>')
    .description('register an ONNX model that declares the SDL contract in its metadata (sdl.dim, sdl.rows, ...)')
    .requiredOption('--name <name>', 'pack name')
    .option('--vocab <dir>', 'optional vocabulary folder in the official pickle format')
    .option('--replace', 'overwrite an existing pack of that name')
    .action(async (onnx: string, opts: { name: string; vocab?: string; replace?: boolean }) => {
      const info = await addOnnxModel(ctx().engine.packs, { onnxPath: onnx, name: opts.name, vocabDir: opts.vocab, replace: opts.replace })
      ctx().result(`Added ${describePack(info)}`, info)
    })

  model
    .command('install <name>')
    .description(`download and import a published model (${catalogNames().join(', ')})`)
    .option('--mirror <url>', 'download from a mirror that serves the same file names')
    .option('--replace', 'download and import again over an installed pack')
    .action((name: string, opts: { mirror?: string; replace?: boolean }) => installModel(ctx(), name, opts))
}

/** `model install`, with its progress bar; also what first use runs when the user says yes. */
export async function installModel(c: CliContext, name: string, opts: { mirror?: string; replace?: boolean } = {}): Promise<void> {
  const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
  try {
    const info = await installCatalogPack(c.engine.packs, name, {
      mirror: opts.mirror,
      replace: opts.replace,
      onProgress: (p) => bar.update(p),
      onStep: (m) => {
        bar.done()
        c.info(m)
      }
    })
    c.result(`Installed ${describePack(info)}`, info)
  } finally {
    bar.done()
  }
}

function describePack(m: ModelInfo): string {
  const vocab = m.tagCount ? `${m.tagCount} tags (${m.unseenTagCount} unseen)` : 'no tag vocabulary'
  return `${m.name}: ${m.rows} principal vectors x ${m.dim}-d ${m.wordSpace}, ${vocab}`
}
