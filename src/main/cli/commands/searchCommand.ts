import type { Command } from 'commander'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'

export function registerSearchCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('search <query>')
    .description('find photos with any words: `dog beach`, `"red car" | truck`, `sunset -people`, `(cat | dog) -indoor`')
    .option('--limit <n>', 'at most this many results', positiveInt, 50)
    .option('--all', 'rank every photo by relevance, without the per-photo cut-off')
    .option('--top-n <n>', 'a word applies to a photo when it ranks within its top N of the vocabulary', positiveInt, 10)
    .action(async (query: string, opts: { limit: number; all?: boolean; topN: number }) => {
      const c = ctx()
      const response = await (await c.engine.search()).search(query, { limit: opts.limit, all: opts.all, topN: opts.topN })
      const human = response.hits.length
        ? response.hits
            .map(
              (h, i) =>
                `${String(i + 1).padStart(3)}. ${h.score.toFixed(3)}  ${h.path}${h.offline ? ' (offline)' : ''}\n` +
                `      '${h.match.term}' via principal vector ${h.match.principalVector}: ${h.match.nearestWords.join(', ')}`
            )
            .join('\n')
        : `No photo matches "${query}" among ${response.photos} indexed photos. Try --all to rank them all.`
      c.result(human, response.hits)
    })
}
