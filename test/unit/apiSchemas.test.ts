import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { API_METHODS, type ApiMethod, type SdlTaggerApi } from '../../src/shared/api'
import { checkApiArgs, validatedApi } from '../../src/main/engine/api/apiSchemas'
import { SettingsStore } from '../../src/main/engine/api/settingsStore'
import { nestsDeeperThan } from '../../src/main/server/requestBody'
import { VALID_ARGS, recordingApi } from '../helpers/apiCalls'
import { tempDir } from '../helpers/sharedData'

function callWith(api: SdlTaggerApi, method: ApiMethod, ...args: unknown[]) {
  return (api[method] as (...a: unknown[]) => Promise<unknown>)(...args)
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

describe('API argument schemas', () => {
  it('passes every valid call through unchanged, the same objects included', async () => {
    const { api, calls } = recordingApi()
    const checked = validatedApi(api)
    for (const method of API_METHODS) expect(await callWith(checked, method, ...VALID_ARGS[method]), method).toEqual({ ok: true, value: method })
    expect(calls.map(([m]) => m)).toEqual(API_METHODS)
    for (const [method, args] of calls) {
      expect(args, method).toHaveLength(VALID_ARGS[method as ApiMethod].length)
      args.forEach((arg, i) => expect(arg, `${method} argument ${i}`).toBe(VALID_ARGS[method as ApiMethod][i]))
    }
  })

  it('accepts optional arguments left out or undefined', () => {
    expect(checkApiArgs('search', ['dog'])).toBeNull()
    expect(checkApiArgs('search', ['dog', undefined])).toBeNull()
    expect(checkApiArgs('startIndexing', [])).toBeNull()
    expect(checkApiArgs('installModel', ['sdl-nus-wide', { replace: undefined }])).toBeNull()
    expect(checkApiArgs('getPhoto', [3, {}])).toBeNull()
  })

  it('refuses an argument nested 5,000 deep with a short message, and never calls the engine', async () => {
    const { api, calls } = recordingApi()
    const answer = await callWith(validatedApi(api), 'search', nested(5000))
    expect(answer).toEqual({ ok: false, error: { message: "search: argument 'query' must be text (got a list of 1)", hint: 'search takes (query, options?).' } })
    expect(checkApiArgs('getPhoto', [1, { top: nested(5000) }])).toMatchObject({
      message: "getPhoto: argument 'options.top' must be a whole number from 1 to 200 (got a list of 1)"
    })
    expect(checkApiArgs('listPhotos', [{ offset: 0, limit: 10, deep: nested(5000) }])).toMatchObject({ message: "listPhotos: argument 'request' has an unknown key 'deep'" })
    expect(calls).toEqual([])
  })

  it('refuses a huge string, quoting only its start', () => {
    const error = checkApiArgs('addFolder', ['/'.repeat(1_000_000)])
    expect(error?.message).toMatch(/^addFolder: argument 'path' must be at most 4096 characters \(got "\/{40}"… \(1000000 characters\)\)$/)
    expect(checkApiArgs('acceptTag', [1, 't'.repeat(201)])?.message).toMatch(/argument 'tag' must be at most 200 characters/)
    expect(checkApiArgs('search', ['q'.repeat(1001)])?.message).toMatch(/argument 'query' must be at most 1000 characters/)
  })

  it('refuses unknown keys, naming a few of them', () => {
    expect(checkApiArgs('exportXmp', [{ dryRun: true, overwrite: true }])).toEqual({
      message: "exportXmp: argument 'request' has an unknown key 'overwrite'",
      hint: 'exportXmp takes (request).'
    })
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]))
    expect(checkApiArgs('startIndexing', [many])?.message).toBe("startIndexing: argument 'request' has unknown keys 'key0', 'key1', 'key2' and 997 more")
    expect(checkApiArgs('search', ['dog', { ['x'.repeat(10_000)]: 1 }])?.message).toBe(`search: argument 'options' has an unknown key '${'x'.repeat(40)}…'`)
  })

  it('refuses wrong types, numbers out of range or not whole, and argument lists of the wrong length', () => {
    const refusals: Array<[ApiMethod, unknown[], string]> = [
      ['getPhoto', ['/etc/passwd'], 'getPhoto: argument \'id\' must be a photo id, a whole number of at least 1 (got "/etc/passwd")'],
      ['getPhoto', [0], "getPhoto: argument 'id' must be a photo id, a whole number of at least 1 (got 0)"],
      ['getPhoto', [1.5], "getPhoto: argument 'id' must be a photo id, a whole number of at least 1 (got 1.5)"],
      ['listPhotos', [{ offset: -1, limit: 10 }], "listPhotos: argument 'request.offset' must be a whole number from 0 to 1000000000 (got -1)"],
      ['listPhotos', [{ offset: 0, limit: 1e6 }], "listPhotos: argument 'request.limit' must be a whole number from 1 to 2000 (got 1000000)"],
      ['listPhotos', [{ limit: 10 }], "listPhotos: argument 'request.offset' must be a whole number from 0 to 1000000000 (got nothing)"],
      ['search', ['dog', { limit: Number.NaN }], "search: argument 'options.limit' must be a whole number from 1 to 10000 (got NaN)"],
      ['search', ['dog', { all: 'yes' }], 'search: argument \'options.all\' must be true or false (got "yes")'],
      ['getPhoto', [1, { minScore: Number.POSITIVE_INFINITY }], "getPhoto: argument 'options.minScore' must be a number (got Infinity)"],
      ['complete', ['dog', 51], "complete: argument 'limit' must be a whole number from 1 to 50 (got 51)"],
      ['exportXmp', [{ dryRun: true, for: 'bridge' }], "exportXmp: argument 'request.for' must be 'auto', 'lightroom', 'darktable', 'digikam', 'capture-one' (got \"bridge\")"],
      ['exportXmp', [null], "exportXmp: argument 'request' must be an object (got null)"],
      ['purgeMissing', [{ olderThanDays: 1e9 }], "purgeMissing: argument 'request.olderThanDays' must be at most 36500 days (got 1000000000)"],
      ['setWatching', [() => true], "setWatching: argument 'enabled' must be true or false (got a function)"],
      ['acceptTag', [1, 2n], "acceptTag: argument 'tag' must be text (got a big integer)"],
      ['addFolder', [''], 'addFolder: argument \'path\' must not be empty (got "")'],
      ['addFolder', [], "addFolder: argument 'path' is missing"],
      ['getStatus', ['extra'], 'getStatus takes at most 0 arguments, got 1'],
      ['acceptTag', [1, 'dog', 'cat'], 'acceptTag takes at most 2 arguments, got 3']
    ]
    for (const [method, args, message] of refusals)
      expect(checkApiArgs(method, args), message).toEqual({ message, hint: expect.stringMatching(new RegExp(`^${method} takes \\(`)) })
  })

  it('checks settings updates with the settings own reasons', () => {
    expect(checkApiArgs('updateSettings', [{ theme: 'purple' }])).toEqual({ message: "Setting 'theme' must be 'system', 'light' or 'dark'", hint: 'Got "purple".' })
    expect(checkApiArgs('updateSettings', [{ colour: 1 }])).toMatchObject({ message: "Unknown setting 'colour'", hint: expect.stringMatching(/^Settings: topN, .*watchFolders/) })
    expect(checkApiArgs('updateSettings', [{ topN: undefined }])).toMatchObject({ message: "Setting 'topN' must be a whole number from 1 to 1000", hint: 'Got nothing.' })
    expect(checkApiArgs('updateSettings', [{ xmpRoot: 'AI|auto' }])).toMatchObject({ message: "Setting 'xmpRoot' the hierarchy root 'AI|auto' must not contain '|' or '/'" })
    expect(checkApiArgs('updateSettings', [{ xmpRoot: 'r'.repeat(101) }])).toMatchObject({ message: "Setting 'xmpRoot' must be at most 100 characters" })
    expect(checkApiArgs('updateSettings', [[1, 2]])).toMatchObject({ message: 'Settings must be an object of setting names and values' })
    expect(checkApiArgs('updateSettings', [{ thumbnailSize: 1000 }])).toEqual({ message: "Setting 'thumbnailSize' must be a whole number from 96 to 320", hint: 'Got 1000.' })
    expect(checkApiArgs('updateSettings', [{ thumbnailSize: 150.5 }])).toMatchObject({ message: "Setting 'thumbnailSize' must be a whole number from 96 to 320" })
    expect(checkApiArgs('updateSettings', [{ showFileNames: 'yes' }])).toMatchObject({ message: "Setting 'showFileNames' must be true or false" })
    expect(checkApiArgs('updateSettings', [{ thumbnailSize: 96, showFileNames: true }])).toBeNull()
  })
})

describe('the settings store', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('accepts only its own keys, each with a value, and keeps its reasons', async () => {
    const store = new SettingsStore(tmp.dir)
    await expect(store.update({ topN: 20, colour: 'red' })).rejects.toMatchObject({ message: "Unknown setting 'colour'" })
    await expect(store.update({ watchFolders: undefined })).rejects.toMatchObject({ message: "Setting 'watchFolders' must be true or false" })
    await expect(store.update({ minScore: 'high' })).rejects.toMatchObject({ message: "Setting 'minScore' must be a number, or null for no floor", hint: 'Got "high".' })
    await expect(store.update(nested(5000))).rejects.toMatchObject({ message: 'Settings must be an object of setting names and values' })
    expect(await store.update({ minScore: 0.25, suggestionCount: 200 })).toMatchObject({ topN: 10, minScore: 0.25, suggestionCount: 200 })
  })

  it('keeps the grids’ look: no file names by default, and the thumbnail size chosen', async () => {
    const dir = join(tmp.dir, 'grid')
    expect(await new SettingsStore(dir).get()).toMatchObject({ showFileNames: false, thumbnailSize: 176 })
    await new SettingsStore(dir).update({ thumbnailSize: 256, showFileNames: true })
    expect(await new SettingsStore(dir).get()).toMatchObject({ showFileNames: true, thumbnailSize: 256 })
  })
})

describe('JSON nesting before parsing', () => {
  it('counts lists and objects, not brackets inside strings', () => {
    expect(nestsDeeperThan('{"args":[{"limit":5}]}', 3)).toBe(false)
    expect(nestsDeeperThan('{"args":[{"limit":[5]}]}', 3)).toBe(true)
    expect(nestsDeeperThan('{"args":["[[[[{{{{", "\\"[[[["]}', 2)).toBe(false)
    expect(nestsDeeperThan(`{"args":${'['.repeat(5000)}${']'.repeat(5000)}}`, 8)).toBe(true)
  })
})
