import { join, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isInside, isWithin } from '../../src/main/engine/library/folderPaths'

describe('folder containment', () => {
  const folder = join(sep, 'photos', 'trip')

  it('is inside for anything below the folder, a subfolder named with two leading dots too', () => {
    expect(isInside(join(folder, 'a.jpg'), folder)).toBe(true)
    expect(isInside(join(folder, 'day 1', 'a.jpg'), folder)).toBe(true)
    expect(isInside(join(folder, '..x', 'a.jpg'), folder)).toBe(true)
    expect(isInside(join(folder, '..hidden.jpg'), folder)).toBe(true)
  })

  it('is not inside for the folder itself, its parent, a sibling sharing its prefix, or an escape', () => {
    expect(isInside(folder, folder)).toBe(false)
    expect(isInside(join(sep, 'photos'), folder)).toBe(false)
    expect(isInside(`${folder}-2024${sep}a.jpg`, folder)).toBe(false)
    expect(isInside(join(folder, '..', 'other', 'a.jpg'), folder)).toBe(false)
  })

  it('is within for the folder itself and what is inside', () => {
    expect(isWithin(folder, folder)).toBe(true)
    expect(isWithin(join(folder, 'a.jpg'), folder)).toBe(true)
    expect(isWithin(`${folder}x`, folder)).toBe(false)
  })
})
