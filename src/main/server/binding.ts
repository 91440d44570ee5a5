import { SdlError } from '../engine/errors'
import { isLoopbackHost } from '../host/navigation'

export const DEFAULT_PORT = 8420
export const DEFAULT_HOST = '127.0.0.1'

/**
 * Web mode's first rule: it listens on the loopback address unless told otherwise, and any other
 * address (the LAN, every interface) needs a token, since anyone who can reach the port could
 * otherwise read the whole library.
 */
export function checkBinding(host: string, token: string | undefined): void {
  if (!host.trim()) throw new SdlError('--host must not be empty')
  if (token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(token)) {
    throw new SdlError('--token must be 16 to 256 printable characters without spaces', 'Use a long random one, e.g. from `openssl rand -hex 24`.')
  }
  if (!isLoopbackHost(host) && token === undefined) {
    throw new SdlError(
      `Refusing to serve on ${host} without a token: anyone who can reach it could read your library`,
      'Add --token <a long random secret> (e.g. from `openssl rand -hex 24`), or leave out --host to serve on 127.0.0.1 only.'
    )
  }
}

/** The Host header values a request may carry when no token is set (DNS rebinding defence). */
export function allowedHostHeaders(host: string, port: number): Set<string> {
  const names = new Set([formatHost(host)])
  if (isLoopbackHost(host)) for (const alias of ['localhost', '127.0.0.1', '[::1]']) names.add(alias)
  return new Set([...names].map((n) => `${n}:${port}`.toLowerCase()))
}

export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
