import type { ActivePack } from '../models/activePack'
import type { PackManifest } from '../models/packManifest'
import type { ExecutionProviderChoice } from './executionProviders'
import type { ModelSession, ProviderAttempt } from './modelSession'

export interface ModelSessionsOptions {
  executionProvider?: ExecutionProviderChoice
  /** Told when a faster execution provider could not be used and the next one is tried. */
  onFallback?: (attempt: ProviderAttempt) => void
}

/**
 * The image model's onnxruntime sessions, one per pack, opened on first use (onnxruntime is
 * imported then, not before) and shared; their one owner, which releases them on close.
 */
export class ModelSessions {
  private readonly sessions = new Map<string, Promise<{ session: ModelSession; manifest: PackManifest }>>()

  constructor(
    private readonly pack: ActivePack,
    private readonly opts: ModelSessionsOptions = {}
  ) {}

  /** The session of the engine's pack. */
  async session(): Promise<{ session: ModelSession; manifest: PackManifest }> {
    const manifest = await this.pack.manifest()
    let entry = this.sessions.get(manifest.name)
    if (!entry) {
      entry = import('./modelSession')
        .then(({ ModelSession }) =>
          ModelSession.open(this.pack.modelPath(manifest), manifest.dim * manifest.rows, {
            executionProvider: this.opts.executionProvider,
            onFallback: this.opts.onFallback
          })
        )
        .then((session) => ({ session, manifest }))
      // A failed open must not be cached: the user may fix the cause and retry in the same process.
      entry.catch(() => this.sessions.delete(manifest.name))
      this.sessions.set(manifest.name, entry)
    }
    return entry
  }

  async close(): Promise<void> {
    const open = [...this.sessions.values()]
    this.sessions.clear()
    for (const entry of open) await (await entry.catch(() => null))?.session.close()
  }
}
