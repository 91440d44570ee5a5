import { createInterface } from 'node:readline'
import { SdlError } from '../engine/errors'
import { catalogEntry } from '../engine/models/catalog'

/** The model first use offers: the published one that `model install` downloads and imports. */
export const FIRST_MODEL = 'sdl-nus-wide'

/** Commands that can do nothing without a model pack, so they are the ones that offer one. */
export const COMMANDS_NEEDING_A_MODEL = ['tag', 'index', 'search']

export interface FirstUse {
  /** The command the user ran, named in the question and the message. */
  command: string
  hasModel: () => Promise<boolean>
  install: (name: string) => Promise<void>
  /** Where the answer is read from; only a terminal is ever asked, so scripts and pipes never wait. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean }
  output: NodeJS.WritableStream
  /** Set with --json: whoever reads the output is a program, so nothing is asked. */
  noQuestions?: boolean
}

/**
 * Before a command that needs a model: nothing when one is installed; on a terminal, asks whether
 * to install the published model now (default No) and does so; otherwise fails with how to get one.
 */
export async function ensureModelInstalled(firstUse: FirstUse): Promise<void> {
  if (await firstUse.hasModel()) return
  const megabytes = Math.round(catalogEntry(FIRST_MODEL).checkpoint.approxBytes / 1e6)
  if (firstUse.input?.isTTY && !firstUse.noQuestions) {
    firstUse.output.write(
      `No model is installed yet, and \`${firstUse.command}\` needs one. Download and install ${FIRST_MODEL}, the official SDL model (about ${megabytes} MB, once)? [y/N] `
    )
    if (await answeredYes(firstUse.input)) return firstUse.install(FIRST_MODEL)
  }
  throw new SdlError(
    `No model is installed yet, and \`${firstUse.command}\` needs one`,
    `Install the official SDL model (about ${megabytes} MB, downloaded once): \`sdl-tagger model install ${FIRST_MODEL}\`, or from the source folder \`npm run cli -- model install ${FIRST_MODEL}\`. ` +
      'Without internet access, `model import` takes the checkpoint downloaded elsewhere (see docs/model.md).'
  )
}

/** The first line typed; only y or yes (any case) is a yes, and an empty line or the end of input is No. */
async function answeredYes(input: NodeJS.ReadableStream): Promise<boolean> {
  const lines = createInterface({ input, terminal: false })
  try {
    for await (const line of lines) return /^\s*y(es)?\s*$/i.test(line)
    return false
  } finally {
    lines.close()
  }
}
