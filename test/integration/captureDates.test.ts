import { utimesSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import type { ApiSearchResponse, PhotoPage, Result } from '../../src/shared/api'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, cocoPhotoNames, tempDir } from '../helpers/sharedData'

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.message} (${result.error.hint ?? ''})`)
  return result.value
}

// Six COCO photos with capture dates, indexed with the ConSE pack: five with an EXIF date (one
// with a UTC offset that would move it into 2024 if it were applied), one without EXIF whose file
// date is set. Photos 0 and 2 carry the keyword 'zztrip' (two photos: too few to learn a vector
// for, so exactly they match it).
describe('capture dates: the date order, month sections and date terms in search', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(6)
  const photo = (i: number) => join(folder, names[i])
  const exifDates: Array<[string, string] | [string] | null> = [
    ['2023:06:10 12:00:00'],
    ['2023:12:31 23:30:00', '-05:00'],
    ['2024:01:01 00:15:00'],
    ['2022:05:01 10:00:00'],
    null,
    ['2023:03:01 08:00:00']
  ]
  // Local noon, so the calendar day is the same in any zone the test runs in.
  const fileDate = new Date(2021, 2, 15, 12, 0, 0)
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  let engine: Engine
  let api: EngineApi

  const paths = (response: ApiSearchResponse) => response.hits.map((h) => h.path)
  const search = async (query: string, options = {}) => value(await api.search(query, options))

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const [i, name] of names.entries()) {
      const date = exifDates[i]
      // sharp writes no metadata unless asked, so the photo without an EXIF date has none at all.
      const image = sharp(join(COCO_DIR, name)).jpeg({ quality: 85 })
      await (date ? image.withExif({ IFD2: { DateTimeOriginal: date[0], ...(date[1] ? { OffsetTimeOriginal: date[1] } : {}) } }) : image).toFile(photo(i))
    }
    utimesSync(photo(4), fileDate, fileDate)
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    const tagger = await engine.tagger()
    for (const i of [0, 2]) await tagger.addTag(photo(i), 'zztrip')
    api = createEngineApi(engine)
  }, 300_000)
  afterAll(async () => {
    await api.stop()
    await engine.close()
    tmp.cleanup()
  })

  it('lists newest capture first by default (the file date standing in for a missing EXIF date), by path on request', async () => {
    const byDate = value(await api.listPhotos({ offset: 0, limit: 10 }))
    expect(byDate.photos.map((p) => p.path)).toEqual([2, 1, 0, 5, 3, 4].map(photo))
    // The camera's wall clock, its UTC offset set aside; the file date in local time.
    expect(byDate.photos.map((p) => p.capturedAt)).toEqual([
      '2024-01-01T00:15:00',
      '2023-12-31T23:30:00',
      '2023-06-10T12:00:00',
      '2023-03-01T08:00:00',
      '2022-05-01T10:00:00',
      '2021-03-15T12:00:00'
    ])
    expect(byDate.photos[1].takenAt).toBe('2023-12-31T23:30:00-05:00')
    expect(byDate.photos[5].takenAt).toBeNull()
    expect(byDate.sections).toBeUndefined()
    const second = value(await api.listPhotos({ offset: 2, limit: 2, sort: 'date' }))
    expect(second.photos.map((p) => p.path)).toEqual([0, 5].map(photo))
    const byPath = value(await api.listPhotos({ offset: 0, limit: 10, sort: 'path' }))
    expect(byPath.photos.map((p) => p.path)).toEqual([0, 1, 2, 3, 4, 5].map(photo))
  })

  it('answers the month sections of the whole listing, and of a date range', async () => {
    const page: PhotoPage = value(await api.listPhotos({ offset: 0, limit: 2, sections: true }))
    expect(page.total).toBe(6)
    expect(page.sections).toEqual([
      { month: '2024-01', start: 0, count: 1 },
      { month: '2023-12', start: 1, count: 1 },
      { month: '2023-06', start: 2, count: 1 },
      { month: '2023-03', start: 3, count: 1 },
      { month: '2022-05', start: 4, count: 1 },
      { month: '2021-03', start: 5, count: 1 }
    ])
    const in2023 = value(await api.listPhotos({ offset: 0, limit: 10, dates: 'year:2023', sections: true }))
    expect(in2023.total).toBe(3)
    expect(in2023.photos.map((p) => p.path)).toEqual([1, 0, 5].map(photo))
    expect(in2023.sections?.map((s) => [s.month, s.start])).toEqual([
      ['2023-12', 0],
      ['2023-06', 1],
      ['2023-03', 2]
    ])
    expect(value(await api.listPhotos({ offset: 0, limit: 10, dates: 'before:2022-06 | after:2024' })).photos.map((p) => p.path)).toEqual([2, 3, 4].map(photo))
    expect(value(await api.listPhotos({ offset: 0, limit: 10, sort: 'path', sections: true })).sections).toBeUndefined()
  })

  it('rejects a listing filter with words or a bad date, naming it', async () => {
    expect(await api.listPhotos({ offset: 0, limit: 10, dates: 'dog year:2023' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/contain words/) } })
    expect(await api.listPhotos({ offset: 0, limit: 10, dates: 'after:2023-13' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/"after:2023-13".*no month 13/), hint: expect.stringMatching(/YYYY-MM-DD/) }
    })
  })

  it('a query of dates alone lists its photos newest first, whatever the model indexed', async () => {
    const response = await search('year:2023')
    expect(response).toMatchObject({ order: 'date', photos: 6 })
    expect(paths(response)).toEqual([1, 0, 5].map(photo))
    expect(response.hits.map((h) => [h.score, h.capturedAt, h.match.term])).toEqual([
      [0, '2023-12-31T23:30:00', 'year:2023'],
      [0, '2023-06-10T12:00:00', 'year:2023'],
      [0, '2023-03-01T08:00:00', 'year:2023']
    ])
    expect(paths(await search('after:2023-12-31'))).toEqual([2, 1].map(photo))
    expect(paths(await search('before:2024-01-01', { limit: 2 }))).toEqual([1, 0].map(photo))
    expect(paths(await search('year:2021'))).toEqual([photo(4)])
    expect(paths(await search('-year:2023 -year:2022'))).toEqual([2, 4].map(photo))
    expect(paths(await search('year:2020'))).toEqual([])
  })

  it('combines dates with a keyword: AND, NOT, OR and groups', async () => {
    const set = async (query: string) => paths(await search(query)).sort()
    expect(await set('zztrip')).toEqual([0, 2].map(photo))
    expect(await set('zztrip year:2023')).toEqual([photo(0)])
    expect(await set('zztrip -year:2023')).toEqual([photo(2)])
    expect(await set('zztrip after:2023-12-31')).toEqual([photo(2)])
    expect(await set('zztrip before:2024-01-01')).toEqual([photo(0)])
    expect(await set('(zztrip | year:2022) -after:2023-12')).toEqual([0, 3].map(photo))
    expect((await search('zztrip year:2023')).order).toBe('relevance')
  })

  it('a query of dates and excluded words goes by date, newest first', async () => {
    const response = await search('year:2023 -zztrip')
    expect(response.order).toBe('date')
    expect(paths(response)).toEqual([1, 5].map(photo))
    expect(response.hits.map((h) => h.capturedAt)).toEqual(['2023-12-31T23:30:00', '2023-03-01T08:00:00'])
  })

  it("combines dates with the model's words: the date term keeps exactly the word's photos captured then, in the word's order", async () => {
    const in2023 = new Set([0, 1, 5].map(photo))
    // The model's words for these photos: the tags among the top ten suggestions of the most photos.
    const suggested = (await (await engine.tagger()).autotag(undefined, { top: 10 })).flatMap((r) => r.suggestions.map((s) => s.tag))
    const [first, second] = [...new Set(suggested)].sort((a, b) => suggested.filter((t) => t === b).length - suggested.filter((t) => t === a).length)
    for (const words of [first, `${first} | ${second}`]) {
      const alone = paths(await search(words))
      expect(alone.length).toBeGreaterThanOrEqual(3)
      expect(paths(await search(`(${words}) year:2023`))).toEqual(alone.filter((p) => in2023.has(p)))
      expect(paths(await search(`(${words}) -year:2023`))).toEqual(alone.filter((p) => !in2023.has(p)))
    }
    // Under --all every photo is ranked: those a date term rules out come after those it keeps.
    const all = paths(await search(`${first} year:2023`, { all: true }))
    expect(all).toHaveLength(6)
    expect(new Set(all.slice(0, 3))).toEqual(in2023)
  })

  it('the CLI searches with date terms, listing dates alone with their capture times', async () => {
    const listed = await cli('search', 'year:2023')
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout.trimEnd().split('\n')).toEqual([`  1. 2023-12-31 23:30  ${photo(1)}`, `  2. 2023-06-10 12:00  ${photo(0)}`, `  3. 2023-03-01 08:00  ${photo(5)}`])
    const combined = await cli('--json', 'search', 'zztrip year:2023')
    expect(combined.code, combined.stderr).toBe(0)
    expect((JSON.parse(combined.stdout) as Array<{ path: string }>).map((h) => h.path)).toEqual([photo(0)])
    const bad = await cli('search', 'dog year:2023-13')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/"year:2023-13".*year: takes a year alone/)
  })
})
