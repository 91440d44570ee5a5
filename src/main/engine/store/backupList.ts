import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { backupsDir } from './paths'

export interface BackupInfo {
  path: string
  takenAt: Date
  /** Why it was taken ("daily", "before-restore", "before-migration-5"), or null when asked for. */
  reason: string | null
  bytes: number
}

/** How backupPath names a backup; partial ones being written are named otherwise. */
const NAME = /^library-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-([a-z0-9-]+))?\.sqlite$/

/** The backups in `<data-dir>/backups`, newest first. */
export function listBackups(dataDir: string): BackupInfo[] {
  let names: string[]
  try {
    names = readdirSync(backupsDir(dataDir))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const backups: Array<BackupInfo & { mtimeMs: number }> = []
  for (const name of names) {
    const match = NAME.exec(name)
    if (!match) continue
    const [, year, month, day, hours, minutes, seconds, reason] = match
    const path = join(backupsDir(dataDir), name)
    const stat = statSync(path)
    const takenAt = new Date(Number(year), Number(month) - 1, Number(day), Number(hours), Number(minutes), Number(seconds))
    backups.push({ path, takenAt, reason: reason ?? null, bytes: stat.size, mtimeMs: stat.mtimeMs })
  }
  // Two taken in the same second are told apart by when each was written.
  backups.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.mtimeMs - a.mtimeMs)
  return backups.map(({ mtimeMs: _, ...backup }) => backup)
}

export function newestBackup(dataDir: string): BackupInfo | null {
  return listBackups(dataDir)[0] ?? null
}
