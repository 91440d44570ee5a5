import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelInfo } from '../../../shared/models'
import { SdlError } from '../errors'
import { PACK_FORMAT, type PackManifest, type PackVocabulary } from './packManifest'
import { isProcessAlive } from '../processAlive'

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i

/** What a pack builder writes into the staging folder, besides the files themselves. */
export type PackContents = Omit<PackManifest, 'format' | 'name' | 'createdAt' | 'modelSha256'>

/**
 * Model packs in `<dataDir>/models/<name>/`: an ONNX graph, its manifest and optionally a tag
 * vocabulary. A pack appears in one rename, after every file is written and checked, so an
 * import that fails or is killed half-way leaves nothing behind (only a `.staging-*` folder that
 * the next run sweeps away), and replacing a pack never leaves the user with neither version.
 */
export class PackStore {
  readonly modelsDir: string
  private readonly settingsPath: string

  constructor(readonly dataDir: string) {
    this.modelsDir = join(dataDir, 'models')
    this.settingsPath = join(dataDir, 'settings.json')
  }

  async list(): Promise<ModelInfo[]> {
    if (!existsSync(this.modelsDir)) return []
    const active = await this.activeName()
    const names = (await readdir(this.modelsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort()
    const infos: ModelInfo[] = []
    for (const name of names) {
      const manifest = await this.readManifest(name).catch(() => null)
      if (manifest) infos.push(toModelInfo(manifest, manifest.name === active))
    }
    return infos
  }

  async manifest(name: string): Promise<PackManifest> {
    checkName(name)
    if (!existsSync(join(this.packDir(name), 'pack.json'))) {
      const known = (await this.list()).map((m) => m.name)
      throw new SdlError(
        `No model pack named '${name}'`,
        known.length ? `Installed packs: ${known.join(', ')}` : 'No pack is installed yet: run `sdl-tagger model install sdl-nus-wide`, `model import` or `model add`.'
      )
    }
    return this.readManifest(name)
  }

  packDir(name: string): string {
    return join(this.modelsDir, name)
  }

  modelPath(manifest: PackManifest): string {
    return join(this.packDir(manifest.name), manifest.modelFile)
  }

  async exists(name: string): Promise<boolean> {
    checkName(name)
    return existsSync(join(this.packDir(name), 'pack.json'))
  }

  /**
   * Builds a pack in a staging folder with `build`, then moves it into place. `replace` allows
   * overwriting an existing pack of that name; without it an existing pack is an error raised
   * before any work is done.
   */
  async create(
    name: string,
    build: (stagingDir: string) => Promise<PackContents>,
    opts: { replace?: boolean } = {}
  ): Promise<ModelInfo> {
    checkName(name)
    if (!opts.replace && (await this.exists(name))) {
      throw new SdlError(`A model pack named '${name}' already exists`, 'Choose another --name, or pass --replace to overwrite it.')
    }
    await mkdir(this.modelsDir, { recursive: true })
    await this.sweepStaging()
    const staging = join(this.modelsDir, `.staging-${process.pid}-${name}-${randomBytes(4).toString('hex')}`)
    await mkdir(staging)
    try {
      const contents = await build(staging)
      const manifest: PackManifest = {
        format: PACK_FORMAT,
        name,
        createdAt: new Date().toISOString(),
        modelSha256: await sha256File(join(staging, contents.modelFile)),
        ...contents
      }
      await writeFile(join(staging, 'pack.json'), JSON.stringify(manifest, null, 2) + '\n')
      await this.moveIntoPlace(staging, name)
    } catch (err) {
      await rm(staging, { recursive: true, force: true })
      throw err
    }
    if (!(await this.activeName())) await this.use(name)
    return toModelInfo(await this.readManifest(name), (await this.activeName()) === name)
  }

  async remove(name: string): Promise<void> {
    await this.manifest(name)
    const trash = join(this.modelsDir, `.staging-${process.pid}-removed-${name}-${randomBytes(4).toString('hex')}`)
    await rename(this.packDir(name), trash)
    await rm(trash, { recursive: true, force: true })
    if ((await this.activeName()) === name) {
      const rest = await this.list()
      await this.writeSettings({ activeModel: rest[0]?.name ?? null })
    }
  }

  async use(name: string): Promise<void> {
    await this.manifest(name)
    await this.writeSettings({ activeModel: name })
  }

  /** The pack to use when none is named: the active one, else the only one installed. */
  async resolve(name?: string): Promise<PackManifest> {
    if (name) return this.manifest(name)
    const active = await this.activeName()
    if (active && (await this.exists(active))) return this.manifest(active)
    const packs = await this.list()
    if (packs.length === 1) return this.manifest(packs[0].name)
    if (packs.length === 0) {
      throw new SdlError(
        'No model pack is installed',
        'Run `sdl-tagger model install sdl-nus-wide` (needs internet), or `sdl-tagger model import <checkpoint.pth> --vocab <dir>`, or `sdl-tagger model add <file.onnx> --name N`.'
      )
    }
    throw new SdlError('Several model packs are installed and none is active', `Pick one with \`sdl-tagger model use <name>\` (${packs.map((p) => p.name).join(', ')}), or pass --model.`)
  }

  async loadVocabulary(manifest: PackManifest): Promise<PackVocabulary> {
    if (!manifest.vocabulary) {
      throw new SdlError(
        `Model pack '${manifest.name}' has no tag vocabulary of its own`,
        '`sdl-tagger embed` works with it; to tag photos, use a pack with a vocabulary (e.g. sdl-nus-wide).'
      )
    }
    const dir = this.packDir(manifest.name)
    const { tags, unseen } = JSON.parse(await readFile(join(dir, manifest.vocabulary.tagsFile), 'utf8')) as { tags: string[]; unseen: string[] }
    const raw = await readFile(join(dir, manifest.vocabulary.vectorsFile))
    const vectors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
    if (vectors.length !== tags.length * manifest.dim) {
      throw new SdlError(`Model pack '${manifest.name}' is damaged: ${tags.length} tags but ${vectors.length / manifest.dim} word vectors`, 'Remove it and import or install it again.')
    }
    return { tags, unseen: new Set(unseen), dim: manifest.dim, vectors }
  }

  /**
   * Changes when which pack is active, or pack `name` itself, may have changed (the files' identity,
   * size and time), from this process or another (the CLI's \`model use\` beside the app). Read with
   * stat calls on this thread: callers on a hot path check it instead of reading the manifest,
   * whose asynchronous reads wait behind the image decoder in libuv's pool while indexing runs.
   */
  changeStamp(name: string): string {
    const stamp = (path: string) => {
      try {
        const s = statSync(path)
        return `${s.ino}:${s.size}:${s.mtimeMs}`
      } catch {
        return 'none'
      }
    }
    return `${stamp(this.settingsPath)}|${stamp(join(this.packDir(name), 'pack.json'))}`
  }

  private async activeName(): Promise<string | null> {
    try {
      const settings = JSON.parse(await readFile(this.settingsPath, 'utf8')) as { activeModel?: string | null }
      return settings.activeModel ?? null
    } catch {
      return null
    }
  }

  private async writeSettings(settings: { activeModel: string | null }): Promise<void> {
    await mkdir(this.dataDir, { recursive: true })
    const tmp = `${this.settingsPath}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, JSON.stringify(settings, null, 2) + '\n')
    await rename(tmp, this.settingsPath)
  }

  private async readManifest(name: string): Promise<PackManifest> {
    const path = join(this.packDir(name), 'pack.json')
    const manifest = JSON.parse(await readFile(path, 'utf8')) as PackManifest
    if (manifest.format !== PACK_FORMAT) {
      throw new SdlError(`${path} has pack format ${manifest.format}; this version reads format ${PACK_FORMAT}`, 'Update SDL Tagger, or import the model again.')
    }
    return manifest
  }

  private async moveIntoPlace(staging: string, name: string): Promise<void> {
    const target = this.packDir(name)
    if (!existsSync(target)) {
      await rename(staging, target)
      return
    }
    // Swap: the old pack stays intact until the new one is complete and in place.
    const old = join(this.modelsDir, `.staging-${process.pid}-replaced-${name}-${randomBytes(4).toString('hex')}`)
    await rename(target, old)
    try {
      await rename(staging, target)
    } catch (err) {
      await rename(old, target)
      throw err
    }
    await rm(old, { recursive: true, force: true })
  }

  /**
   * Leftovers of imports that were killed before they could clean up. Staging folders carry
   * their process id, so an import running in another process right now is left alone.
   */
  private async sweepStaging(): Promise<void> {
    for (const entry of await readdir(this.modelsDir)) {
      const pid = /^\.staging-(\d+)-/.exec(entry)?.[1]
      if (pid && !isProcessAlive(Number(pid))) await rm(join(this.modelsDir, entry), { recursive: true, force: true })
    }
  }
}

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new SdlError(`'${name}' is not a valid pack name`, 'Use letters, digits, dots, dashes and underscores (at most 64), starting with a letter or digit.')
  }
}

function toModelInfo(m: PackManifest, active: boolean): ModelInfo {
  return {
    name: m.name,
    dim: m.dim,
    rows: m.rows,
    wordSpace: m.wordSpace,
    input: m.input,
    tagCount: m.vocabulary?.tagCount ?? 0,
    unseenTagCount: m.vocabulary?.unseenCount ?? 0,
    origin: m.origin,
    description: m.description,
    createdAt: m.createdAt,
    active
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
