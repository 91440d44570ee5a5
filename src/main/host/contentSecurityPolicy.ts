/**
 * The Content-Security-Policy of the app's pages: scripts only from the app itself (no inline
 * script, no eval), network only back to its own origin, images also from the media source,
 * nothing may frame it, no plugins, no <base> or form posts elsewhere. Inline styles stay allowed:
 * Vue's style bindings and transitions set them, and they cannot run code.
 */
export function contentSecurityPolicy(opts: { mediaSource?: string } = {}): string {
  const media = opts.mediaSource ? ` ${opts.mediaSource}` : ''
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${media}`,
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}
