import { type Command, InvalidArgumentError } from 'commander'
import type { TagSuggestion } from '../../engine/tagging/autoTagger'
import { createProgressBar } from '../progressBar'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'

function finiteNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number')
  return n
}

/** `dog 0.412, *kayak* 0.301`: unseen (zero-shot) tags between stars, as `tag` prints them. */
function formatSuggestions(suggestions: readonly TagSuggestion[]): string {
  return suggestions.length ? suggestions.map((s) => `${s.unseen ? `*${s.tag}*` : s.tag} ${s.score.toFixed(3)}`).join(', ') : '(none)'
}

export function registerTagCommands(program: Command, ctx: () => CliContext): void {
  const tagger = (c: CliContext) => c.engine.tagger()

  program
    .command('tags <photo>')
    .description("an indexed photo's accepted, own and rejected tags, and suggestions (*tag* = unseen in training)")
    .option('--top <n>', 'how many suggestions', positiveInt, 10)
    .option('--min-score <s>', 'leave out suggestions scoring below this', finiteNumber)
    .action(async (photo: string, opts: { top: number; minScore?: number }) => {
      const c = ctx()
      const t = await (await tagger(c)).tags(photo, { top: opts.top, minScore: opts.minScore })
      const list = (xs: string[]) => (xs.length ? xs.join(', ') : '(none)')
      c.result(
        [
          `${photo}`,
          `  accepted:    ${list(t.accepted)}`,
          `  your tags:   ${list(t.user)}`,
          `  rejected:    ${list(t.rejected)}`,
          `  suggestions: ${formatSuggestions(t.suggestions)}`
        ].join('\n'),
        { path: photo, ...t }
      )
    })

  program
    .command('autotag [folder]')
    .description('suggest tags for every indexed photo (of one library folder), from the stored vectors')
    .option('--top <n>', 'how many suggestions per photo', positiveInt, 5)
    .option('--min-score <s>', 'leave out suggestions scoring below this', finiteNumber)
    .action(async (folder: string | undefined, opts: { top: number; minScore?: number }) => {
      const c = ctx()
      // Photos not auto-tagged yet (indexed by an older version, or before the vocabulary changed) are scored first.
      const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
      const results = await (await tagger(c)).autotag(folder, { top: opts.top, minScore: opts.minScore, onProgress: (p) => bar.update(p) }).finally(() => bar.done())
      const human = results.length
        ? results.map((r) => `${r.path}: ${formatSuggestions(r.suggestions)}`).join('\n')
        : 'No indexed photos. Add a folder with `sdl-tagger folders add` and run `sdl-tagger index`.'
      c.result(human, results)
    })

  program
    .command('accept <photo> <tag>')
    .description('accept a suggested tag for a photo (also one rejected before)')
    .action(async (photo: string, tag: string) => {
      const c = ctx()
      await (await tagger(c)).accept(photo, tag)
      c.result(`Accepted '${tag}' for ${photo}`, { path: photo, tag, state: 'accepted' })
    })

  program
    .command('reject <photo> <tag>')
    .description('reject a suggested tag: it is never suggested for this photo again')
    .action(async (photo: string, tag: string) => {
      const c = ctx()
      await (await tagger(c)).reject(photo, tag)
      c.result(`Rejected '${tag}' for ${photo}`, { path: photo, tag, state: 'rejected' })
    })

  program
    .command('add-tag <photo> <tag>')
    .description('give a photo a keyword of your own, kept as written (any text up to 200 characters; Kenya and kenya are one keyword)')
    .action(async (photo: string, tag: string) => {
      const c = ctx()
      const word = await (await tagger(c)).addTag(photo, tag)
      c.result(`Tagged ${photo} '${word}'`, { path: photo, tag: word, state: 'user' })
    })

  const vocab = program.command('vocab').description("your own words, suggested alongside the model pack's tags")

  vocab
    .command('add <words...>')
    .description('add words as written; one the lexicon does not know yet is kept, and suggested once it has a vector')
    .action(async (words: string[]) => {
      const c = ctx()
      const result = await (await tagger(c)).addWords(words)
      for (const r of result.refused) c.warn(`${JSON.stringify(r.word)} not added: ${r.reason}`)
      const lines = [result.added.length ? `Added ${result.added.join(', ')}` : '', result.already.length ? `Already in the vocabulary: ${result.already.join(', ')}` : '']
      c.result(lines.filter(Boolean).join('\n') || 'Nothing added', result)
    })

  vocab
    .command('remove <word>')
    .description('remove a word from your vocabulary')
    .action(async (word: string) => {
      const c = ctx()
      await (await tagger(c)).removeWord(word)
      c.result(`Removed ${word}`, { removed: word })
    })

  vocab
    .command('list')
    .description('list your words')
    .action(async () => {
      const c = ctx()
      const words = await (await tagger(c)).customWords()
      c.result(words.length ? words.join('\n') : 'No custom words yet. Add some with `sdl-tagger vocab add <words...>`.', words)
    })
}
