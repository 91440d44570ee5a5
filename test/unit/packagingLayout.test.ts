import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, posix } from 'node:path'
import type { Configuration, PlatformSpecificBuildOptions } from 'electron-builder'
import { minimatch } from 'minimatch'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import config from '../../electron-builder'

/**
 * The installers cannot be built here (electron-builder needs Electron's binary), so this checks
 * what decides whether a packaged app can start: each file the app loads at run time is in the
 * build output (out/, which `npm ci` builds) and kept by the packaging configuration, and every
 * native binary or spawned program lands outside the asar, where the system can load it.
 */

const ROOT = join(import.meta.dirname, '../..')
const PLATFORMS = ['linux', 'mac', 'win'] as const
type Platform = (typeof PLATFORMS)[number]
/** electron-builder's platform names, as Node (and onnxruntime-node's folders) spell them. */
const NODE_PLATFORM: Record<Platform, string> = { linux: 'linux', mac: 'darwin', win: 'win32' }

/** What the app loads by path at run time, and the source line that names it (so a rename is noticed here). */
const RUNTIME_ENTRIES = [
  { file: 'out/main/engine.js', loadedBy: 'src/main/index.ts', reference: "join(here, 'engine.js')", what: "the engine, in Electron's utility process" },
  { file: 'out/preload/index.cjs', loadedBy: 'src/main/index.ts', reference: "'../preload/index.cjs'", what: 'the preload script' },
  { file: 'out/renderer/index.html', loadedBy: 'src/main/index.ts', reference: "'../renderer/index.html'", what: 'the window' },
  { file: 'out/main/indexWorker.js', loadedBy: 'src/main/engine/library/indexWorkerClient.ts', reference: "'./indexWorker.js'", what: 'the index worker thread' }
]

/** Packages reached by path rather than by import, which must ship as production dependencies. */
const PATH_DEPENDENCIES = [
  { name: 'libheif-js', loadedBy: 'src/main/engine/image/heicWorker.ts', reference: "'libheif-js/wasm-bundle'", platforms: PLATFORMS },
  { name: 'exiftool-vendored.pl', loadedBy: 'src/main/engine/xmp/exifToolProcess.ts', reference: 'exiftoolPath()', platforms: ['linux', 'mac'] },
  { name: 'exiftool-vendored.exe', loadedBy: 'src/main/engine/xmp/exifToolRunner.ts', reference: "process.platform === 'win32' ? undefined", platforms: ['win'] }
] as const

/** Files the system itself loads (addons and their libraries) or runs. */
const NATIVE_FILE = /\.(node|dll|dylib|exe)$|\.so(\.\d+)*$/
/** Programs spawned with their own files (ExifTool's Perl modules): every file must be on disk. */
const SPAWNED_PACKAGES = ['exiftool-vendored.pl', 'exiftool-vendored.exe']

type LockEntry = { version: string; dev?: boolean; optional?: boolean; os?: string[] }
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string }

function asList<T>(value: T | T[] | null | undefined): T[] {
  return value == null ? [] : Array.isArray(value) ? value : [value]
}

/** A system's `files` patterns as electron-builder expands them for one architecture. */
function filePatterns(platform: Platform, arch: string, from: Configuration = config): string[] {
  return asList(platformOptions(platform, from).files as unknown)
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.replaceAll('${arch}', arch))
}

/** electron-builder's rule: patterns are tried in order and the last one that matches decides. */
function matchesInOrder(path: string, patterns: string[]): boolean {
  let included = false
  for (const raw of patterns) {
    const negated = raw.startsWith('!')
    if (included !== negated) continue
    included = minimatch(path, negated ? raw.slice(1) : raw, { dot: true }) !== negated
  }
  return included
}

function platformOptions(platform: Platform, from: Configuration = config): PlatformSpecificBuildOptions {
  return (from[platform] ?? {}) as PlatformSpecificBuildOptions
}

function targetsOf(platform: Platform): { target: string; arch: string[] }[] {
  return asList(platformOptions(platform).target as unknown).map((t) =>
    typeof t === 'string' ? { target: t, arch: ['x64'] } : { target: (t as { target: string }).target, arch: asList((t as { arch?: string | string[] }).arch ?? 'x64') }
  )
}

/** Every system with each architecture its installers are built for. */
function builds(): { platform: Platform; arch: string }[] {
  return PLATFORMS.flatMap((platform) => [...new Set(targetsOf(platform).flatMap((t) => t.arch))].map((arch) => ({ platform, arch })))
}

/** An app file (not in node_modules) is packaged when the system's `files` keep it. */
function packagesAppFile(file: string, platform: Platform, arch: string, from: Configuration = config): boolean {
  return matchesInOrder(file, filePatterns(platform, arch, from))
}

/** Production dependencies are all packaged, less what a negated `files` pattern drops. */
function packagesModuleFile(file: string, platform: Platform, arch: string): boolean {
  return matchesInOrder(file, ['**/*', ...filePatterns(platform, arch).filter((p) => p.startsWith('!'))])
}

function unpacked(file: string, platform: Platform, from: Configuration = config): boolean {
  return matchesInOrder(file, [...asList(from.asarUnpack), ...asList(platformOptions(platform, from).asarUnpack)])
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => posix.join(dir, f.split('\\').join('/')))
    .filter((f) => statSync(join(ROOT, f)).isFile())
}

/** Installed production packages (those electron-builder copies), by folder. */
function productionPackages(): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev && existsSync(join(ROOT, path)))
    .map(([path]) => path)
}

describe('packaging layout', () => {
  it('gives the files to pack per system only', () => {
    // electron-builder merges a top-level list and a system's own into a set that packs the whole project.
    expect(config.files, 'a top-level files list').toBeUndefined()
    expect(builds().length).toBeGreaterThan(0)
  })

  it('builds every runtime entry into out/ and packages it on each system', () => {
    expect(posix.normalize(pkg.main)).toBe('out/main/index.js')
    for (const entry of [{ file: 'out/main/index.js', loadedBy: 'package.json', reference: '"main": "./out/main/index.js"', what: 'the main process' }, ...RUNTIME_ENTRIES]) {
      expect(readFileSync(join(ROOT, entry.loadedBy), 'utf8'), `${entry.loadedBy} loads ${entry.what}`).toContain(entry.reference)
      expect(existsSync(join(ROOT, entry.file)), `${entry.file} (${entry.what}) is built; run npm run build`).toBe(true)
      for (const { platform, arch } of builds()) expect(packagesAppFile(entry.file, platform, arch), `${entry.file} is packaged for ${platform} ${arch}`).toBe(true)
    }
  })

  it("packages the bundles' chunks and the window's assets", () => {
    const html = readFileSync(join(ROOT, 'out/renderer/index.html'), 'utf8')
    const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => posix.join('out/renderer', m[1]))
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) expect(existsSync(join(ROOT, asset)), `${asset}, named by index.html, is built`).toBe(true)
    for (const file of filesUnder('out')) {
      for (const { platform, arch } of builds()) expect(packagesAppFile(file, platform, arch), `${file} is packaged for ${platform} ${arch}`).toBe(true)
    }
  })

  it('ships the packages reached by path as production dependencies', () => {
    for (const dependency of PATH_DEPENDENCIES) {
      expect(readFileSync(join(ROOT, dependency.loadedBy), 'utf8'), `${dependency.loadedBy} reaches ${dependency.name}`).toContain(dependency.reference)
      const entry = lock.packages[`node_modules/${dependency.name}`]
      expect(entry, `${dependency.name} is in package-lock.json`).toBeDefined()
      expect(entry.dev, `${dependency.name} is a production dependency`).toBeFalsy()
      for (const { platform, arch } of builds().filter((b) => (dependency.platforms as readonly Platform[]).includes(b.platform))) {
        expect(packagesModuleFile(`node_modules/${dependency.name}/package.json`, platform, arch), `${dependency.name} is packaged for ${platform} ${arch}`).toBe(true)
      }
    }
  })

  it('unpacks every native binary and spawned program from the asar', () => {
    const mustBeOnDisk = productionPackages().flatMap((dir) => {
      const spawned = SPAWNED_PACKAGES.some((name) => dir === `node_modules/${name}`)
      return filesUnder(dir).filter((file) => !file.slice(dir.length).includes('/node_modules/') && (spawned || NATIVE_FILE.test(file)))
    })
    // The walk must have found the addons this app depends on, or it proves nothing.
    for (const expected of [
      'node_modules/better-sqlite3/',
      'node_modules/onnxruntime-node/',
      'node_modules/@img/sharp-',
      'node_modules/@img/sharp-libvips-',
      'node_modules/exiftool-vendored.'
    ]) {
      expect(
        mustBeOnDisk.some((f) => f.startsWith(expected)),
        `a native file under ${expected}`
      ).toBe(true)
    }
    for (const file of mustBeOnDisk) for (const platform of PLATFORMS) expect(unpacked(file, platform), `${file} is unpacked for ${platform}`).toBe(true)
  })

  it("packs onnxruntime-node's binary for each installer's system and architecture, and no other", () => {
    const binaries = 'node_modules/onnxruntime-node/bin/napi-v6'
    const available = PLATFORMS.flatMap((platform) => readdirSync(join(ROOT, binaries, NODE_PLATFORM[platform])).map((arch) => ({ platform, arch })))
    for (const { platform, arch } of builds()) {
      const binding = `${binaries}/${NODE_PLATFORM[platform]}/${arch}/onnxruntime_binding.node`
      expect(existsSync(join(ROOT, binding)), `onnxruntime-node has a ${NODE_PLATFORM[platform]} ${arch} binary`).toBe(true)
      for (const other of available) {
        const otherBinding = `${binaries}/${NODE_PLATFORM[other.platform]}/${other.arch}/onnxruntime_binding.node`
        expect(packagesModuleFile(otherBinding, platform, arch), `${otherBinding} in the ${platform} ${arch} installer`).toBe(other.platform === platform && other.arch === arch)
      }
    }
  })

  it('notices an entry dropped from the configuration', () => {
    const withoutBundles: Configuration = { ...config, linux: { ...config.linux, files: ['out/renderer/**/*'] } }
    for (const entry of RUNTIME_ENTRIES.filter((e) => e.file.startsWith('out/main/'))) expect(packagesAppFile(entry.file, 'linux', 'x64', withoutBundles)).toBe(false)
    const withoutPreload: Configuration = { ...config, linux: { ...config.linux, files: [...filePatterns('linux', 'x64'), '!out/preload/**'] } }
    expect(packagesAppFile('out/preload/index.cjs', 'linux', 'x64', withoutPreload)).toBe(false)
    expect(packagesAppFile('out/preload/index.cjs', 'mac', 'arm64', withoutPreload)).toBe(true)
    const withoutSharp: Configuration = { ...config, asarUnpack: asList(config.asarUnpack).filter((p) => p !== 'node_modules/@img/**') }
    const addon = filesUnder('node_modules/@img').find((f) => f.endsWith('.node'))
    expect(addon && unpacked(addon, 'linux', withoutSharp), `${addon} left in the asar`).toBe(false)
  })

  it('has the icons the installers are made from', async () => {
    for (const size of [512, 1024]) {
      const metadata = await sharp(join(ROOT, `resources/icons/${size}x${size}.png`)).metadata()
      expect([metadata.width, metadata.height], `resources/icons/${size}x${size}.png`).toEqual([size, size])
    }
    for (const platform of PLATFORMS) {
      const icon = platformOptions(platform).icon
      expect(icon && existsSync(join(ROOT, icon)), `${platform}'s icon ${icon} exists`).toBe(true)
    }
  })
})
