import { describe, expect, it } from 'vitest'
import { mediaUrl } from '../../src/shared/api'
import { contentSecurityPolicy } from '../../src/main/host/contentSecurityPolicy'
import { MEDIA_SCHEME, mediaResponse } from '../../src/main/app/mediaProtocol'
import { isAllowedAppUrl } from '../../src/main/host/navigation'
import { MediaError, parseMediaUrl, scopeMediaFile } from '../../src/main/engine/api/media'

describe('sdl-media protocol scoping', () => {
  it('understands only thumb or photo with a positive integer id', () => {
    expect(parseMediaUrl(mediaUrl('thumb', 12, 'electron'))).toEqual({ kind: 'thumb', id: 12 })
    expect(parseMediaUrl(mediaUrl('photo', 3, 'web'))).toEqual({ kind: 'photo', id: 3 })
    for (const url of [
      'sdl-media://thumb/../../etc/passwd',
      'sdl-media://photo/%2e%2e%2fetc%2fpasswd',
      'sdl-media://photo//etc/passwd',
      'sdl-media://photo/0',
      'sdl-media://photo/-1',
      'sdl-media://photo/1.5',
      'sdl-media://photo/12?path=/etc/passwd',
      'sdl-media://file/12',
      'sdl-media:///etc/passwd',
      'file:///etc/passwd',
      '/media/photo/12/../13',
      '/media/photo/../../etc/passwd',
      '/media/thumb/12x'
    ]) {
      expect(parseMediaUrl(url), url).toBeNull()
    }
  })

  const folders = ['/home/ann/Pictures', '/mnt/photos']
  it('serves a library photo only from inside a library folder, after links are followed', () => {
    const request = { kind: 'photo' as const, id: 1 }
    expect(scopeMediaFile(request, { libraryPath: '/home/ann/Pictures/a.jpg', realPath: '/home/ann/Pictures/a.jpg', folders })).toEqual({
      allow: true,
      file: '/home/ann/Pictures/a.jpg'
    })
    // A link inside one library folder to a photo in another is still the library.
    expect(scopeMediaFile(request, { libraryPath: '/home/ann/Pictures/b.jpg', realPath: '/mnt/photos/b.jpg', folders })).toMatchObject({ allow: true })
    expect(scopeMediaFile(request, { libraryPath: '/home/ann/Pictures/key.jpg', realPath: '/home/ann/.ssh/id_rsa', folders })).toMatchObject({ allow: false, status: 403 })
    // A sibling folder sharing a name prefix is not inside.
    expect(scopeMediaFile(request, { libraryPath: '/home/ann/Pictures/c.jpg', realPath: '/home/ann/Pictures-private/c.jpg', folders })).toMatchObject({ allow: false, status: 403 })
    expect(scopeMediaFile(request, { libraryPath: '/home/ann/Pictures/d.jpg', realPath: '/home/ann/Pictures', folders })).toMatchObject({ allow: false, status: 403 })
    expect(scopeMediaFile(request, { libraryPath: undefined, realPath: null, folders })).toMatchObject({ allow: false, status: 404 })
    expect(scopeMediaFile(request, { libraryPath: '/mnt/photos/gone.jpg', realPath: null, folders })).toMatchObject({ allow: false, status: 404 })
    // The folder was removed from the library.
    expect(scopeMediaFile(request, { libraryPath: '/mnt/photos/e.jpg', realPath: '/mnt/photos/e.jpg', folders: ['/home/ann/Pictures'] })).toMatchObject({
      allow: false,
      status: 403
    })
  })

  it('answers the protocol with the resolved file or a plain error, never throwing', async () => {
    const seen: unknown[] = []
    const ok = await mediaResponse('sdl-media://photo/5', async (r) => {
      seen.push(r)
      return { contentType: 'image/jpeg', data: Buffer.from('jpeg bytes') }
    })
    expect(seen).toEqual([{ kind: 'photo', id: 5 }])
    expect(ok).toMatchObject({ status: 200, headers: { 'content-type': 'image/jpeg', 'x-content-type-options': 'nosniff' } })
    expect(String(ok.body)).toBe('jpeg bytes')
    const refused = await mediaResponse('sdl-media://photo/5', async () => Promise.reject(new MediaError(403, '/x leads outside the library folders')))
    expect(refused).toMatchObject({ status: 403, body: '/x leads outside the library folders' })
    const never = () => Promise.reject(new Error('must not be called'))
    expect(await mediaResponse('sdl-media://photo/../../etc/passwd', never)).toMatchObject({ status: 400 })
    // The web form of the URL is not the Electron protocol's.
    expect(await mediaResponse('/media/photo/5', never)).toMatchObject({ status: 400 })
    expect(MEDIA_SCHEME.privileges).not.toHaveProperty('bypassCSP')
  })
})

describe('what the window may load', () => {
  it('loads its own files and media, never anything remote', () => {
    expect(isAllowedAppUrl('file:///opt/sdl-tagger/out/renderer/index.html')).toBe(true)
    expect(isAllowedAppUrl('sdl-media://thumb/3')).toBe(true)
    expect(isAllowedAppUrl('https://example.com/tracker.js')).toBe(false)
    expect(isAllowedAppUrl('http://127.0.0.1:5173/src/main.ts')).toBe(false)
    expect(isAllowedAppUrl('http://127.0.0.1:5173/src/main.ts', 'http://127.0.0.1:5173')).toBe(true)
    expect(isAllowedAppUrl('ws://localhost:5173/', 'http://localhost:5173/')).toBe(true)
    expect(isAllowedAppUrl('http://127.0.0.1:8080/', 'http://127.0.0.1:5173')).toBe(false)
    // A dev server URL that is not local is not trusted either.
    expect(isAllowedAppUrl('http://example.com:5173/', 'http://example.com:5173')).toBe(false)
    expect(isAllowedAppUrl('not a url')).toBe(false)
  })

  it('has a strict content security policy: no eval, no inline script, no framing, media by scheme only', () => {
    const web = contentSecurityPolicy()
    const electron = contentSecurityPolicy({ mediaSource: 'sdl-media:' })
    for (const csp of [web, electron]) {
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self';")
      expect(csp).toContain("connect-src 'self'")
      expect(csp).toContain("object-src 'none'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|\*/)
    }
    expect(web).toContain("img-src 'self' data: blob:;")
    expect(electron).toContain("img-src 'self' data: blob: sdl-media:;")
  })
})
