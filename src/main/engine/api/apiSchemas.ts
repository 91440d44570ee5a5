import { z } from 'zod'
import { API_METHODS, type ApiError, type ApiMethod, type Result, type SdlTaggerApi } from '../../../shared/api'
import { describeKey, describeValue } from './describeValue'
import { toApiError } from './errors'
import { SETTING_SCHEMAS, settingsPatchError, settingsPatchSchema, wholeNumber } from './settingsSchema'

/**
 * One schema per API method's arguments, checked where a call enters a process (IPC, HTTP, the
 * engine process's channel) so that no hostile or broken caller reaches the engine with what the
 * contract does not allow: texts are bounded, numbers whole and in range, objects have only their
 * own keys and nothing nests deeper than the contract does.
 */

/** Paths as long as Linux allows (PATH_MAX). */
const MAX_PATH = 4096
const MAX_QUERY = 1000
const MAX_TAG = 200
const MAX_NAME = 200
const MAX_URL = 2048
/** The most search results one call may ask for (the search view asks for 10,000 when ranking all). */
const MAX_SEARCH_RESULTS = 10_000
/** The photo grid's largest page (EngineApi refuses more). */
const MAX_PAGE = 2000
/** The most photos one tagging action may name (a whole large library selected). */
const MAX_TAGGED_PHOTOS = 100_000
const MAX_OFFSET = 1_000_000_000
/** The lexicon answers at most this many completions. */
const MAX_COMPLETIONS = 50

function text(max: number, opts: { empty?: boolean } = {}) {
  const checked = z.string().max(max, `must be at most ${max} characters`)
  return opts.empty ? checked : checked.min(1, 'must not be empty')
}

const path = text(MAX_PATH)
const modelName = text(MAX_NAME)
const tag = text(MAX_TAG)
const NOT_A_PHOTO_ID = 'must be a photo id, a whole number of at least 1'
const photoId = z.int({ error: NOT_A_PHOTO_ID }).min(1, NOT_A_PHOTO_ID)
const score = z.number()
const photoIds = z.array(photoId).min(1, 'must name at least one photo').max(MAX_TAGGED_PHOTOS, `must name at most ${MAX_TAGGED_PHOTOS} photos`)
/** A span of days back from now that a date can still be computed for. */
const days = z.number().min(0, 'must be at least 0 days').max(36_500, 'must be at most 36500 days')

/** A method's parameters: their names as its signature shows them (`?` when optional) and the schema of the whole argument list. */
interface Signature<Args extends z.ZodTuple = z.ZodTuple> {
  names: string[]
  args: Args
}

function signature<Args extends z.ZodTuple>(names: string[], args: Args): Signature<Args> {
  return { names, args }
}

const SIGNATURES = {
  getStatus: signature([], z.tuple([])),
  listCatalog: signature([], z.tuple([])),
  installModel: signature(['name', 'options?'], z.tuple([modelName, z.strictObject({ mirror: text(MAX_URL).optional(), replace: z.boolean().optional() }).optional()])),
  cancelModelInstall: signature([], z.tuple([])),
  importModel: signature(['request'], z.tuple([z.strictObject({ checkpointPath: path, vocabDir: path, name: modelName.optional(), replace: z.boolean().optional() })])),
  addModel: signature(['request'], z.tuple([z.strictObject({ onnxPath: path, name: modelName.optional(), vocabDir: path.optional(), replace: z.boolean().optional() })])),
  activateModel: signature(['name'], z.tuple([modelName])),
  removeModel: signature(['name'], z.tuple([modelName])),
  listFolders: signature([], z.tuple([])),
  addFolder: signature(['path'], z.tuple([path])),
  removeFolder: signature(['path'], z.tuple([path])),
  browseFolder: signature(['request?'], z.tuple([z.strictObject({ path: path.optional(), files: z.literal('models').optional() }).optional()])),
  rescanFolder: signature(['path'], z.tuple([path])),
  startIndexing: signature(['request?'], z.tuple([z.strictObject({ folder: path.optional() }).optional()])),
  cancelIndexing: signature([], z.tuple([])),
  getIndexing: signature([], z.tuple([])),
  setWatching: signature(['enabled'], z.tuple([z.boolean()])),
  getMissing: signature([], z.tuple([])),
  purgeMissing: signature(['request?'], z.tuple([z.strictObject({ olderThanDays: days.optional() }).optional()])),
  listPhotos: signature(
    ['request'],
    z.tuple([
      z.strictObject({
        offset: wholeNumber(0, MAX_OFFSET),
        limit: wholeNumber(1, MAX_PAGE),
        folder: path.optional(),
        sort: z.enum(['date', 'path']).optional(),
        dates: text(MAX_QUERY).optional(),
        sections: z.boolean().optional()
      })
    ])
  ),
  search: signature(
    ['query', 'options?'],
    z.tuple([
      text(MAX_QUERY, { empty: true }),
      z.strictObject({ limit: wholeNumber(1, MAX_SEARCH_RESULTS).optional(), all: z.boolean().optional(), topN: SETTING_SCHEMAS.topN.optional() }).optional()
    ])
  ),
  complete: signature(['prefix', 'limit?'], z.tuple([text(MAX_QUERY, { empty: true }), wholeNumber(1, MAX_COMPLETIONS).optional()])),
  getPhoto: signature(['id', 'options?'], z.tuple([photoId, z.strictObject({ top: SETTING_SCHEMAS.suggestionCount.optional(), minScore: score.optional() }).optional()])),
  acceptTag: signature(['id', 'tag'], z.tuple([photoId, tag])),
  rejectTag: signature(['id', 'tag'], z.tuple([photoId, tag])),
  addTag: signature(['id', 'tag'], z.tuple([photoId, tag])),
  tagPhotos: signature(
    ['request'],
    z.tuple([
      z.strictObject({
        photos: photoIds,
        tag,
        action: z.enum(['accept', 'reject', 'add-tag', 'remove-tag'])
      })
    ])
  ),
  undoTagging: signature([], z.tuple([])),
  redoTagging: signature([], z.tuple([])),
  reviewTags: signature([], z.tuple([])),
  reviewTag: signature(['tag', 'request'], z.tuple([tag, z.strictObject({ offset: wholeNumber(0, MAX_OFFSET), limit: wholeNumber(1, MAX_PAGE) })])),
  importKeywords: signature([], z.tuple([])),
  exportXmp: signature(
    ['request'],
    z.tuple([
      z.strictObject({
        dryRun: z.boolean(),
        photos: photoIds.optional(),
        minScore: score.optional(),
        for: SETTING_SCHEMAS.xmpFor.optional(),
        embed: SETTING_SCHEMAS.xmpEmbed.optional(),
        keepModified: SETTING_SCHEMAS.xmpKeepModified.optional()
      })
    ])
  ),
  getSettings: signature([], z.tuple([])),
  updateSettings: signature(['patch'], z.tuple([settingsPatchSchema]))
} satisfies { [M in ApiMethod]: Signature<z.ZodType<Parameters<SdlTaggerApi[M]>> & z.ZodTuple> }

/** Reasons in words for the issues whose schema does not give its own. */
function reasonOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${issue.maximum} characters` : `must be at most ${issue.maximum}`
    case 'too_small':
      return issue.origin === 'string' ? `must be at least ${issue.minimum} characters` : `must be at least ${issue.minimum}`
    case 'unrecognized_keys':
      return `has ${issue.keys.length === 1 ? 'an unknown key' : 'unknown keys'} ${quoteKeys(issue.keys)}`
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`
    default:
      return 'is not allowed here'
  }
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list'
}

/** A few of the refused keys, each cut short: a hostile call may send thousands of long ones. */
function quoteKeys(keys: string[]): string {
  const shown = keys.slice(0, 3).map((k) => `'${describeKey(k)}'`)
  return keys.length > 3 ? `${shown.join(', ')} and ${keys.length - 3} more` : shown.join(', ')
}

/** The value an issue is about; issue paths follow the schema, so they are as short as the contract's nesting. */
function valueAt(args: unknown[], path: PropertyKey[]): unknown {
  let value: unknown = args
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined
  return value
}

/** Why a call's arguments are refused (naming the method, the argument and the reason), or null when they are fine. */
export function checkApiArgs(method: ApiMethod, args: unknown[]): ApiError | null {
  const { names, args: schema } = SIGNATURES[method] as Signature
  const checked = schema.safeParse(args, { error: reasonOf })
  if (checked.success) return null
  const issue = checked.error.issues[0]
  const takes = `${method} takes (${names.join(', ')}).`
  if (issue.path.length === 0) {
    const required = names.filter((n) => !n.endsWith('?')).length
    if (args.length < required) return { message: `${method}: argument '${names[args.length]}' is missing`, hint: takes }
    return { message: `${method} takes at most ${names.length} argument${names.length === 1 ? '' : 's'}, got ${args.length}`, hint: takes }
  }
  if (method === 'updateSettings') return toApiError(settingsPatchError({ ...issue, path: issue.path.slice(1) }, args[0]))
  const [index, ...inside] = issue.path
  const label = [names[index as number].replace(/\?$/, ''), ...inside.map(String)].join('.')
  const refused = issue.code === 'unrecognized_keys' ? '' : ` (got ${describeValue(valueAt(args, issue.path))})`
  return { message: `${method}: argument '${label}' ${issue.message}${refused}`, hint: takes }
}

/** The API with every call's arguments checked first: a refused call answers an error envelope and never reaches `api`. */
export function validatedApi(api: SdlTaggerApi): SdlTaggerApi {
  return Object.fromEntries(
    API_METHODS.map((method) => {
      const call = api[method] as (...args: unknown[]) => Promise<Result<unknown>>
      return [
        method,
        (...args: unknown[]): Promise<Result<unknown>> => {
          const refused = checkApiArgs(method, args)
          return refused ? Promise.resolve({ ok: false, error: refused }) : call.apply(api, args)
        }
      ]
    })
  ) as unknown as SdlTaggerApi
}
