import type { Command } from 'commander'
import { KeywordBook } from '../../engine/tagging/keywordBook'
import type { CliContext } from '../cliContext'

export function registerKeywordCommands(program: Command, ctx: () => CliContext): void {
  const book = async (c: CliContext) => new KeywordBook((await c.engine.repositories()).tags)
  const keywords = program.command('keywords').description('your own keywords, as written: list, rename, merge (identity ignores case)')

  keywords
    .command('list')
    .description('your keywords with their hierarchy and how many photos carry them; --json: [{"keyword", "path", "photos", "learned"}]')
    .action(async () => {
      const c = ctx()
      const list = (await book(c)).list()
      const human = list.length
        ? list.map((k) => `${k.path.join('|')}  (${k.photos} photo${k.photos === 1 ? '' : 's'})`).join('\n')
        : 'No keywords yet. Give a photo one with `sdl-tagger add-tag <photo> <keyword>`, or import them with `sdl-tagger import-xmp`.'
      c.result(human, list)
    })

  keywords
    .command('rename <old> <new>')
    .description('respell a keyword on every photo; onto another existing keyword, the two merge')
    .action(async (from: string, to: string) => {
      const c = ctx()
      const text = (await book(c)).rename(from, to)
      c.result(`Renamed '${from}' to '${text}'`, { from, to: text })
    })

  keywords
    .command('merge <a> <b>')
    .description('every photo carrying b gets a, and b goes')
    .action(async (into: string, from: string) => {
      const c = ctx()
      const text = (await book(c)).merge(into, from)
      c.result(`Merged '${from}' into '${text}'`, { into: text, merged: from })
    })
}
