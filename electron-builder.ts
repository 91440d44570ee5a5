import type { Configuration } from 'electron-builder'

/**
 * Installers: `npx electron-builder --linux` (or --mac, --win) after `npm run build`, on a machine
 * of that system (the release workflow does it on a v* tag). Typed, so a misspelt option fails the
 * type check; test/unit/packagingLayout.test.ts checks that everything the app loads at run time
 * ends up in the package, and on disk where it has to be.
 */

const ONNXRUNTIME_BINARIES = 'node_modules/onnxruntime-node/bin/napi-v6'

/**
 * What each installer packs besides the production dependencies (which electron-builder adds itself):
 * the bundles electron-vite builds, and of onnxruntime-node's binaries for every system (280 MB)
 * only the one for the installer's system and architecture. The list is given per system because a
 * top-level `files` next to a system's own would be merged into a set that packs the whole project.
 */
function packedFiles(nodePlatform: 'linux' | 'darwin' | 'win32'): string[] {
  return ['out/**/*', `!${ONNXRUNTIME_BINARIES}/!(${nodePlatform})/**`, `!${ONNXRUNTIME_BINARIES}/*/!(\${arch})/**`]
}

const config: Configuration = {
  appId: 'io.github.sdl-tagger',
  productName: 'SDL Tagger',
  executableName: 'sdl-tagger',
  copyright: 'Copyright © SDL Tagger contributors',
  directories: { buildResources: 'resources', output: 'dist' },
  asarUnpack: [
    // Native addons: the system loads them, and the libraries beside them, from real files.
    'node_modules/better-sqlite3/**/*.node',
    `${ONNXRUNTIME_BINARIES}/**`,
    // sharp's addon finds libvips through a relative path into @img/sharp-libvips-*, so both stay side by side.
    'node_modules/sharp/**',
    'node_modules/@img/**',
    // ExifTool is a program (Perl and its modules; exiftool.exe on Windows) that the engine spawns;
    // exiftool-vendored looks for it under app.asar.unpacked.
    'node_modules/exiftool-vendored.pl/**',
    'node_modules/exiftool-vendored.exe/**'
  ],
  // better-sqlite3 is built for Node by `npm ci`; this rebuilds it against Electron's ABI before packing.
  // The others are Node-API binaries (onnxruntime-node, sharp) or programs (ExifTool): nothing to rebuild.
  npmRebuild: true,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Graphics',
    maintainer: 'SDL Tagger contributors',
    icon: 'resources/icons',
    files: packedFiles('linux')
  },
  // electron-builder's own list (a list given replaces it), plus the perl that ExifTool runs on.
  deb: { depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', 'perl'] },
  mac: {
    // onnxruntime-node 1.30 has no macOS x64 binary, so an Intel build could not run the model.
    target: [{ target: 'dmg', arch: ['arm64'] }],
    category: 'public.app-category.photography',
    // Ad-hoc signed until the project has a Developer ID: Apple silicon runs only signed code, and the
    // hardened runtime (needed only for notarization) would refuse the ad-hoc signed native addons.
    identity: '-',
    hardenedRuntime: false,
    icon: 'resources/icons/1024x1024.png',
    files: packedFiles('darwin')
  },
  win: {
    target: [{ target: 'nsis', arch: ['x64'] }],
    icon: 'resources/icons/1024x1024.png',
    files: packedFiles('win32')
  },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
  // The release workflow attaches the installers itself.
  publish: null
}

export default config
