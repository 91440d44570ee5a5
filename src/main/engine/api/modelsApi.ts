import { basename } from 'node:path'
import type { AddModelRequest, EngineStatus, ImportModelRequest, InstallModelOptions, ModelCatalog, ModelInstallProgress, Result, SdlTaggerApi } from '../../../shared/api'
import type { ModelInfo } from '../../../shared/models'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { catalogEntry, catalogNames } from '../models/catalog'
import { installCatalogPack } from '../models/installPack'
import { addOnnxModel, importSdlCheckpoint } from '../models/packBuilders'
import { expandUserPath } from '../library/userPaths'
import type { EventHub } from './eventHub'
import { toResult } from './result'
import { toApiError } from './errors'

export const MODEL_METHODS = ['getStatus', 'listCatalog', 'installModel', 'cancelModelInstall', 'importModel', 'addModel', 'activateModel', 'removeModel'] as const

/** Status and model packs: the catalogue, installs and imports (one at a time, reported as events), the active pack. */
export class ModelsApi implements Pick<SdlTaggerApi, (typeof MODEL_METHODS)[number]> {
  private install: { name: string; controller: AbortController } | null = null
  private executionProvider: string | null = null

  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub
  ) {}

  /** Once the model is open (an indexing run opens it), the model panel can say on what it runs. */
  noteExecutionProvider(): void {
    void this.engine.session().then(
      ({ session }) => (this.executionProvider = session.provider),
      () => {}
    )
  }

  /** Stops an install in flight (the app is closing). */
  cancel(): void {
    this.install?.controller.abort()
  }

  getStatus(): Promise<Result<EngineStatus>> {
    return toResult(() => this.engine.status(), this.engine.dataDir)
  }

  listCatalog(): Promise<Result<ModelCatalog>> {
    return toResult(async () => {
      const installed = await this.engine.packs.list()
      const names = new Set(installed.map((m) => m.name))
      const available = catalogNames().map((name) => {
        const entry = catalogEntry(name)
        return { name, description: entry.description, approxBytes: entry.checkpoint.approxBytes, installed: names.has(name) }
      })
      return { installed, available, executionProvider: this.executionProvider }
    }, this.engine.dataDir)
  }

  installModel(name: string, options: InstallModelOptions = {}): Promise<Result<ModelInfo>> {
    return toResult(
      () =>
        this.modelJob(name, (controller, report) =>
          installCatalogPack(this.engine.packs, name, {
            mirror: options?.mirror,
            replace: options?.replace,
            signal: controller.signal,
            onProgress: (p) => report({ phase: 'download', done: p.done, total: p.total, unit: p.unit, ratePerSecond: p.ratePerSecond, etaSeconds: p.etaSeconds }),
            // A new step is a new file or stage: its progress starts afresh.
            onStep: (step) => report({ step, phase: /^Download/.test(step) ? 'download' : 'import', done: 0, total: null, ratePerSecond: 0, etaSeconds: null })
          })
        ),
      this.engine.dataDir
    )
  }

  cancelModelInstall(): Promise<Result<{ cancelled: boolean }>> {
    return toResult(() => {
      if (!this.install) return { cancelled: false }
      this.install.controller.abort()
      return { cancelled: true }
    }, this.engine.dataDir)
  }

  importModel(request: ImportModelRequest): Promise<Result<ModelInfo>> {
    return toResult(() => {
      const name = request.name ?? 'sdl-nus-wide'
      return this.modelJob(name, (_controller, report) =>
        importSdlCheckpoint(this.engine.packs, {
          checkpointPath: expandUserPath(request.checkpointPath),
          vocabDir: expandUserPath(request.vocabDir),
          name,
          replace: request.replace,
          onStep: (step) => report({ phase: 'import', step })
        })
      )
    }, this.engine.dataDir)
  }

  addModel(request: AddModelRequest): Promise<Result<ModelInfo>> {
    return toResult(() => {
      const onnxPath = expandUserPath(request.onnxPath)
      const name = request.name ?? packNameOf(onnxPath)
      return this.modelJob(name, async (_controller, report) => {
        report({ phase: 'import', step: `Adding ${basename(onnxPath)}`, unit: 'items' })
        return addOnnxModel(this.engine.packs, {
          onnxPath,
          name,
          vocabDir: request.vocabDir === undefined ? undefined : expandUserPath(request.vocabDir),
          replace: request.replace
        })
      })
    }, this.engine.dataDir)
  }

  activateModel(name: string): Promise<Result<ModelInfo>> {
    return toResult(async () => {
      await this.engine.packs.use(name)
      // Search reads the active pack's manifest again only when its files change: it must not wait for that.
      ;(await this.engine.search()).invalidate()
      this.events.emit({ type: 'library-changed', change: 'model' })
      return (await this.engine.packs.list()).find((m) => m.name === name)!
    }, this.engine.dataDir)
  }

  removeModel(name: string): Promise<Result<{ removed: string }>> {
    return toResult(async () => {
      await this.engine.packs.remove(name)
      this.events.emit({ type: 'library-changed', change: 'model' })
      return { removed: name }
    }, this.engine.dataDir)
  }

  /** Runs one model install or import at a time, reporting `model-install` events to its end. */
  private async modelJob(name: string, work: (controller: AbortController, report: (patch: Partial<ModelInstallProgress>) => void) => Promise<ModelInfo>): Promise<ModelInfo> {
    if (this.install) throw new SdlError(`${this.install.name} is being installed`, 'Wait for it to finish, or cancel it.')
    const controller = new AbortController()
    this.install = { name, controller }
    const progress: ModelInstallProgress = { name, phase: 'download', step: null, done: 0, total: null, unit: 'bytes', ratePerSecond: 0, etaSeconds: null }
    const report = (patch: Partial<ModelInstallProgress>) => {
      Object.assign(progress, patch)
      this.events.emit({ type: 'model-install', progress: { ...progress } })
    }
    try {
      const info = await work(controller, report)
      report({ phase: 'done', step: null, etaSeconds: 0 })
      this.events.emit({ type: 'library-changed', change: 'model' })
      return info
    } catch (err) {
      report(controller.signal.aborted ? { phase: 'cancelled', etaSeconds: null } : { phase: 'failed', etaSeconds: null, error: toApiError(err) })
      throw err
    } finally {
      this.install = null
    }
  }
}

/** A pack name from a model file's name (`ConSE ImageNet.onnx` -> `ConSE-ImageNet`), as the pack store allows names. */
export function packNameOf(file: string): string {
  const stem = basename(file).replace(/\.onnx$/i, '')
  const name = stem
    .replace(/[^a-z0-9._-]+/gi, '-')
    .replace(/^[^a-z0-9]+/i, '')
    .slice(0, 64)
    .replace(/-+$/, '')
  return name || 'onnx-model'
}
