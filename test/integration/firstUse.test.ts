import { PassThrough, Writable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/main/cli/program'
import { COMMANDS_NEEDING_A_MODEL, FIRST_MODEL, type FirstUse, ensureModelInstalled } from '../../src/main/cli/firstUse'
import { SdlError } from '../../src/main/engine/errors'
import { tempDir } from '../helpers/sharedData'

/** A terminal as the prompt sees one, typed into by the test. */
function terminal(typed: string | null): PassThrough & { isTTY: boolean } {
  const input = Object.assign(new PassThrough(), { isTTY: true })
  if (typed !== null) input.end(typed)
  return input
}

function capture(): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    }
  })
  return { stream, text: () => text }
}

function firstUse(overrides: Partial<FirstUse>): { firstUse: FirstUse; installed: string[]; output: () => string } {
  const installed: string[] = []
  const output = capture()
  return {
    firstUse: { command: 'tag', hasModel: async () => false, install: async (name) => void installed.push(name), output: output.stream, ...overrides },
    installed,
    output: output.text
  }
}

describe('first use without a model', () => {
  it('asks nothing when a model is installed', async () => {
    const { firstUse: use, installed, output } = firstUse({ hasModel: async () => true, input: terminal('') })
    await ensureModelInstalled(use)
    expect(installed).toEqual([])
    expect(output()).toBe('')
  })

  it('installs the published model when the user answers yes on a terminal', async () => {
    for (const answer of ['y\n', 'Y\n', ' yes \n']) {
      const { firstUse: use, installed, output } = firstUse({ input: terminal(answer) })
      await ensureModelInstalled(use)
      expect(installed, JSON.stringify(answer)).toEqual([FIRST_MODEL])
      expect(output()).toMatch(/^No model is installed yet, and `tag` needs one\. Download and install sdl-nus-wide, .* \[y\/N\] $/)
    }
  })

  it('takes no, an empty answer, anything else and the end of input as No, and says how to install one', async () => {
    for (const answer of ['n\n', '\n', 'sure\n', '']) {
      const { firstUse: use, installed, output } = firstUse({ input: terminal(answer) })
      const failure = await ensureModelInstalled(use).catch((err: unknown) => err)
      expect(failure, JSON.stringify(answer)).toBeInstanceOf(SdlError)
      expect((failure as SdlError).hint).toContain(`model install ${FIRST_MODEL}`)
      expect(installed).toEqual([])
      expect(output()).toContain('[y/N]')
    }
  })

  it('never asks where no terminal answers, or for --json', async () => {
    const pipe = Object.assign(new PassThrough(), { isTTY: false })
    pipe.end('y\n')
    for (const overrides of [{}, { input: pipe }, { input: terminal('y\n'), noQuestions: true }]) {
      const { firstUse: use, installed, output } = firstUse(overrides)
      await expect(ensureModelInstalled(use)).rejects.toThrow('No model is installed yet, and `tag` needs one')
      expect(installed).toEqual([])
      expect(output()).toBe('')
    }
  })

  describe('through the command line', () => {
    const data = tempDir('sdl-tagger-first-use-')
    afterAll(() => data.cleanup())

    async function cli(args: string[], stdin?: FirstUse['input']): Promise<{ code: number; stdout: string; stderr: string }> {
      const stdout = capture()
      const stderr = capture()
      const code = await runCli(['--data-dir', data.dir, ...args], { stdout: stdout.stream, stderr: stderr.stream, stdin })
      return { code, stdout: stdout.text(), stderr: stderr.text() }
    }

    it('tag, index and search say how to install a model, without asking, when not on a terminal', async () => {
      expect(COMMANDS_NEEDING_A_MODEL).toEqual(['tag', 'index', 'search'])
      for (const args of [['tag', 'photo.jpg'], ['index'], ['search', 'dog']]) {
        const result = await cli(args)
        expect(result.code, args.join(' ')).toBe(1)
        expect(result.stdout).toBe('')
        expect(result.stderr).toMatch(new RegExp(`^error: No model is installed yet, and \`${args[0]}\` needs one\\nhint: .*model install sdl-nus-wide`))
        expect(result.stderr).not.toContain('[y/N]')
      }
    })

    it('asks on a terminal, and a No leaves the library without a model', async () => {
      const result = await cli(['search', 'dog'], terminal('n\n'))
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^No model is installed yet, and `search` needs one\. .*\[y\/N\] error: No model is installed yet/)
      expect((await cli(['--json', 'model', 'list'])).stdout.trim()).toBe('[]')
    })

    it('leaves commands that need no model alone', async () => {
      const result = await cli(['folders', 'list'], terminal('y\n'))
      expect(result.code).toBe(0)
      expect(result.stderr).not.toContain('[y/N]')
    })
  })
})
