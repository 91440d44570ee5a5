import type { Command } from 'commander'
import { importWordVectors } from '../../engine/lexicon/importVectors'
import type { CliContext } from '../cliContext'
import { createProgressBar } from '../progressBar'

export function registerLexiconCommands(program: Command, ctx: () => CliContext): void {
  const lexicon = program.command('lexicon').description("the words search understands, in the model's word space")

  lexicon
    .command('import <file.vec>')
    .description("import exact word vectors (fastText .vec or word2vec text) for the active pack's word space")
    .action(async (file: string) => {
      const c = ctx()
      const manifest = await c.engine.manifest()
      const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
      const result = await importWordVectors(file, {
        dataDir: c.engine.dataDir,
        wordSpace: manifest.wordSpace,
        dim: manifest.dim,
        onProgress: (p) => bar.update(p)
      }).finally(() => bar.done())
      c.result(`Imported ${result.words} ${result.dim}-d word vectors for ${manifest.wordSpace}; search now uses them for pack ${manifest.name}`, result)
    })
}
