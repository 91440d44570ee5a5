import type { ModelInfo } from './models'

/** What every front end shows about the engine: where it keeps its data, which models, which hardware. */
export interface EngineStatus {
  version: string
  dataDir: string
  activeModel: ModelInfo | null
  models: ModelInfo[]
  executionProviders: Array<{ name: string; usable: boolean; reason?: string }>
}

/**
 * Every call across a process boundary answers with an envelope, so the renderer never sees a
 * raw exception: `ok` with the value, or a message and a hint the user can act on.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { message: string; hint?: string } }

/** The typed API the renderer talks to (IPC in Electron, HTTP in web mode). */
export interface SdlTaggerApi {
  getStatus(): Promise<Result<EngineStatus>>
}

export const IPC_CHANNELS = {
  getStatus: 'engine:getStatus'
} as const satisfies Record<keyof SdlTaggerApi, string>
