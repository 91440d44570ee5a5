#!/usr/bin/env node
// The CLI is bundled by `npm run build` (electron-vite) into out/main/cli.js.
import { existsSync } from 'node:fs'

const cli = new URL('../out/main/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('error: SDL Tagger is not built yet\nhint: run `npm run build` in the project folder first.\n')
  process.exit(1)
}
await import(cli.href)
