import { homedir } from 'node:os'
import { type Command, InvalidArgumentError } from 'commander'
import type { PhotoTagState, TagAction, TagStep } from '../../../shared/api'
import { SdlError } from '../../engine/errors'
import type { TagSuggestion } from '../../engine/tagging/autoTagger'
import { HISTORY_STEPS } from '../../engine/tagging/tagHistory'
import { createProgressBar } from '../progressBar'
import { learnStaleKeywords } from './keywordCommands'
import type { CliContext } from '../cliContext'
import { positiveInt } from '../options'
import { expandUserPath } from '../../engine/library/userPaths'

/** A photo's path as typed at the prompt: `~` expands, and a relative path starts at the current folder. */
function typedPath(path: string): string {
  return expandUserPath(path, homedir(), process.cwd())
}

function finiteNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number')
  return n
}

/** `dog 0.412, *kayak* 0.301, Rex 0.250 (learned from 5 photos)`: unseen (zero-shot) tags between stars, as `tag` prints them. */
function formatSuggestions(suggestions: readonly TagSuggestion[]): string {
  const learned = (s: TagSuggestion) => (s.learnedFrom === undefined ? '' : ` (learned from ${s.learnedFrom} photo${s.learnedFrom === 1 ? '' : 's'})`)
  return suggestions.length ? suggestions.map((s) => (s.learnedFrom === undefined && s.unseen ? `*${s.tag}*` : s.tag) + ` ${s.score.toFixed(3)}${learned(s)}`).join(', ') : '(none)'
}

const TAG_ACTIONS: Array<{ action: TagAction; description: string }> = [
  { action: 'accept', description: 'accept a suggested tag for photos (also one rejected before)' },
  { action: 'reject', description: 'reject a suggested tag: it is never suggested for those photos again' },
  { action: 'add-tag', description: 'give photos a keyword of your own, kept as written (any text up to 200 characters; Kenya and kenya are one keyword)' },
  { action: 'remove-tag', description: 'take a tag off photos, whatever was decided on it (not filed as rejected: it may be suggested again)' }
]

const ACTION_STATE: Record<TagAction, PhotoTagState | null> = { accept: 'accepted', reject: 'rejected', 'add-tag': 'user', 'remove-tag': null }

/** `accept a.jpg dog` (one photo, as it always was) or `accept a.jpg b.jpg --tag dog`. */
function photosAndTag(command: Command, args: string[], tag: string | undefined): { photos: string[]; tag: string; single: boolean } {
  if (tag !== undefined) return { photos: args, tag, single: false }
  if (args.length === 2) return { photos: [args[0]], tag: args[1], single: true }
  const action = command.name()
  return command.error(`error: name the tag with --tag: \`${action} <photo> <tag>\` for one photo, \`${action} <photo...> --tag <tag>\` for any number`)
}

function doneMessage(action: TagAction, tag: string, photos: string): string {
  if (action === 'accept') return `Accepted '${tag}' for ${photos}`
  if (action === 'reject') return `Rejected '${tag}' for ${photos}`
  if (action === 'add-tag') return `Tagged ${photos} '${tag}'`
  return `Removed '${tag}' from ${photos}`
}

function stepMessage(step: TagStep): string {
  const photos = step.changes.length === 1 ? step.changes[0].path : `${step.changes.length} photos`
  if (step.action === 'accept') return `accept '${step.tag}' for ${photos}`
  if (step.action === 'reject') return `reject '${step.tag}' for ${photos}`
  if (step.action === 'add-tag') return `add '${step.tag}' to ${photos}`
  return `remove '${step.tag}' from ${photos}`
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
      await learnStaleKeywords(c)
      const t = await (await tagger(c)).tags(typedPath(photo), { top: opts.top, minScore: opts.minScore })
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
      await learnStaleKeywords(c)
      // Photos not auto-tagged yet (indexed by an older version, or before the vocabulary changed) are scored first.
      const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
      const results = await (await tagger(c)).autotag(folder, { top: opts.top, minScore: opts.minScore, onProgress: (p) => bar.update(p) }).finally(() => bar.done())
      const human = results.length
        ? results.map((r) => `${r.path}: ${formatSuggestions(r.suggestions)}`).join('\n')
        : 'No indexed photos. Add a folder with `sdl-tagger folders add` and run `sdl-tagger index`.'
      c.result(human, results)
    })

  for (const { action, description } of TAG_ACTIONS) {
    program
      .command(`${action} <photos...>`)
      .description(`${description}. One photo: \`${action} <photo> <tag>\`; many, as one action: \`${action} <photo...> --tag <tag>\` (\`undo\` takes it back)`)
      .option('--tag <tag>', 'the tag; every argument is then a photo')
      .action(async (args: string[], opts: { tag?: string }, command: Command) => {
        const named = photosAndTag(command, args, opts.tag)
        const c = ctx()
        const t = await tagger(c)
        const found = new Map<number, { typed: string; path: string }>()
        const failed: Array<{ path: string; reason: string; hint?: string }> = []
        for (const typed of named.photos) {
          try {
            const photo = t.photoAt(typedPath(typed))
            found.set(photo.id, { typed, path: photo.path })
          } catch (err) {
            if (!(err instanceof SdlError)) throw err
            failed.push({ path: typed, reason: err.message, hint: err.hint })
          }
        }
        const report = found.size ? await t.changeTag([...found.keys()], named.tag, action) : null
        for (const f of report?.failed ?? []) failed.push({ path: found.get(f.photo)!.typed, reason: f.reason, hint: f.hint })
        // The two-argument form answers as it always has: one photo, its error thrown.
        if (named.single && failed.length) throw new SdlError(failed[0].reason, failed[0].hint)
        for (const f of failed) c.warn(`${f.reason}${f.hint ? ` (${f.hint})` : ''}`)
        const tag = report?.tag ?? named.tag
        const refused = new Set(report?.failed.map((f) => f.photo))
        const done = [...found].filter(([id]) => !refused.has(id)).map(([, photo]) => photo.typed)
        if (named.single) {
          const photo = named.photos[0]
          c.result(doneMessage(action, tag, photo), { path: photo, tag, state: ACTION_STATE[action] })
          return
        }
        const unchanged = report?.unchanged.length ? ` (${report.unchanged.length} ${action === 'remove-tag' ? 'did not have it' : 'had it already'})` : ''
        c.result(`${doneMessage(action, tag, done.length === 1 ? done[0] : `${done.length} photos`)}${unchanged}`, {
          tag,
          action,
          changed: report?.step?.changes.map(({ path, before, after }) => ({ path, before, after })) ?? [],
          unchanged: report?.unchanged.map((id) => found.get(id)!.path) ?? [],
          failed: failed.map(({ path, reason }) => ({ path, reason }))
        })
      })
  }

  program
    .command('review <tag>')
    .description('the photos a tag is suggested for and not decided yet, best first; decide them with `accept <photo...> --tag <tag>` or `reject`')
    .option('--top <n>', 'a photo counts when the tag is among its n best undecided suggestions, as `tags` lists them', positiveInt, 10)
    .option('--min-score <s>', 'leave out photos it scores below this', finiteNumber)
    .action(async (tag: string, opts: { top: number; minScore?: number }) => {
      const c = ctx()
      const bar = createProgressBar(c.streams.stderr as NodeJS.WriteStream)
      const found = await (await tagger(c)).review(tag, { top: opts.top, minScore: opts.minScore, onProgress: (p) => bar.update(p) }).finally(() => bar.done())
      const human = found.length ? found.map((f) => `${f.score.toFixed(3)}  ${f.path}`).join('\n') : `No undecided photo has '${tag}' among its ${opts.top} best suggestions.`
      c.result(human, found)
    })

  for (const direction of ['undo', 'redo'] as const) {
    program
      .command(direction)
      .description(
        direction === 'undo'
          ? `take back the last tagging action (accept, reject, add-tag, remove-tag, one photo or many), the window's as well as the CLI's: the library keeps one history of the last ${HISTORY_STEPS}`
          : 'apply again the tagging action undone last (not once another action came since)'
      )
      .action(async () => {
        const c = ctx()
        const report = await (await tagger(c))[direction]()
        for (const k of report.kept) c.info(`${k.path}: its '${report.step!.tag}' tag changed since; left as it is`)
        const { step } = report
        c.result(step ? `${direction === 'undo' ? 'Undone' : 'Redone'}: ${stepMessage(step)}` : `Nothing to ${direction}.`, report)
      })
  }

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
