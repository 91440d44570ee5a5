import type { Command } from 'commander'
import { formatBytes } from '../../../shared/format'
import { listBackups } from '../../engine/store/backupList'
import { backUpLibraryFile } from '../../engine/store/backupNow'
import { backupsDir } from '../../engine/store/paths'
import { restoreLibrary } from '../../engine/store/restore'
import type { CliContext } from '../cliContext'

export function registerBackupCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('backup')
    .description('back up the library now, into <data-dir>/backups (the newest 7 backups are kept)')
    .option('--list', 'list the backups instead, newest first')
    .action(async (opts: { list?: boolean }) => {
      const c = ctx()
      const dataDir = c.engine.dataDir
      if (opts.list) {
        const backups = listBackups(dataDir)
        const human = backups.length
          ? backups.map((b) => `${b.path}  ${b.takenAt.toLocaleString()}  ${formatBytes(b.bytes)}${b.reason ? `  ${b.reason}` : ''}`).join('\n')
          : `No backups yet in ${backupsDir(dataDir)}. Take one with \`sdl-tagger backup\`.`
        c.result(
          human,
          backups.map((b) => ({ ...b, takenAt: b.takenAt.toISOString() }))
        )
        return
      }
      const backup = await backUpLibraryFile(dataDir)
      c.result(`Backed up the library to ${backup.path} (${formatBytes(backup.bytes)})`, { path: backup.path, bytes: backup.bytes })
    })

  program
    .command('restore <file>')
    .description('put a backup in place of the library; the library as it was is backed up first, so a restore can be undone')
    .action(async (file: string) => {
      const c = ctx()
      const result = await restoreLibrary(c.engine.dataDir, file)
      const undo = result.previous ? `\nThe library as it was is backed up in ${result.previous.path}; to undo, restore that.` : ''
      c.result(`Restored ${result.restoredFrom} as the library ${result.library}.${undo}`, {
        library: result.library,
        restoredFrom: result.restoredFrom,
        previous: result.previous?.path ?? null
      })
    })
}
