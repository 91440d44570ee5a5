import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests run real onnxruntime sessions and convert a 135 MB checkpoint on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two workers on a 2-core machine; each onnxruntime session is also capped at 2 threads.
    maxWorkers: 2
  }
})
