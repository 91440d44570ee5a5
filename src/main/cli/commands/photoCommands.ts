import type { Command } from 'commander'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'

export function registerPhotoCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('tag <images...>')
    .description("print each photo's best tags from the model's vocabulary (*tag* = unseen in training)")
    .option('--top <n>', 'how many tags per photo', positiveInt, 10)
    .option('--batch <n>', 'photos per inference run', positiveInt, 16)
    .action(async (images: string[], opts: { top: number; batch: number }) => {
      const c = ctx()
      await reportSession(c)
      const results = []
      for await (const r of c.engine.tag(images, { top: opts.top, batchSize: opts.batch })) {
        if ('error' in r) c.warn(r.error)
        else if (!c.json) c.result(`${r.path}: ${r.tags.map((t) => (t.unseen ? `*${t.tag}*` : t.tag)).join(', ')}`, null)
        results.push(r)
      }
      if (c.json) c.result('', results)
    })

  program
    .command('embed <images...>')
    .description("print each photo's principal vectors: D*K numbers in the model's layout (element d*K + k)")
    .option('--batch <n>', 'photos per inference run', positiveInt, 16)
    .action(async (images: string[], opts: { batch: number }) => {
      const c = ctx()
      const { manifest } = await reportSession(c)
      const results = []
      for await (const r of c.engine.embed(images, { batchSize: opts.batch })) {
        if ('error' in r) {
          c.warn(r.error)
          results.push(r)
        } else {
          const output = Array.from(r.output)
          if (!c.json) c.result(`${r.path}: ${manifest.dim}x${manifest.rows} ${output.map((v) => v.toPrecision(6)).join(' ')}`, null)
          results.push({ path: r.path, output })
        }
      }
      if (c.json) c.result('', results)
    })
}

/** Opens the model first, so the user learns which pack and which hardware do the work. */
async function reportSession(c: CliContext) {
  const opened = await c.engine.session()
  c.info(`Model ${opened.manifest.name} on the ${opened.session.provider} execution provider`)
  return opened
}
