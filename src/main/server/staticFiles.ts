import { realpathSync, statSync } from 'node:fs'
import { extname, join, sep } from 'node:path'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8'
}

export type StaticLookup = { kind: 'file'; file: string; contentType: string } | { kind: 'refused'; status: 400 | 403 | 404; reason: string }

/**
 * The renderer file a request path names, only from inside `root` (the built renderer): the raw
 * path is decoded once, `..` segments, backslashes and NUL are refused outright, and the result
 * must still lie inside the root after links are followed. Paths that name no file and look like
 * app routes (no extension) get index.html, so the single-page app can handle them.
 */
export function lookupStaticFile(root: string, rawPath: string): StaticLookup {
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return { kind: 'refused', status: 400, reason: 'Malformed path' }
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { kind: 'refused', status: 400, reason: 'Malformed path' }
  const segments = decoded.split('/').filter(Boolean)
  if (segments.some((s) => s === '..' || s === '.')) return { kind: 'refused', status: 403, reason: 'Path traversal refused' }
  let realRoot: string
  try {
    realRoot = realpathSync(root)
  } catch {
    return { kind: 'refused', status: 404, reason: 'The app is not built (run `npm run build`)' }
  }
  const wanted = segments.length ? join(realRoot, ...segments) : join(realRoot, 'index.html')
  const found = realFile(wanted)
  if (found === 'missing') {
    if (extname(segments.at(-1) ?? '') === '') return withType(join(realRoot, 'index.html'))
    return { kind: 'refused', status: 404, reason: 'Not found' }
  }
  if (found === 'not-a-file') return segments.length ? { kind: 'refused', status: 404, reason: 'Not found' } : withType(join(realRoot, 'index.html'))
  if (found !== realRoot && !found.startsWith(realRoot + sep)) return { kind: 'refused', status: 403, reason: 'Outside the app' }
  return withType(found)
}

function realFile(path: string): string | 'missing' | 'not-a-file' {
  try {
    const real = realpathSync(path)
    return statSync(real).isFile() ? real : 'not-a-file'
  } catch {
    return 'missing'
  }
}

function withType(file: string): StaticLookup {
  return { kind: 'file', file, contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' }
}
