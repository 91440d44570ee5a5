/**
 * Whether the window may load `url`: the app's own files, its media scheme, inline data, and in
 * development the local dev server; never anything remote (the app has no business online).
 */
export function isAllowedAppUrl(url: string, devServerUrl?: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'file:' || parsed.protocol === 'sdl-media:' || parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'devtools:') return true
  if (devServerUrl) {
    const dev = new URL(devServerUrl)
    return (parsed.protocol === 'http:' || parsed.protocol === 'ws:') && parsed.host === dev.host && isLoopbackHost(dev.hostname)
  }
  return false
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
