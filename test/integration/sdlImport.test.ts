import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { SDL_DIR, tempDir } from '../helpers/sharedData'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { SAMPLE_PHOTOS_DIR, VOCAB_DIR, gunzipFixture, l2Distance, pillowResizedInput, referenceOutputs, relativeMaxError, syntheticInput } from '../helpers/sdlFixtures'

const reference = referenceOutputs()
const photoNames = reference.inputs.slice(0, 6)

describe('importing the official-format SDL checkpoints', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  const checkpoints: Record<'zip' | 'legacy', string> = { zip: '', legacy: '' }

  beforeAll(async () => {
    checkpoints.zip = await gunzipFixture('zip', tmp.dir)
    checkpoints.legacy = await gunzipFixture('legacy', tmp.dir)
  })
  afterAll(() => tmp.cleanup())

  for (const format of ['zip', 'legacy'] as const) {
    it(`imports the ${format}-format checkpoint, and its network matches the official forward pass`, async () => {
      const run = await cli('--json', 'model', 'import', checkpoints[format], '--vocab', VOCAB_DIR, '--name', `fixture-${format}`)
      expect(run.stderr).not.toMatch(/error/)
      expect(run.code).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ name: `fixture-${format}`, dim: 300, rows: 7, wordSpace: 'fasttext-en-300', tagCount: 1006, unseenTagCount: 81 })

      const engine = new Engine({ dataDir, model: `fixture-${format}`, executionProvider: 'cpu' })
      const { session } = await engine.session()
      const inputs = [...(await Promise.all(photoNames.map(pillowResizedInput))), syntheticInput('constant_0.5'), syntheticInput('ramp')]
      const batch = new Float32Array(inputs.length * inputs[0].length)
      inputs.forEach((input, i) => batch.set(input, i * input.length))
      const outputs = await session.run(batch, inputs.length)
      await engine.close()
      for (let i = 0; i < inputs.length; i++) {
        const error = relativeMaxError(outputs.subarray(i * 2100, (i + 1) * 2100), reference.outputs[i])
        expect(error, `${reference.inputs[i]}: relative error ${error}`).toBeLessThanOrEqual(1e-4)
      }
    })
  }

  it('stores the vocabulary exactly as the official pickles hold it', async () => {
    const engine = new Engine({ dataDir })
    const vocab = await engine.packs.loadVocabulary(await engine.packs.manifest('fixture-zip'))
    const expected = JSON.parse(readFileSync(join(SDL_DIR, 'nus-wide/tags.json'), 'utf8')) as { tags: string[]; unseen: string[] }
    expect(vocab.tags).toEqual(expected.tags)
    expect([...vocab.unseen]).toEqual(expected.unseen)
    const bin = readFileSync(join(SDL_DIR, 'nus-wide/wordvecs-1006x300-f32le.bin'))
    expect(Buffer.from(vocab.vectors.buffer, vocab.vectors.byteOffset, vocab.vectors.byteLength).equals(bin)).toBe(true)
  })

  it("puts each sample photo, through the app's own preprocessing, next to its reference output", async () => {
    const run = await cli('--json', '--model', 'fixture-zip', 'embed', ...photoNames.map((p) => join(SAMPLE_PHOTOS_DIR, p)))
    expect(run.code).toBe(0)
    const results = JSON.parse(run.stdout) as Array<{ output: number[] }>
    const ratios = results.map((r, i) => {
      const nearestOther = Math.min(...reference.outputs.filter((_, j) => j !== i).map((o) => l2Distance(reference.outputs[i], o)))
      return l2Distance(r.output, reference.outputs[i]) / nearestOther
    })
    console.log(`sample photos: distance to own reference / distance to nearest other reference = ${ratios.map((r) => r.toFixed(4)).join(', ')}`)
    for (const ratio of ratios) expect(ratio).toBeLessThanOrEqual(0.2)
  })

  it('tags a sample photo with the top-10 that scoring its reference output gives', async () => {
    const photo = photoNames[0]
    const run = await cli('--json', '--model', 'fixture-zip', 'tag', join(SAMPLE_PHOTOS_DIR, photo), '--top', '10')
    expect(run.code).toBe(0)
    const [result] = JSON.parse(run.stdout) as Array<{ tags: Array<{ tag: string; score: number; unseen: boolean }> }>

    // Expected, straight from the definition: score = max_k sum_d A[d][k] w[d] over the reference output.
    const { tags, unseen } = JSON.parse(readFileSync(join(SDL_DIR, 'nus-wide/tags.json'), 'utf8')) as { tags: string[]; unseen: string[] }
    const bin = readFileSync(join(SDL_DIR, 'nus-wide/wordvecs-1006x300-f32le.bin'))
    const vectors = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4)
    const out = reference.outputs[0]
    const scores = tags.map((_, t) => {
      let best = -Infinity
      for (let k = 0; k < 7; k++) {
        let dot = 0
        for (let d = 0; d < 300; d++) dot += out[d * 7 + k] * vectors[t * 300 + d]
        best = Math.max(best, dot)
      }
      return best
    })
    const expectedTop = tags
      .map((tag, i) => ({ tag, score: scores[i] }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10)
    expect(result.tags.map((t) => t.tag)).toEqual(expectedTop.map((t) => t.tag))
    for (const t of result.tags) expect(t.unseen).toBe(unseen.includes(t.tag))

    const human = await cli('--model', 'fixture-zip', 'tag', join(SAMPLE_PHOTOS_DIR, photo))
    const marked = expectedTop.map((t) => (unseen.includes(t.tag) ? `*${t.tag}*` : t.tag)).join(', ')
    expect(human.stdout).toBe(`${join(SAMPLE_PHOTOS_DIR, photo)}: ${marked}\n`)
  })

  describe('bad checkpoints fail clearly and leave no pack behind', () => {
    const packsBefore = () => readdirSync(join(dataDir, 'models')).sort()
    const expectRefused = async (file: string, message: RegExp) => {
      const before = packsBefore()
      const run = await cli('model', 'import', file, '--vocab', VOCAB_DIR, '--name', 'bad')
      expect(run.code).not.toBe(0)
      expect(run.stderr).toMatch(message)
      expect(packsBefore()).toEqual(before)
      expect(existsSync(join(dataDir, 'models', 'bad'))).toBe(false)
    }

    it('a truncated checkpoint', async () => {
      for (const format of ['zip', 'legacy'] as const) {
        const cut = join(tmp.dir, `truncated-${format}.pth`)
        writeFileSync(cut, readFileSync(checkpoints[format]).subarray(0, 60_000_000))
        await expectRefused(cut, /truncated/i)
      }
    })

    it('a checkpoint with a renamed key', async () => {
      // Same-length rename inside the legacy pickle keeps the file well-formed.
      const bytes = Buffer.from(readFileSync(checkpoints.legacy))
      const at = bytes.indexOf('layer3.4.conv2.0.weight')
      bytes.write('layer3.4.conv9.0.weight', at)
      const renamed = join(tmp.dir, 'renamed.pth')
      writeFileSync(renamed, bytes)
      await expectRefused(renamed, /layer3\.4\.conv/)
    })

    it('a checkpoint with a reshaped key', async () => {
      // embedding.weight [2100, 2048] -> [2100, 2047]: still inside its storage, so only the architecture check can catch it.
      const bytes = Buffer.from(readFileSync(checkpoints.legacy))
      const key = bytes.indexOf('embedding.weight')
      const shape = bytes.indexOf(Buffer.from([0x4d, 0x34, 0x08, 0x4d, 0x00, 0x08]), key) // BININT2 2100, BININT2 2048
      expect(shape).toBeGreaterThan(key)
      bytes.writeUInt16LE(2047, shape + 4)
      const reshaped = join(tmp.dir, 'reshaped.pth')
      writeFileSync(reshaped, bytes)
      await expectRefused(reshaped, /embedding\.weight.*2047/)
    })

    it('a file that is not a checkpoint', async () => {
      const text = join(tmp.dir, 'notes.pth')
      writeFileSync(text, 'these are my holiday notes, not a model\n')
      await expectRefused(text, /notes\.pth/)
    })

    it('a pickle whose global is os.system, without running it', async () => {
      const marker = join(tmp.dir, 'pwned')
      const command = `touch ${marker}`
      // protocol 2: GLOBAL 'os system', the command as BINUNICODE, TUPLE1, REDUCE, STOP
      const payload = Buffer.concat([
        Buffer.from('\x80\x02cos\nsystem\n', 'latin1'),
        Buffer.from([0x58]),
        Buffer.from(Uint32Array.of(command.length).buffer),
        Buffer.from(command),
        Buffer.from([0x85, 0x52, 0x2e])
      ])
      const evil = join(tmp.dir, 'evil.pth')
      writeFileSync(evil, payload)
      await expectRefused(evil, /os\.system|os system/)
      expect(existsSync(marker)).toBe(false)
    })
  })
})
