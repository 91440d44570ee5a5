import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export type ExecutionProviderChoice = 'auto' | 'cuda' | 'dml' | 'webgpu' | 'cpu'
export type ExecutionProviderName = Exclude<ExecutionProviderChoice, 'auto'>

export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = ['auto', 'cuda', 'dml', 'webgpu', 'cpu']

/** Why a provider was passed over before trying it, or null when it is worth trying here. */
export type Precheck = (ep: ExecutionProviderName) => string | null

/** The providers to try, fastest first; CPU always closes the list under `auto`. */
export function providerOrder(choice: ExecutionProviderChoice, platform = process.platform): ExecutionProviderName[] {
  if (choice !== 'auto') return [choice]
  return platform === 'win32' ? ['cuda', 'dml', 'webgpu', 'cpu'] : ['cuda', 'webgpu', 'cpu']
}

/**
 * Cheap checks that spare the user onnxruntime's native error dumps for providers that cannot
 * work on this machine: the CUDA provider is a separate library that onnxruntime-node's
 * installer fetches only when asked, DirectML exists only on Windows, and on Linux WebGPU runs
 * through Vulkan, so it needs the Vulkan loader.
 */
export function defaultPrecheck(ep: ExecutionProviderName, platform = process.platform): string | null {
  switch (ep) {
    case 'cuda':
      return cudaProviderInstalled(platform) ? null : 'the CUDA provider library is not installed (see docs/model.md: "Using an NVIDIA GPU")'
    case 'dml':
      return platform === 'win32' ? null : 'DirectML exists only on Windows'
    case 'webgpu':
      return platform !== 'linux' || vulkanLoaderPresent() ? null : 'no Vulkan loader (libvulkan.so.1) is installed'
    case 'cpu':
      return null
  }
}

function onnxruntimeBinDirs(platform: string): string[] {
  const require = createRequire(import.meta.url)
  const root = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin')
  if (!existsSync(root)) return []
  return readdirSync(root)
    .filter((d) => d.startsWith('napi-v'))
    .map((d) => join(root, d, platform, process.arch))
}

function cudaProviderInstalled(platform: string): boolean {
  const file = platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'
  return onnxruntimeBinDirs(platform).some((dir) => existsSync(join(dir, file)))
}

function vulkanLoaderPresent(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
    '/usr/local/lib'
  ]
  return dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))
}
