/**
 * Reads one checkpoint against the official model's manifest in a process of its own and prints
 * {error, tensors, peakRssBytes} as JSON, so a test can bound the memory the read took.
 * Run as: node --import tsx test/helpers/checkpointReadProbe.ts <checkpoint>
 */
import { existsSync, readFileSync } from 'node:fs'
import { readTorchCheckpoint } from '../../src/main/engine/checkpoint/torchCheckpoint'
import { tresnetSdlManifest } from '../../src/main/engine/onnx/tresnetSdl'

const OFFICIAL = { dim: 300, rows: 7 }

let error: string | null = null
let tensors = 0
try {
  tensors = (await readTorchCheckpoint(process.argv[2], tresnetSdlManifest(OFFICIAL))).size
} catch (err) {
  error = (err as Error).message
}
process.stdout.write(JSON.stringify({ error, tensors, peakRssBytes: peakResidentBytes() }) + '\n')

/**
 * This process's peak resident memory. Linux's VmHWM starts afresh with the program, whereas
 * getrusage's maxRSS keeps the peak of the process that spawned it (it survives execve).
 */
function peakResidentBytes(): number {
  const status = existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : ''
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status)
  return Number(hwm?.[1] ?? process.resourceUsage().maxRSS) * 1024
}
