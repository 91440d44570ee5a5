import { existsSync, readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PackStore, type PackContents } from '../../src/main/engine/models/packStore'
import { tempDir } from '../helpers/sharedData'

function contents(description: string): PackContents {
  return {
    description,
    dim: 2,
    rows: 1,
    layout: 'dk',
    wordSpace: 'test',
    input: 'rgb01-224-stretch',
    modelFile: 'model.onnx',
    vocabulary: null,
    origin: 'add',
    source: {}
  }
}

describe('PackStore', () => {
  let tmp: ReturnType<typeof tempDir>
  let store: PackStore
  beforeEach(() => {
    tmp = tempDir()
    store = new PackStore(tmp.dir)
  })
  afterEach(() => tmp.cleanup())

  const writeModel = (text: string) => async (dir: string) => {
    await writeFile(join(dir, 'model.onnx'), text)
    return contents(text)
  }

  it('creates a pack, makes the first one active, and lists it', async () => {
    const info = await store.create('first', writeModel('one'))
    expect(info.active).toBe(true)
    await store.create('second', writeModel('two'))
    const list = await store.list()
    expect(list.map((m) => [m.name, m.active])).toEqual([
      ['first', true],
      ['second', false]
    ])
    await store.use('second')
    expect((await store.resolve()).name).toBe('second')
  })

  it('leaves nothing behind when building fails', async () => {
    await expect(
      store.create('broken', async (dir) => {
        await writeFile(join(dir, 'model.onnx'), 'partial')
        throw new Error('checkpoint is truncated')
      })
    ).rejects.toThrow('truncated')
    expect(readdirSync(store.modelsDir)).toEqual([])
    expect(await store.list()).toEqual([])
  })

  it('refuses to overwrite a pack unless asked, and replacing keeps the old one until the new is ready', async () => {
    await store.create('pack', writeModel('old'))
    await expect(store.create('pack', writeModel('new'))).rejects.toThrow(/already exists/)
    await expect(
      store.create(
        'pack',
        async () => {
          throw new Error('bad input')
        },
        { replace: true }
      )
    ).rejects.toThrow('bad input')
    expect((await store.manifest('pack')).description).toBe('old')
    await store.create('pack', writeModel('new'), { replace: true })
    expect((await store.manifest('pack')).description).toBe('new')
    expect(readdirSync(store.modelsDir)).toEqual(['pack'])
  })

  it('removes a pack and moves the active choice to one that remains', async () => {
    await store.create('a', writeModel('a'))
    await store.create('b', writeModel('b'))
    await store.remove('a')
    expect(existsSync(store.packDir('a'))).toBe(false)
    expect((await store.list()).map((m) => [m.name, m.active])).toEqual([['b', true]])
  })

  it('rejects names that could escape the models folder', async () => {
    await expect(store.create('../evil', writeModel('x'))).rejects.toThrow(/not a valid pack name/)
    await expect(store.manifest('nope')).rejects.toThrow(/No model pack named 'nope'/)
  })
})
