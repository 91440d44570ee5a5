import { join } from 'node:path'

/** Where each part of the library lives in the data folder. */
export const libraryPath = (dataDir: string): string => join(dataDir, 'library.sqlite')
export const backupsDir = (dataDir: string): string => join(dataDir, 'backups')
export const writerLockPath = (dataDir: string): string => join(dataDir, 'library.lock')
