import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelInfo } from '../../../shared/models'
import { downloadFile } from '../download/downloadFile'
import type { Progress } from '../download/progress'
import { SdlError } from '../errors'
import { type CatalogAsset, catalogEntry, withMirror } from './catalog'
import { importSdlCheckpoint } from './packBuilders'
import { type PackStore, sha256File } from './packStore'

export interface InstallOptions {
  /** Base URL serving the same file names as the official hosts. */
  mirror?: string
  replace?: boolean
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
  onStep?: (message: string) => void
}

/**
 * Downloads a catalogue model's checkpoint and vocabulary, then imports them. Downloads resume
 * from where an earlier attempt stopped; files with a published checksum are verified, and the
 * checkpoint's checksum (which is not published) is recorded on first download so that later
 * downloads of it are verified against that.
 */
export async function installCatalogPack(store: PackStore, name: string, opts: InstallOptions = {}): Promise<ModelInfo> {
  const entry = withMirror(catalogEntry(name), opts.mirror)
  if (!opts.replace && (await store.exists(name))) {
    throw new SdlError(`The model pack '${name}' is already installed`, 'Pass --replace to download and import it again.')
  }
  const downloadDir = join(store.dataDir, 'downloads', name)
  await mkdir(downloadDir, { recursive: true })
  const recorded = new RecordedChecksums(join(store.dataDir, 'downloads', 'checksums.json'))

  for (const asset of [...entry.vocabulary, entry.checkpoint]) {
    const dest = join(downloadDir, asset.file)
    const expected = asset.sha256 ?? (await recorded.get(asset.file))
    opts.onStep?.(`Downloading ${asset.url}`)
    const result = await fetchAsset(asset, dest, expected, opts)
    if (!expected) await recorded.set(asset.file, result.sha256)
  }

  const info = await importSdlCheckpoint(store, {
    checkpointPath: join(downloadDir, entry.checkpoint.file),
    vocabDir: downloadDir,
    name,
    replace: opts.replace,
    origin: 'install',
    source: { checkpointUrl: entry.checkpoint.url, checkpointSha256: (await recorded.get(entry.checkpoint.file)) ?? '' },
    onStep: opts.onStep
  })
  // The pack holds everything now; the 135 MB checkpoint would only take space twice.
  await rm(downloadDir, { recursive: true, force: true })
  return info
}

async function fetchAsset(asset: CatalogAsset, dest: string, expected: string | null, opts: InstallOptions): Promise<{ sha256: string }> {
  if (existsSync(dest) && expected && (await sha256File(dest)) === expected) return { sha256: expected }
  try {
    return await downloadFile({ url: asset.url, dest, expectedSha256: expected ?? undefined, signal: opts.signal, onProgress: opts.onProgress })
  } catch (err) {
    if (!(err instanceof SdlError)) throw err
    throw new SdlError(
      err.message,
      `${err.hint ? err.hint + ' ' : ''}Run the same command again to resume. Without internet access, download ${asset.url} ` +
        'and the vocabulary files on another machine, then run `sdl-tagger model import <checkpoint.pth> --vocab <folder with the three .pickle files>`.'
    )
  }
}

/** Checksums we computed ourselves for assets whose publisher gives none, keyed by file name. */
class RecordedChecksums {
  constructor(private readonly path: string) {}

  async get(file: string): Promise<string | null> {
    return (await this.read())[file] ?? null
  }

  async set(file: string, sha256: string): Promise<void> {
    const all = { ...(await this.read()), [file]: sha256 }
    await writeFile(`${this.path}.tmp`, JSON.stringify(all, null, 2) + '\n')
    await rename(`${this.path}.tmp`, this.path)
  }

  private async read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>
    } catch {
      return {}
    }
  }
}
