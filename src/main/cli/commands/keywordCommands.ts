import type { Command } from 'commander'
import type { PackManifest } from '../../engine/models/packManifest'
import { KeywordBook } from '../../engine/tagging/keywordBook'
import type { LearnedKeywordRow } from '../../engine/tagging/learnedKeywordStore'
import type { CliContext } from '../cliContext'

/**
 * Learns now the keywords whose photos changed since they were learned: a command's process is
 * too short for the background learning the window relies on. A keyword that cannot be learned is
 * named in a warning; the others are learned all the same. Without a model there is nothing to
 * learn with (null), and the command says so itself if it needs one.
 */
export async function learnStaleKeywords(c: CliContext): Promise<PackManifest | null> {
  const manifest = await c.engine.manifest().catch(() => null)
  if (!manifest) return null
  const report = await (await c.engine.keywordLearner()).learnStale()
  for (const { keyword, error } of report.failed) c.warn(`keyword '${keyword}' not learned: ${error}`)
  return manifest
}

/** The active model's learned keywords, brought up to date; none without a model (listing keywords needs none). */
async function learnedKeywords(c: CliContext): Promise<LearnedKeywordRow[]> {
  const manifest = await learnStaleKeywords(c)
  if (!manifest) return []
  const { photos, learnedKeywords } = await c.engine.repositories()
  return learnedKeywords.learned(photos.modelId(manifest))
}

export function registerKeywordCommands(program: Command, ctx: () => CliContext): void {
  const book = async (c: CliContext) => new KeywordBook((await c.engine.repositories()).tags)
  const keywords = program.command('keywords').description('your own keywords, as written: list, rename, merge (identity ignores case)')

  keywords
    .command('list')
    .description(
      'your keywords with their hierarchy, how many photos carry them and, for those learned from 3 or more, how well it works; --json: [{"keyword", "path", "photos", "learned": {"examples", "quality"} | null}]'
    )
    .action(async () => {
      const c = ctx()
      const learned = await learnedKeywords(c)
      const summaries = new Map(learned.map((l) => [l.text, l.qualitySummary]))
      const list = (await book(c)).list(learned)
      const line = (k: (typeof list)[number]) => {
        const photos = `${k.path.join('|')}  (${k.photos} photo${k.photos === 1 ? '' : 's'})`
        if (!k.learned) return photos
        return `${photos}  learned from ${k.learned.examples} photos. ${summaries.get(k.keyword)}`
      }
      const human = list.length
        ? list.map(line).join('\n')
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
