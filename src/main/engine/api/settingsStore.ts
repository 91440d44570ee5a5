import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type AppSettings, DEFAULT_SETTINGS } from '../../../shared/api'
import { SETTING_SCHEMAS, settingsPatchError, settingsPatchSchema, upgradeStoredSettings } from './settingsSchema'

/**
 * The window's settings in `<data-dir>/app-settings.json` (the pack store's settings.json is the
 * engine's own). A value that is missing or no longer valid in the file falls back to its default,
 * so a hand-edited or older file never stops the app from starting.
 */
export class SettingsStore {
  private cached: AppSettings | null = null
  private readonly path: string
  /** Updates run one after another: each reads the settings the one before it wrote. */
  private updates: Promise<unknown> = Promise.resolve()

  constructor(dataDir: string) {
    this.path = join(dataDir, 'app-settings.json')
  }

  async get(): Promise<AppSettings> {
    if (this.cached) return { ...this.cached }
    let stored: Record<string, unknown> = {}
    try {
      const parsed: unknown = JSON.parse(await readFile(this.path, 'utf8'))
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) stored = upgradeStoredSettings(parsed as Record<string, unknown>)
    } catch {
      // No file yet, or an unreadable one: the defaults.
    }
    const settings = { ...DEFAULT_SETTINGS }
    for (const key of Object.keys(SETTING_SCHEMAS) as Array<keyof AppSettings>) {
      if (key in stored && SETTING_SCHEMAS[key].safeParse(stored[key]).success) (settings as Record<string, unknown>)[key] = stored[key]
    }
    this.cached = settings
    return { ...settings }
  }

  /** Applies a partial update; a bad value refuses the whole update, naming the setting and why. */
  update(patch: unknown): Promise<AppSettings> {
    const checked = settingsPatchSchema.safeParse(patch)
    if (!checked.success) return Promise.reject(settingsPatchError(checked.error.issues[0], patch))
    const update = this.updates.then(async () => {
      const next = { ...(await this.get()), ...checked.data }
      await writeAtomically(this.path, `${JSON.stringify(next, null, 2)}\n`)
      this.cached = next
      return { ...next }
    })
    this.updates = update.catch(() => {})
    return update
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = `${path}.${randomUUID()}.tmp`
  try {
    await writeFile(temp, text)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
