#!/usr/bin/env node
// The CLI is bundled by `npm run build` (electron-vite) into out/main/cli.js.
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'

// sharp decodes on libuv's thread pool, 4 threads by default: on bigger machines that would cap
// photo decoding at 4 at a time. The pool is sized once, on first use, so this must come first.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()))

const cli = new URL('../out/main/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('error: SDL Tagger is not built yet\nhint: run `npm run build` in the project folder first.\n')
  process.exit(1)
}
await import(cli.href)
