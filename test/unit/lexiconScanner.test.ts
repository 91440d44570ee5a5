import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Progress } from '../../src/main/engine/download/progress'
import { JsonScanner, type JsonHandler } from '../../src/main/engine/lexicon/jsonScanner'
import { readVectorFile, VectorFileWriter } from '../../src/main/engine/lexicon/vectorFile'
import { convertWinkEmbeddings } from '../../src/main/engine/lexicon/winkEmbeddings'
import { tempDir } from '../helpers/sharedData'

/** Records tokens as strings, e.g. `{`, `k:name`, `s:value`, `n:1.5`, `l:null`. */
function recorder(): JsonHandler & { tokens: string[] } {
  const tokens: string[] = []
  return {
    tokens,
    beginObject: () => tokens.push('{'),
    endObject: () => tokens.push('}'),
    beginArray: () => tokens.push('['),
    endArray: () => tokens.push(']'),
    key: (name) => tokens.push(`k:${name}`),
    string: (value) => tokens.push(`s:${value}`),
    number: (value) => tokens.push(`n:${value}`),
    literal: (value) => tokens.push(`l:${value}`)
  }
}

function scan(text: string, chunkSize = Infinity): string[] {
  const handler = recorder()
  const scanner = new JsonScanner(handler)
  const bytes = Buffer.from(text, 'utf8')
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.write(bytes.subarray(i, Math.min(bytes.length, i + chunkSize)))
  scanner.end()
  return handler.tokens
}

describe('JsonScanner', () => {
  const doc = JSON.stringify({
    // eslint-disable-next-line no-loss-of-precision -- a number JSON cannot keep exactly: the scanner must round it as JSON.parse does
    a: [1, -2.5, 3e-7, 0.038194, -1.25e2, 123456789.123456789, 0],
    'k"q': ['x\\y', 'caf\u00e9', '\u{1f600}', '"', ''],
    nested: { t: true, f: false, n: null, deep: [[], {}] }
  })

  it('reports every token with the values JSON.parse gives', () => {
    expect(scan(doc)).toEqual([
      '{',
      'k:a',
      '[',
      'n:1',
      'n:-2.5',
      'n:3e-7',
      'n:0.038194',
      'n:-125',
      // eslint-disable-next-line no-loss-of-precision -- a number JSON cannot keep exactly: the scanner must round it as JSON.parse does
      `n:${123456789.123456789}`,
      'n:0',
      ']',
      'k:k"q',
      '[',
      's:x\\y',
      's:café',
      's:\u{1f600}',
      's:"',
      's:',
      ']',
      'k:nested',
      '{',
      'k:t',
      'l:true',
      'k:f',
      'l:false',
      'k:n',
      'l:null',
      'k:deep',
      '[',
      '[',
      ']',
      '{',
      '}',
      ']',
      '}',
      '}'
    ])
  })

  it('gives the same tokens however the input is cut into chunks', () => {
    const whole = scan(doc)
    for (const size of [1, 2, 3, 5, 7, 16]) expect(scan(doc, size)).toEqual(whole)
  })

  it('parses numbers exactly as Number() does', () => {
    const numbers = ['0.1', '-0.30457', '5.70402496', '1e22', '1e23', '2.2250738585072014e-308', '12345678901234567890', '-0', '7E+3', '0.000001']
    const tokens = scan(`[${numbers.join(',')}]`)
    expect(tokens.slice(1, -1)).toEqual(numbers.map((n) => `n:${Number(n)}`))
  })

  it('reads a number that ends the input', () => {
    expect(scan('42.5', 1)).toEqual(['n:42.5'])
  })

  it('rejects truncated and malformed input', () => {
    expect(() => scan('{"a":[1,2')).toThrow(/ends early/)
    expect(() => scan('"abc', 2)).toThrow(/ends early, inside a string/)
    expect(() => scan('[1,2}')).toThrow(/Unexpected/)
    expect(() => scan('[1,@]')).toThrow(/Unexpected "@" at byte 3/)
    expect(() => scan('[tru]')).toThrow(/Unexpected/)
    expect(() => scan('[1.2.3]')).toThrow(/Malformed number/)
  })
})

describe('convertWinkEmbeddings', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => (tmp = tempDir()))
  afterEach(() => tmp.cleanup())

  /** A small file in the wink layout: norm and index follow each vector, other keys around them. */
  function winkJson(entries: Array<[string, number[]]>, extra: Record<string, unknown> = {}): string {
    const vectors = Object.fromEntries(entries.map(([w, v], i) => [w, [...v, Math.hypot(...v), i]]))
    return JSON.stringify({
      precision: 8,
      l2NormIndex: 3,
      wordIndex: 4,
      size: entries.length,
      dimensions: 3,
      words: entries.map(([w]) => w),
      vectors,
      unkVector: [0, 0, 0, 0, -1],
      ...extra
    })
  }

  const entries: Array<[string, number[]]> = [
    ['the', [3, 0, 4]],
    [',', [0, -2, 0]],
    ['"', [1, 1, 1]],
    ['café', [-0.5, 1e-3, 2.5e-1]],
    ['dog', [0.1, 0.2, 0.3]]
  ]

  it('writes unit vectors in frequency order, with the source recorded, reporting progress', async () => {
    const json = join(tmp.dir, 'wink.json')
    await writeFile(json, winkJson(entries))
    const out = join(tmp.dir, 'lexicon', 'glove.bin')
    const events: Progress[] = []
    expect(await convertWinkEmbeddings(json, out, { source: 'test@1', onProgress: (p) => events.push(p) })).toEqual({ words: 5, dim: 3 })

    const { vectors, meta } = await readVectorFile(out)
    expect(meta).toEqual({ source: 'test@1' })
    expect(vectors.size).toBe(5)
    expect(vectors.dim).toBe(3)
    entries.forEach(([word, v], i) => {
      expect(vectors.word(i)).toBe(word)
      expect(vectors.index(word)).toBe(i)
      const norm = Math.hypot(...v)
      expect([...vectors.vector(i)].map((x) => +x.toFixed(6))).toEqual(v.map((x) => +(x / norm).toFixed(6)))
    })
    expect(vectors.index('cat')).toBeUndefined()
    const last = events.at(-1)!
    expect(last).toMatchObject({ phase: 'lexicon', unit: 'bytes', done: last.total })
    expect(readdirSync(join(tmp.dir, 'lexicon'))).toEqual(['glove.bin'])
  })

  it('streams a file larger than one read chunk', async () => {
    const many: Array<[string, number[]]> = Array.from({ length: 20_000 }, (_, i) => [`w${i}`, [i + 1, -i, 0.5]])
    const json = join(tmp.dir, 'wink.json')
    await writeFile(json, winkJson(many))
    const out = join(tmp.dir, 'big.bin')
    expect(await convertWinkEmbeddings(json, out, { source: 's' })).toEqual({ words: 20_000, dim: 3 })
    const { vectors } = await readVectorFile(out)
    expect(vectors.index('w19999')).toBe(19_999)
    expect(vectors.vector(19_999)[2]).toBeCloseTo(0.5 / Math.hypot(20_000, 19_999, 0.5), 9)
  })

  it('refuses vectors out of word order, short vectors and missing vectors, leaving no file', async () => {
    const json = join(tmp.dir, 'wink.json')
    const out = join(tmp.dir, 'lexicon', 'glove.bin')
    const cases: Array<[string, RegExp]> = [
      [winkJson(entries, { words: ['the', '"', ',', 'café', 'dog'] }), /vector 1 is "," but word 1 is """/],
      [winkJson(entries).replace('"dog":[0.1,0.2,0.3,', '"dog":['), /the vector of "dog" has 2 values, not 3/],
      [winkJson(entries, { words: [...entries.map(([w]) => w), 'extra'] }), /6 words but 5 vectors/],
      [JSON.stringify({ vectors: {}, dimensions: 3 }), /must come before "vectors"/],
      [winkJson(entries).slice(0, -40), /ends early/]
    ]
    for (const [text, error] of cases) {
      await writeFile(json, text)
      await expect(convertWinkEmbeddings(json, out, { source: 's' })).rejects.toThrow(error)
      expect(existsSync(join(tmp.dir, 'lexicon')) ? readdirSync(join(tmp.dir, 'lexicon')) : []).toEqual([])
    }
  })
})

describe('vector files', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => (tmp = tempDir()))
  afterEach(() => tmp.cleanup())

  it('refuse zero vectors and words that cannot be stored, and report truncation', async () => {
    const path = join(tmp.dir, 'v.bin')
    const writer = new VectorFileWriter(path, 2, { source: 't' })
    expect(writer.add('ok', [1, 1])).toBe(true)
    expect(writer.add('zero', [0, 0])).toBe(false)
    expect(writer.add('nan', [NaN, 1])).toBe(false)
    expect(writer.add('two\nlines', [1, 0])).toBe(false)
    expect(writer.add('', [1, 0])).toBe(false)
    await writer.finish()
    const { vectors } = await readVectorFile(path)
    expect(vectors.size).toBe(1)
    expect([...vectors.vector(0)]).toEqual([Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2)])

    const bytes = await readFile(path)
    await writeFile(path, bytes.subarray(0, bytes.length - 1))
    await expect(readVectorFile(path)).rejects.toThrow(/damaged/)
    await writeFile(path, 'not a vector file at all, but long enough')
    await expect(readVectorFile(path)).rejects.toThrow(/not a word-vector file/)
  })

  it('sweep away temporary files of killed writers, but not of live ones', async () => {
    const path = join(tmp.dir, 'v.bin')
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    await writeFile(`${path}.${dead}.0badf00d.tmp`, 'left by a killed import')
    await writeFile(`${path}.${process.pid}.0badf00d.tmp`, 'being written right now')
    const writer = new VectorFileWriter(path, 2, { source: 't' })
    writer.add('a', [1, 0])
    await writer.finish()
    expect(readdirSync(tmp.dir).sort()).toEqual(['v.bin', `v.bin.${process.pid}.0badf00d.tmp`])
  })

  it('map a word listed twice to its first (more frequent) entry', async () => {
    const path = join(tmp.dir, 'v.bin')
    const writer = new VectorFileWriter(path, 2, { source: 't' })
    writer.add('a', [1, 0])
    writer.add('b', [0, 1])
    writer.add('a', [0, -1])
    await writer.finish()
    const { vectors } = await readVectorFile(path)
    expect(vectors.size).toBe(3)
    expect(vectors.index('a')).toBe(0)
  })
})
