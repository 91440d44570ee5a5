import { z } from 'zod'
import { type AppSettings, THUMBNAIL_SIZES } from '../../../shared/api'
import { SdlError } from '../errors'
import { XMP_PROGRAMS } from '../../../shared/xmp'
import { checkRoot } from '../xmp/keywordFields'
import { describeKey, describeValue } from './describeValue'

const MAX_ROOT_LENGTH = 100

export function wholeNumber(min: number, max: number) {
  const reason = `must be a whole number from ${min} to ${max}`
  return z.int({ error: reason }).min(min, reason).max(max, reason)
}

const hierarchyRoot = z
  .string({ error: "must be the keywords' hierarchy root (e.g. AI), or null for AI" })
  .max(MAX_ROOT_LENGTH, `must be at most ${MAX_ROOT_LENGTH} characters`)
  .superRefine((root, ctx) => {
    const reason = checkRoot(root)
    if (reason) ctx.addIssue({ code: 'custom', message: reason })
  })

/** Each setting's schema; the message of its issue is the reason a value is refused. */
export const SETTING_SCHEMAS = {
  topN: wholeNumber(1, 1000),
  minScore: z.number({ error: 'must be a number, or null for no floor' }).nullable(),
  suggestionCount: wholeNumber(1, 200),
  theme: z.enum(['system', 'light', 'dark'], { error: "must be 'system', 'light' or 'dark'" }),
  xmpRoot: hierarchyRoot.nullable(),
  xmpFor: z.enum(['auto', ...XMP_PROGRAMS], { error: `must be ${['auto', ...XMP_PROGRAMS].map((p) => `'${p}'`).join(', ')}` }),
  xmpEmbed: z.boolean({ error: 'must be true or false' }),
  xmpKeepModified: z.boolean({ error: 'must be true or false' }),
  watchFolders: z.boolean({ error: 'must be true or false' }),
  missingGraceDays: wholeNumber(0, 3650),
  showScores: z.boolean({ error: 'must be true or false' }),
  showFileNames: z.boolean({ error: 'must be true or false' }),
  thumbnailSize: wholeNumber(THUMBNAIL_SIZES.min, THUMBNAIL_SIZES.max)
} satisfies { [K in keyof AppSettings]: z.ZodType<AppSettings[K]> }

const SETTING_NAMES = Object.keys(SETTING_SCHEMAS) as Array<keyof AppSettings>

/**
 * Stored settings of earlier versions as this one names them: `xmpNaming: 'photo.xmp'` (before
 * `xmpFor`) asked for Lightroom's names; its default `photo.jpg.xmp` is what `auto` gives a
 * folder without sidecars.
 */
export function upgradeStoredSettings(stored: Record<string, unknown>): Record<string, unknown> {
  if ('xmpFor' in stored || !('xmpNaming' in stored)) return stored
  const { xmpNaming, ...rest } = stored
  return { ...rest, xmpFor: xmpNaming === 'photo.xmp' ? 'lightroom' : 'auto' }
}

/** A partial update: only the settings' own keys, each present with a valid value (an explicit undefined is no value). */
export const settingsPatchSchema = z.strictObject(
  Object.fromEntries(SETTING_NAMES.map((key) => [key, SETTING_SCHEMAS[key].exactOptional()])) as { [K in keyof AppSettings]: z.ZodExactOptional<(typeof SETTING_SCHEMAS)[K]> },
  { error: (issue) => (issue.code === 'invalid_type' ? 'Settings must be an object of setting names and values' : undefined) }
)

/** Why a settings patch was refused, naming the setting: the first issue found. */
export function settingsPatchError(issue: z.core.$ZodIssue, patch: unknown): SdlError {
  if (issue.code === 'unrecognized_keys') return new SdlError(`Unknown setting '${describeKey(issue.keys[0])}'`, `Settings: ${SETTING_NAMES.join(', ')}.`)
  const key = issue.path[0]
  if (typeof key !== 'string') return new SdlError(issue.message)
  return new SdlError(`Setting '${key}' ${issue.message}`, `Got ${describeValue((patch as Record<string, unknown>)[key])}.`)
}
