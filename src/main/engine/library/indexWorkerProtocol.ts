import type { Progress } from '../download/progress'
import type { ExecutionProviderChoice } from '../inference/executionProviders'
import type { ProviderAttempt } from '../inference/modelSession'
import type { IndexJob, IndexSummary } from './indexer'

/** What the index worker needs to open the same library with the same model: plain data. */
export interface IndexWorkerSettings {
  dataDir: string
  model?: string
  executionProvider?: ExecutionProviderChoice
}

export type ToIndexWorker =
  | { type: 'run'; id: number; job: IndexJob; batchSize?: number }
  | { type: 'cancel'; id: number }
  /** Finish: close the library and the model, then let the thread end on its own. */
  | { type: 'close' }

export type FromIndexWorker =
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'notice'; id: number; message: string }
  | { type: 'done'; id: number; summary: IndexSummary }
  | { type: 'failed'; id: number; error: { message: string; hint?: string } }
  | { type: 'fallback'; attempt: ProviderAttempt }
