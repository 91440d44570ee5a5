import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type AppSettings, DEFAULT_SETTINGS } from '../../../shared/api'
import { SdlError } from '../errors'
import { checkRoot } from '../xmp/keywordFields'

/** Each setting's check: returns the reason a value is refused, or null. */
const RULES: { [K in keyof AppSettings]: (value: unknown) => string | null } = {
  topN: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000 ? null : 'must be a whole number from 1 to 1000'),
  minScore: (v) => (v === null || (typeof v === 'number' && Number.isFinite(v)) ? null : 'must be a number, or null for no floor'),
  suggestionCount: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 200 ? null : 'must be a whole number from 1 to 200'),
  theme: (v) => (v === 'system' || v === 'light' || v === 'dark' ? null : "must be 'system', 'light' or 'dark'"),
  xmpRoot: (v) => (v === null ? null : typeof v === 'string' ? checkRoot(v) : "must be the keywords' hierarchy root (e.g. AI), or null for AI"),
  xmpNaming: (v) => (v === 'photo.jpg.xmp' || v === 'photo.xmp' ? null : "must be 'photo.jpg.xmp' or 'photo.xmp'"),
  watchFolders: (v) => (typeof v === 'boolean' ? null : 'must be true or false')
}

/**
 * The window's settings in `<data-dir>/app-settings.json` (the pack store's settings.json is the
 * engine's own). A value that is missing or no longer valid in the file falls back to its default,
 * so a hand-edited or older file never stops the app from starting.
 */
export class SettingsStore {
  private cached: AppSettings | null = null
  private readonly path: string

  constructor(dataDir: string) {
    this.path = join(dataDir, 'app-settings.json')
  }

  async get(): Promise<AppSettings> {
    if (this.cached) return { ...this.cached }
    let stored: Record<string, unknown> = {}
    try {
      const parsed: unknown = JSON.parse(await readFile(this.path, 'utf8'))
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) stored = parsed as Record<string, unknown>
    } catch {
      // No file yet, or an unreadable one: the defaults.
    }
    const settings = { ...DEFAULT_SETTINGS }
    for (const key of Object.keys(RULES) as Array<keyof AppSettings>) {
      if (key in stored && RULES[key](stored[key]) === null) (settings as Record<string, unknown>)[key] = stored[key]
    }
    this.cached = settings
    return { ...settings }
  }

  /** Applies a partial update; a bad value refuses the whole update, naming the setting and why. */
  async update(patch: unknown): Promise<AppSettings> {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new SdlError('Settings must be an object of setting names and values')
    for (const [key, value] of Object.entries(patch)) {
      const rule = RULES[key as keyof AppSettings]
      if (!rule) throw new SdlError(`Unknown setting '${key}'`, `Settings: ${Object.keys(RULES).join(', ')}.`)
      const reason = rule(value)
      if (reason) throw new SdlError(`Setting '${key}' ${reason}`, `Got ${JSON.stringify(value)}.`)
    }
    const next = { ...(await this.get()), ...(patch as Partial<AppSettings>) }
    await writeAtomically(this.path, `${JSON.stringify(next, null, 2)}\n`)
    this.cached = next
    return { ...next }
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
