import { describe, expect, it } from 'vitest'
import { defaultPrecheck, providerOrder } from '../../src/main/engine/inference/executionProviders'

describe('execution provider order', () => {
  it('tries GPUs first and always ends on the CPU under auto', () => {
    expect(providerOrder('auto', 'linux')).toEqual(['cuda', 'webgpu', 'cpu'])
    expect(providerOrder('auto', 'win32')).toEqual(['cuda', 'dml', 'webgpu', 'cpu'])
  })

  it('tries only the forced provider', () => {
    expect(providerOrder('webgpu', 'linux')).toEqual(['webgpu'])
  })

  it('explains why a provider cannot work here', () => {
    expect(defaultPrecheck('dml', 'linux')).toMatch(/Windows/)
    expect(defaultPrecheck('cpu', 'linux')).toBeNull()
  })
})
