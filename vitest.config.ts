import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Integration tests run real onnxruntime sessions and convert a 135 MB checkpoint on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two workers on a 2-core machine; each onnxruntime session is also capped at 2 threads.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', '**/node_modules/**'] } },
      // The real app in web mode driven through Chromium; its set-up installs Chromium when missing
      // and rebuilds stale bundles, so `npm test` on a fresh clone needs nothing else.
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/globalSetup.ts'] } }
    ]
  }
})
