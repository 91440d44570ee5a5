import { Command, CommanderError, Option } from 'commander'
import { EXECUTION_PROVIDER_CHOICES } from '../engine/inference/executionProviders'
import { LibraryBusyError } from '../engine/errors'
import { ENGINE_VERSION } from '../engine/version'
import { CliContext, type CliStreams, type GlobalOptions, describeError } from './cliContext'
import { registerBackupCommands } from './commands/backupCommands'
import { registerKeywordCommands } from './commands/keywordCommands'
import { registerLexiconCommands } from './commands/lexiconCommands'
import { registerLibraryCommands } from './commands/libraryCommands'
import { installModel, registerModelCommands } from './commands/modelCommands'
import { registerPhotoCommands } from './commands/photoCommands'
import { registerSearchCommand } from './commands/searchCommand'
import { registerServeCommands } from './commands/serveCommands'
import { registerStatusCommand } from './commands/statusCommand'
import { registerTagCommands } from './commands/tagCommands'
import { registerXmpCommands } from './commands/xmpCommands'
import { COMMANDS_NEEDING_A_MODEL, ensureModelInstalled } from './firstUse'

/**
 * Runs the command line and returns the exit code: 0 only when everything asked for worked,
 * 1 when the command failed or some items (photos) failed, 2 for a usage error or when another
 * SDL Tagger is writing to the library (try again later).
 */
export async function runCli(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  // Created on first use by a command, so `--help` and usage errors never touch the data folder.
  const state: { context: CliContext | null } = { context: null }
  const program = new Command('sdl-tagger')
    .description('Private, local photo tagging with the Semantic Diversity Learning (SDL) model')
    .version(ENGINE_VERSION)
    .option('--data-dir <dir>', "where models (and the library) are kept (default: the platform's app-data folder, or $SDL_TAGGER_DATA_DIR)")
    .option('--model <name>', 'model pack to use instead of the active one')
    .addOption(new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDER_CHOICES).default('auto'))
    .option('--json', 'machine-readable output on stdout (messages stay on stderr)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s)
    })
    .showHelpAfterError('(run with --help for usage)')

  const ctx = (): CliContext => (state.context ??= new CliContext(program.opts<GlobalOptions>(), streams))
  registerStatusCommand(program, ctx)
  registerModelCommands(program, ctx)
  registerPhotoCommands(program, ctx)
  registerLibraryCommands(program, ctx)
  registerSearchCommand(program, ctx)
  registerLexiconCommands(program, ctx)
  registerTagCommands(program, ctx)
  registerKeywordCommands(program, ctx)
  registerServeCommands(program, ctx)
  registerXmpCommands(program, ctx)
  registerBackupCommands(program, ctx)
  program.hook('preAction', async (_program, command) => {
    if (command.parent !== program || !COMMANDS_NEEDING_A_MODEL.includes(command.name())) return
    const c = ctx()
    await ensureModelInstalled({
      command: command.name(),
      hasModel: async () => (await c.engine.packs.list()).length > 0,
      install: (name) => installModel(c, name),
      input: streams.stdin,
      output: streams.stderr,
      noQuestions: c.json
    })
  })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return state.context?.partialFailure ? 1 : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version "errors" are commander's way of stopping after printing them.
      return err.exitCode === 0 ? 0 : 2
    }
    const { message, hint } = describeError(err, state.context?.engine.dataDir)
    streams.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`)
    return err instanceof LibraryBusyError ? err.exitCode : 1
  } finally {
    await state.context?.engine.close()
  }
}
