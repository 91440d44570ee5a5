import { readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Progress } from '../../src/main/engine/download/progress'
import { importWordVectors } from '../../src/main/engine/lexicon/importVectors'
import { readVectorFile } from '../../src/main/engine/lexicon/vectorFile'
import { tempDir } from '../helpers/sharedData'

describe('importWordVectors', () => {
  let tmp: ReturnType<typeof tempDir>
  let dataDir: string
  beforeEach(() => {
    tmp = tempDir()
    dataDir = join(tmp.dir, 'data')
  })
  afterEach(() => tmp.cleanup())

  async function vec(text: string): Promise<string> {
    const file = join(tmp.dir, 'words.vec')
    await writeFile(file, text)
    return file
  }

  it('imports a fastText .vec (header line, trailing spaces) as unit vectors in file order', async () => {
    const file = await vec('3 2\nthe 3 4 \ndog 0 -2 \ncafé 1 1 \n')
    const events: Progress[] = []
    expect(await importWordVectors(file, { dataDir, wordSpace: 'fasttext-en-2', onProgress: (p) => events.push(p) })).toEqual({ words: 3, dim: 2 })
    const { vectors, meta } = await readVectorFile(join(dataDir, 'lexicon', 'fasttext-en-2.bin'))
    expect(meta.source).toBe('import of words.vec')
    expect([0, 1, 2].map((i) => vectors.word(i))).toEqual(['the', 'dog', 'café'])
    expect([...vectors.vector(0)]).toEqual([Math.fround(0.6), Math.fround(0.8)])
    expect([...vectors.vector(1)]).toEqual([0, -1])
    expect(events.at(-1)).toMatchObject({ phase: 'lexicon', unit: 'bytes', item: 'words.vec' })
    expect(readdirSync(join(dataDir, 'lexicon'))).toEqual(['fasttext-en-2.bin'])
  })

  it('takes the dimension from the first line when there is no header, and CRLF line ends', async () => {
    const file = await vec('the 1 0 0\r\ndog 0 1 0\r\n')
    expect(await importWordVectors(file, { dataDir, wordSpace: 'w2v' })).toMatchObject({ words: 2, dim: 3 })
  })

  it('refuses a file with bad lines, naming the first five and counting all, and keeps the earlier import', async () => {
    await importWordVectors(await vec('2 3\ngood 1 2 3\nfine 0 0 1\n'), { dataDir, wordSpace: 'w' })
    const lines = [
      '2 3',
      'good 1 2 3',
      'short 1 2', // 3: too few values
      'long 1 2 3 4', // 4: too many
      'nan 1 x 3', // 5: not a number
      'zero 0 0 0', // 6: cannot be normalised
      'gap 1  3', // 7: empty field
      '', // 8: blank, holds nothing
      ' 1 2 3', // 9: no word
      'huge 1e999 0 0', // 10: not finite
      'fine 0 0 1'
    ]
    const failed = importWordVectors(await vec(lines.join('\n')), { dataDir, wordSpace: 'w' })
    await expect(failed).rejects.toThrow(
      'has 7 bad lines, so nothing was imported (line 3: 2 values where the vectors have 3; line 4: 4 values where the vectors have 3; ' +
        'line 5: value 2 ("x") is not a finite number; line 6: every value is zero, so the vector has no direction; ' +
        'line 7: value 2 is missing (two spaces in a row); and 2 more)'
    )
    await expect(failed).rejects.toMatchObject({ hint: expect.stringMatching(/imported before are kept/) })
    const { vectors } = await readVectorFile(join(dataDir, 'lexicon', 'w.bin'))
    expect([vectors.size, vectors.word(0), vectors.word(1)]).toEqual([2, 'good', 'fine'])
    expect(readdirSync(join(dataDir, 'lexicon'))).toEqual(['w.bin'])
  })

  it('refuses a file with fewer vectors than its first line promises, keeping the earlier import', async () => {
    await importWordVectors(await vec('old 1 0\n'), { dataDir, wordSpace: 'w' })
    await expect(importWordVectors(await vec('3 2\nnew 0 1\nnewer 1 1\n'), { dataDir, wordSpace: 'w' })).rejects.toThrow(
      /holds 2 word vectors where its first line promises 3, so nothing was imported/
    )
    const { vectors } = await readVectorFile(join(dataDir, 'lexicon', 'w.bin'))
    expect([vectors.size, vectors.word(0)]).toEqual([1, 'old'])
    expect(readdirSync(join(dataDir, 'lexicon'))).toEqual(['w.bin'])
  })

  it("refuses a file whose dimension is not the pack's, naming both, before writing anything", async () => {
    const file = await vec('2 50\n')
    await expect(importWordVectors(file, { dataDir, wordSpace: 'fasttext-en-300', dim: 300 })).rejects.toThrow(
      /50-dimensional word vectors but the pack's word space fasttext-en-300 is 300-dimensional/
    )
    expect(readdirSync(tmp.dir)).toEqual(['words.vec'])
  })

  it('refuses files without vectors, missing files, the built-in GloVe space and unsafe names', async () => {
    await expect(importWordVectors(await vec('1 3\nbad line\n'), { dataDir, wordSpace: 'w' })).rejects.toThrow(/has 1 bad line, .*line 2: 1 values where the vectors have 3/)
    await expect(importWordVectors(await vec('0 3\n\n'), { dataDir, wordSpace: 'w' })).rejects.toThrow(/holds no word vectors/)
    await expect(importWordVectors(join(tmp.dir, 'missing.vec'), { dataDir, wordSpace: 'w' })).rejects.toThrow(/Cannot read .*missing.vec: no such file/)
    await expect(importWordVectors(await vec('a 1\n'), { dataDir, wordSpace: 'glove-6b-100d' })).rejects.toThrow(/built in/)
    await expect(importWordVectors(await vec('a 1\n'), { dataDir, wordSpace: '../evil' })).rejects.toThrow(/not a valid word-space name/)
  })

  it('replaces an earlier import', async () => {
    await importWordVectors(await vec('old 1 0\n'), { dataDir, wordSpace: 'w' })
    await importWordVectors(await vec('new 0 1\nnewer 1 1\n'), { dataDir, wordSpace: 'w' })
    const { vectors } = await readVectorFile(join(dataDir, 'lexicon', 'w.bin'))
    expect(vectors.size).toBe(2)
    expect(vectors.index('old')).toBeUndefined()
    expect(readdirSync(join(dataDir, 'lexicon'))).toEqual(['w.bin'])
  })
})
