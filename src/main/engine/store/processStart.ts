import { readFileSync } from 'node:fs'

/**
 * When a process started, as the OS records it, or null where that cannot be read. A lock or
 * temporary file names its writer by process id, and ids are reused: a live process with the
 * recorded id but another start time is some other program. Only Linux exposes it cheaply (the
 * starttime field of /proc/<pid>/stat, clock ticks after boot); elsewhere only liveness is known.
 */
export function processStartTime(pid: number): string | null {
  if (process.platform !== 'linux') return null
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces or ')'; starttime is
  // field 22, the 20th after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
}
