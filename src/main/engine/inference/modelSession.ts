import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { SdlError } from '../errors'
import { type ExecutionProviderChoice, type ExecutionProviderName, type Precheck, defaultPrecheck, providerOrder } from './executionProviders'

export interface ProviderAttempt {
  provider: ExecutionProviderName
  ok: boolean
  /** Why it was skipped or failed to load. */
  reason?: string
}

export interface OpenSessionOptions {
  executionProvider?: ExecutionProviderChoice
  /** Threads for the CPU provider; defaults to the core count. */
  threads?: number
  /** Told about each provider that was skipped or failed, as it happens. */
  onFallback?: (attempt: ProviderAttempt) => void
  precheck?: Precheck
}

/**
 * One onnxruntime session over a pack's model, on the best execution provider that loads.
 * The input is [N,3,224,224] float32 and the output [N, D*K]; N is dynamic, so callers batch.
 */
export class ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProviderName,
    readonly attempts: ProviderAttempt[],
    readonly outputSize: number
  ) {}

  static async open(modelPath: string, outputSize: number, opts: OpenSessionOptions = {}): Promise<ModelSession> {
    const choice = opts.executionProvider ?? 'auto'
    const precheck = opts.precheck ?? ((ep) => defaultPrecheck(ep))
    const attempts: ProviderAttempt[] = []
    for (const provider of providerOrder(choice)) {
      const skipReason = precheck(provider)
      const attempt: ProviderAttempt = skipReason
        ? { provider, ok: false, reason: skipReason }
        : await tryCreate(modelPath, provider, opts.threads).then(
            (session) => ({ provider, ok: true, session }),
            (err: unknown) => ({ provider, ok: false, reason: firstLine(err) })
          )
      if ('session' in attempt && attempt.session) {
        attempts.push({ provider, ok: true })
        return new ModelSession(attempt.session as ort.InferenceSession, provider, attempts, outputSize)
      }
      attempts.push(attempt)
      opts.onFallback?.(attempt)
    }
    const tried = attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')
    throw new SdlError(
      `Could not load ${modelPath} on ${choice === 'auto' ? 'any execution provider' : `the ${choice} execution provider`} (${tried})`,
      choice === 'auto' ? 'The model file may be damaged: remove the pack and import it again.' : 'Pass --ep auto to fall back to another provider.'
    )
  }

  /** Runs one batch: `pixels` holds `count` images of 3x224x224; returns count * outputSize values. */
  async run(pixels: Float32Array, count: number): Promise<Float32Array> {
    const input = new ort.Tensor('float32', pixels, [count, 3, 224, 224])
    const results = await this.session.run({ [this.session.inputNames[0]]: input })
    const output = results[this.session.outputNames[0]]
    if (output.data.length !== count * this.outputSize) {
      throw new SdlError(`The model returned ${output.data.length / count} values per photo; its pack declares ${this.outputSize}`)
    }
    return output.data as Float32Array
  }

  async close(): Promise<void> {
    await this.session.release()
  }
}

async function tryCreate(modelPath: string, provider: ExecutionProviderName, threads?: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads ?? availableParallelism(),
    // onnxruntime's own warnings repeat what we report ourselves, in native-log form.
    logSeverityLevel: 3,
    // Between batches its threads would spin on the cores a search (or the decoder) needs.
    extra: { session: { intra_op: { allow_spinning: '0' } } }
  })
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text
    .split('\n')[0]
    .replace(/^.*?\] : \d+ : \w+ : /, '')
    .slice(0, 300)
}
