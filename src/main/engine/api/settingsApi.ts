import type { AppSettings, Result, SdlTaggerApi } from '../../../shared/api'
import type { Engine } from '../engine'
import type { EventHub } from './eventHub'
import type { LibraryApi } from './libraryApi'
import { toResult } from './result'

export const SETTINGS_METHODS = ['getSettings', 'updateSettings'] as const

/** The window's settings; turning watchFolders on or off starts or stops following the folders. */
export class SettingsApi implements Pick<SdlTaggerApi, (typeof SETTINGS_METHODS)[number]> {
  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub,
    private readonly library: LibraryApi
  ) {}

  getSettings(): Promise<Result<AppSettings>> {
    return toResult(() => this.engine.settings.get(), this.engine.dataDir)
  }

  updateSettings(patch: Partial<AppSettings>): Promise<Result<AppSettings>> {
    return toResult(async () => {
      const after = await this.engine.settings.update(patch)
      this.events.emit({ type: 'library-changed', change: 'settings' })
      if (patch.watchFolders !== undefined) await this.library.followFolders(after.watchFolders)
      return after
    }, this.engine.dataDir)
  }
}
