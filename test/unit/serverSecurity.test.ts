import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { splitLastTerm } from '../../src/main/engine/api/searchApi'
import { SettingsStore } from '../../src/main/engine/api/settingsStore'
import { SdlError } from '../../src/main/engine/errors'
import { allowedHostHeaders, checkBinding } from '../../src/main/server/binding'
import { lookupStaticFile } from '../../src/main/server/staticFiles'
import { DEFAULT_SETTINGS } from '../../src/shared/api'
import { tempDir } from '../helpers/sharedData'

describe('web mode binding rules', () => {
  const token = 'abcdefghijklmnopqrstuvwx'
  it('serves loopback addresses without a token', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) expect(() => checkBinding(host, undefined), host).not.toThrow()
  })

  it('refuses any other address without a token, and accepts it with one', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'photos.lan', '127.0.0.1.evil.com']) {
      expect(() => checkBinding(host, undefined), host).toThrow(SdlError)
      expect(() => checkBinding(host, undefined), host).toThrow(/without a token/)
      expect(() => checkBinding(host, token), host).not.toThrow()
    }
  })

  it('refuses short or odd tokens', () => {
    expect(() => checkBinding('0.0.0.0', 'short')).toThrow(/16 to 256 printable/)
    expect(() => checkBinding('0.0.0.0', 'has a space in it ok ok ok')).toThrow(/16 to 256 printable/)
  })

  it('accepts only the bound host (and loopback aliases) in the Host header', () => {
    expect(allowedHostHeaders('127.0.0.1', 8420)).toEqual(new Set(['127.0.0.1:8420', 'localhost:8420', '[::1]:8420']))
    expect(allowedHostHeaders('::1', 9)).toEqual(new Set(['[::1]:9', 'localhost:9', '127.0.0.1:9']))
    expect(allowedHostHeaders('192.168.1.20', 80)).toEqual(new Set(['192.168.1.20:80']))
  })
})

describe('static files of web mode', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())
  const root = join(tmp.dir, 'renderer')
  mkdirSync(join(root, 'assets'), { recursive: true })
  writeFileSync(join(root, 'index.html'), '<!doctype html>')
  writeFileSync(join(root, 'assets', 'app.js'), '')
  writeFileSync(join(tmp.dir, 'secret.txt'), 'secret')
  symlinkSync(join(tmp.dir, 'secret.txt'), join(root, 'assets', 'link.js'))

  it('serves the app files and falls back to the page for app routes', () => {
    expect(lookupStaticFile(root, '/')).toMatchObject({ kind: 'file', file: expect.stringMatching(/index\.html$/), contentType: 'text/html; charset=utf-8' })
    expect(lookupStaticFile(root, '/assets/app.js')).toMatchObject({ kind: 'file', contentType: 'text/javascript; charset=utf-8' })
    expect(lookupStaticFile(root, '/search/dogs')).toMatchObject({ kind: 'file', file: expect.stringMatching(/index\.html$/) })
    expect(lookupStaticFile(root, '/assets/missing.js')).toMatchObject({ kind: 'refused', status: 404 })
  })

  it('refuses traversal in every spelling, and links leading out of the app', () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2E%2E%2F%2E%2E%2Fsecret.txt', '/./index.html']) {
      expect(lookupStaticFile(root, path), path).toMatchObject({ kind: 'refused', status: 403 })
    }
    for (const path of ['/..%5csecret.txt', '/index.html%00.js', '/%E0%A4%A']) expect(lookupStaticFile(root, path), path).toMatchObject({ kind: 'refused', status: 400 })
    expect(lookupStaticFile(root, '/assets/link.js')).toMatchObject({ kind: 'refused', status: 403 })
    // An absolute path is read inside the root, where it names nothing.
    expect(lookupStaticFile(root, `/${tmp.dir}/secret.txt`)).toMatchObject({ kind: 'refused', status: 404 })
  })
})

describe('settings of the window', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('starts from the defaults, keeps valid updates and refuses bad ones whole', async () => {
    const store = new SettingsStore(tmp.dir)
    expect(await store.get()).toEqual(DEFAULT_SETTINGS)
    expect(await store.update({ theme: 'light', xmpRoot: 'Tagger' })).toMatchObject({ theme: 'light', xmpRoot: 'Tagger' })
    await expect(store.update({ theme: 'dark', topN: 0 })).rejects.toThrow(/Setting 'topN' must be a whole number/)
    await expect(store.update({ xmpRoot: 'AI/auto' })).rejects.toThrow(/Setting 'xmpRoot' the hierarchy root 'AI\/auto' must not contain/)
    expect(await new SettingsStore(tmp.dir).get()).toMatchObject({ theme: 'light', topN: 10, xmpRoot: 'Tagger' })
  })

  it('falls back to the default for a value a hand edit broke', async () => {
    writeFileSync(join(tmp.dir, 'app-settings.json'), JSON.stringify({ theme: 'neon', topN: 20 }))
    expect(await new SettingsStore(tmp.dir).get()).toEqual({ ...DEFAULT_SETTINGS, topN: 20 })
    writeFileSync(join(tmp.dir, 'app-settings.json'), '{ not json')
    expect(await new SettingsStore(tmp.dir).get()).toEqual(DEFAULT_SETTINGS)
  })
})

describe('autocomplete follows the query language', () => {
  it('completes the word being typed, keeping the rest of the query', () => {
    expect(splitLastTerm('dog bea')).toEqual({ head: 'dog ', fragment: 'bea' })
    expect(splitLastTerm('sunset -peo')).toEqual({ head: 'sunset -', fragment: 'peo' })
    expect(splitLastTerm('(cat | do')).toEqual({ head: '(cat | ', fragment: 'do' })
    expect(splitLastTerm('"red ca')).toEqual({ head: '"', fragment: 'red ca' })
    expect(splitLastTerm('"red car" tru')).toEqual({ head: '"red car" ', fragment: 'tru' })
    expect(splitLastTerm('dog ')).toEqual({ head: 'dog ', fragment: '' })
    expect(splitLastTerm('t-shi')).toEqual({ head: '', fragment: 't-shi' })
  })
})
