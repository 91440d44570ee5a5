import { join, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { packNameOf } from '../../src/main/engine/api/modelsApi'
import { SdlError } from '../../src/main/engine/errors'
import { expandUserPath } from '../../src/main/engine/library/userPaths'

describe('paths typed in the window', () => {
  const home = join(sep, 'home', 'ana')

  it('expands ~ and ~/… to the home folder', () => {
    expect(expandUserPath('~', home)).toBe(home)
    expect(expandUserPath('~/Pictures', home)).toBe(join(home, 'Pictures'))
    expect(expandUserPath('~/Pictures/2024/../2023', home)).toBe(join(home, 'Pictures', '2023'))
  })

  it('starts a relative path at the home folder, not the engine’s working folder', () => {
    expect(expandUserPath('Pictures', home)).toBe(join(home, 'Pictures'))
    expect(expandUserPath('./Pictures/trip', home)).toBe(join(home, 'Pictures', 'trip'))
    expect(expandUserPath('../bob/Pictures', home)).toBe(join(sep, 'home', 'bob', 'Pictures'))
  })

  it('leaves an absolute path where it is, and a ~ inside a name alone', () => {
    const absolute = resolve(sep, 'photos', '2024')
    expect(expandUserPath(absolute, home)).toBe(absolute)
    expect(expandUserPath('notes~/x', home)).toBe(join(home, 'notes~', 'x'))
  })

  it('refuses another user’s ~name, saying what to type instead', () => {
    expect(() => expandUserPath('~bob/Pictures', home)).toThrow(SdlError)
    expect(() => expandUserPath('~bob/Pictures', home)).toThrow(/~bob\/Pictures: another user's home folder/)
  })
})

describe('a pack name from a model file', () => {
  it('is the file name without .onnx, with what a pack name cannot hold turned into dashes', () => {
    expect(packNameOf('/models/conse-mobilenetv2-glove100.onnx')).toBe('conse-mobilenetv2-glove100')
    expect(packNameOf('/models/ConSE ImageNet (v2).ONNX')).toBe('ConSE-ImageNet-v2')
    expect(packNameOf('/models/.hidden.onnx')).toBe('hidden')
    expect(packNameOf(`/models/${'x'.repeat(80)}.onnx`)).toHaveLength(64)
    expect(packNameOf('/models/§§.onnx')).toBe('onnx-model')
  })
})
