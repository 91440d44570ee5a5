import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { SdlError } from '../errors'
import { type BackupOptions, backupLibrary } from './backup'
import type { BackupInfo } from './backupList'
import { describeDatabaseError, inspectLibraryFile, libraryDamagedError } from './damage'
import { libraryPath } from './paths'

/**
 * Backs up the library in `dataDir` through a connection of its own, for a process that does not
 * have it open (the command line). It is only read, as it is: not upgraded first, so a library of
 * a newer or older SDL Tagger can be backed up too, and an index run elsewhere carries on.
 */
export async function backUpLibraryFile(dataDir: string, options: BackupOptions = {}): Promise<BackupInfo> {
  const library = libraryPath(dataDir)
  if (!existsSync(library)) throw new SdlError(`There is no library in ${dataDir} to back up`, 'Add a folder first: sdl-tagger folders add <folder>.')
  const damage = inspectLibraryFile(library)
  if (damage) throw libraryDamagedError(library, damage)
  try {
    const db = new Database(library, { fileMustExist: true })
    try {
      return await backupLibrary(db, dataDir, options)
    } finally {
      db.close()
    }
  } catch (err) {
    throw describeDatabaseError(err, dataDir) ?? err
  }
}
