import type { Command } from 'commander'
import { nothingIndexedMessage } from '../../../shared/indexCoverage'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'
import { learnStaleKeywords } from './keywordCommands'

export function registerSearchCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('search <query>')
    .description(
      'find photos with any words: `dog beach`, `"red car" | truck`, `sunset -people`, `(cat | dog) -indoor`; by capture date: `dog year:2023`, `after:2023-06 before:2024-01-01` (dates alone list newest first)'
    )
    .option('--limit <n>', 'at most this many results', positiveInt, 50)
    .option('--all', 'rank every photo by relevance, without the per-photo cut-off')
    .option('--top-n <n>', 'a word applies to a photo when it ranks within its top N of the vocabulary', positiveInt, 10)
    .action(async (query: string, opts: { limit: number; all?: boolean; topN: number }) => {
      const c = ctx()
      // A keyword's learned vector ranks the photos that do not carry it yet.
      await learnStaleKeywords(c)
      const response = await (await c.engine.search()).search(query, { limit: opts.limit, all: opts.all, topN: opts.topN })
      if (!response.photos) return c.result(await nothingToSearch(c, response.model), response.hits)
      const byDate = response.order === 'date'
      const human = response.hits.length
        ? response.hits
            .map((h, i) =>
              byDate
                ? `${String(i + 1).padStart(3)}. ${h.capturedAt?.replace('T', ' ').slice(0, 16) ?? 'no date'}  ${h.path}${h.offline ? ' (offline)' : ''}`
                : `${String(i + 1).padStart(3)}. ${h.score.toFixed(3)}  ${h.path}${h.offline ? ' (offline)' : ''}\n` +
                  `      '${h.match.term}' via principal vector ${h.match.principalVector}: ${h.match.nearestWords.join(', ')}`
            )
            .join('\n')
        : byDate
          ? `No photo matches "${query}" among ${response.photos} photos.`
          : `No photo matches "${query}" among ${response.photos} indexed photos. Try --all to rank them all.`
      c.result(human, response.hits)
    })
}

/** Why a search had no photo to look at: the library has none, or none indexed with this model (--all would not help). */
async function nothingToSearch(c: CliContext, model: string): Promise<string> {
  const status = await (await c.engine.library()).status()
  const readable = status.photos - status.errors.length
  if (!readable) return 'The library has no photos yet. Add a folder with `sdl-tagger folders add <folder>`, then run `sdl-tagger index`.'
  return `${nothingIndexedMessage(model, readable)}. Run \`sdl-tagger index\`.`
}
