import type { PackManifest, PackVocabulary } from './packManifest'
import type { PackStore } from './packStore'

/**
 * The model pack an engine works with: the one named on the command line, else the active one.
 * What the library, tagging and search ask of the pack store, and all they may ask.
 */
export class ActivePack {
  constructor(
    private readonly packs: PackStore,
    private readonly name?: string
  ) {}

  get dataDir(): string {
    return this.packs.dataDir
  }

  manifest(): Promise<PackManifest> {
    return this.packs.resolve(this.name)
  }

  /** Changes whenever the pack's files or the active pack do, read with stat calls alone (see PackStore). */
  changeStamp(name: string): string {
    return this.packs.changeStamp(name)
  }

  vocabulary(manifest: PackManifest): Promise<PackVocabulary> {
    return this.packs.loadVocabulary(manifest)
  }

  modelPath(manifest: PackManifest): string {
    return this.packs.modelPath(manifest)
  }
}
