import { normalizeText } from '../lexicon/words'
import type { ExifToolTags } from './exifToolRunner'

/** The three keyword fields export writes, as ExifTool family-1 tag names. */
export const MANAGED_FIELDS = {
  /** dc:subject: flat keywords, what every application reads. */
  subject: 'XMP-dc:Subject',
  /** lr:hierarchicalSubject: `ROOT|tag` (Lightroom, darktable). */
  hierarchical: 'XMP-lr:HierarchicalSubject',
  /** digiKam:TagsList: `ROOT/tag` (digiKam). */
  tagsList: 'XMP-digiKam:TagsList'
} as const

export type ManagedField = keyof typeof MANAGED_FIELDS
export type FieldEntries = Record<ManagedField, string[]>
export const FIELD_NAMES = Object.keys(MANAGED_FIELDS) as ManagedField[]

/**
 * Every field keywords are read from. Reading one alone misses what other programs wrote
 * (Immich's bug #28015): Windows Photo Gallery fills only MicrosoftPhoto, old tools only IPTC.
 */
export const KEYWORD_READ_TAGS = [...Object.values(MANAGED_FIELDS), 'XMP-microsoft:LastKeywordXMP', 'IPTC:Keywords'].map((t) => `-${t}`)

export const DEFAULT_ROOT = 'AI'

/**
 * A tag's separator inside a hierarchical field is replaced by a look-alike, so `AC/DC` stays one
 * level: `AI|AC/DC` in lr:hierarchicalSubject, `AI/AC∕DC` (U+2215 DIVISION SLASH) in
 * digiKam:TagsList, and `a|b` becomes `AI|a¦b` (U+00A6 BROKEN BAR). dc:subject keeps the tag as is.
 */
const HIERARCHY_SEPARATORS = { hierarchical: { sep: '|', lookAlike: '\u00a6' }, tagsList: { sep: '/', lookAlike: '\u2215' } } as const

export function emptyEntries(): FieldEntries {
  return { subject: [], hierarchical: [], tagsList: [] }
}

/** Refuses a root that would itself split into levels or could not be written. */
export function checkRoot(root: string): string | null {
  if (!root.trim()) return 'the hierarchy root must not be empty'
  if (/[|/]/.test(root)) return `the hierarchy root '${root}' must not contain '|' or '/'`
  if (/\p{Cc}/u.test(root)) return 'the hierarchy root must not contain control characters'
  return null
}

/** The entries one tag gets in each field. */
export function entriesForTag(tag: string, root: string): Record<ManagedField, string> {
  const level = (field: 'hierarchical' | 'tagsList') => {
    const { sep, lookAlike } = HIERARCHY_SEPARATORS[field]
    return `${root}${sep}${tag.split(sep).join(lookAlike)}`
  }
  return { subject: tag, hierarchical: level('hierarchical'), tagsList: level('tagsList') }
}

/** A list tag's value as strings: ExifTool gives a string for one item and an array for more. */
export function listValue(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return []
  return (Array.isArray(value) ? value : [value]).map((v) => String(v))
}

export function managedEntries(tags: ExifToolTags | null): FieldEntries {
  const out = emptyEntries()
  if (!tags) return out
  for (const field of FIELD_NAMES) out[field] = listValue(tags[MANAGED_FIELDS[field]])
  return out
}

/** Keywords compare as Lightroom and digiKam do: case and Unicode form do not make a new one. */
function keywordKey(keyword: string): string {
  return normalizeText(keyword)
}

export interface FieldPlan {
  add: FieldEntries
  remove: FieldEntries
  /** What this app owns in the file afterwards: what it added, still there and still wanted. */
  ours: FieldEntries
  /** Tags touched in any field, for people: `dog`, not `AI|dog`. */
  addedTags: string[]
  removedTags: string[]
}

/**
 * The keyword changes that make a sidecar carry `tags`: each field gets the entries it lacks,
 * and loses the entries this app wrote before (`ours`) that are no longer wanted. An entry the
 * user had already is left alone and never becomes ours, so it is never removed.
 */
export function planKeywordChanges(current: FieldEntries, tags: readonly string[], root: string, ours: FieldEntries): FieldPlan {
  const plan: FieldPlan = { add: emptyEntries(), remove: emptyEntries(), ours: emptyEntries(), addedTags: [], removedTags: [] }
  const wanted = tags.map((tag) => ({ tag, entries: entriesForTag(tag, root) }))
  const added = new Set<string>()
  const removed = new Set<string>()
  for (const field of FIELD_NAMES) {
    const have = new Set(current[field])
    const haveByKeyword = new Map<string, string>()
    for (const h of current[field]) if (!haveByKeyword.has(keywordKey(h))) haveByKeyword.set(keywordKey(h), h)
    const oursBefore = new Set(ours[field])
    const wantedEntries = new Set(wanted.map((w) => w.entries[field]))
    for (const { tag, entries } of wanted) {
      const entry = entries[field]
      const present = haveByKeyword.get(keywordKey(entry))
      if (present === undefined) {
        plan.add[field].push(entry)
        plan.ours[field].push(entry)
        haveByKeyword.set(keywordKey(entry), entry)
        added.add(tag)
      } else if (present === entry && oursBefore.has(entry)) {
        plan.ours[field].push(entry)
      }
    }
    for (const entry of oursBefore) {
      if (!wantedEntries.has(entry) && have.has(entry)) {
        plan.remove[field].push(entry)
        removed.add(tagOfEntry(field, entry, root))
      }
    }
  }
  plan.addedTags = [...added]
  plan.removedTags = [...removed]
  return plan
}

export function planIsEmpty(plan: FieldPlan): boolean {
  return FIELD_NAMES.every((f) => plan.add[f].length === 0 && plan.remove[f].length === 0)
}

/** The tag an entry of ours stands for (the inverse of entriesForTag). */
function tagOfEntry(field: ManagedField, entry: string, root: string): string {
  if (field === 'subject') return entry
  const { sep, lookAlike } = HIERARCHY_SEPARATORS[field]
  const prefix = `${root}${sep}`
  return entry.startsWith(prefix) ? entry.slice(prefix.length).split(lookAlike).join(sep) : entry
}

/**
 * The user's keywords in one or more ExifTool reads (a sidecar, the photo itself), as tags:
 * the union of the five keyword fields, each hierarchical keyword by its last level
 * (`Places|Europe|Paris` is `paris`), normalized as the app's tags are. Keywords this app
 * wrote are left out: its entries under `root`, the flat ones recorded as `ours`, and a flat
 * keyword whose `root` entry sits beside it (a sidecar exported by another installation).
 */
export function importableKeywords(reads: ReadonlyArray<ExifToolTags | null>, root: string, ours: FieldEntries = emptyEntries()): string[] {
  const present = reads.filter((t): t is ExifToolTags => t !== null)
  const fields = present.map((tags) => ({
    ...managedEntries(tags),
    microsoft: listValue(tags['XMP-microsoft:LastKeywordXMP']),
    iptc: listValue(tags['IPTC:Keywords'])
  }))
  const out = new Set<string>()
  const add = (keyword: string) => {
    const tag = normalizeText(keyword)
    if (tag) out.add(tag)
  }
  const ownTags = new Set<string>()
  const lastLevels = (values: string[], field: 'hierarchical' | 'tagsList' | 'microsoft', sep: string) => {
    for (const value of values) {
      const levels = value.split(sep)
      if (field !== 'microsoft' && levels[0] === root) ownTags.add(tagOfEntry(field, value, root))
      else add(levels[levels.length - 1])
    }
  }
  for (const f of fields) {
    lastLevels(f.hierarchical, 'hierarchical', '|')
    lastLevels(f.tagsList, 'tagsList', '/')
    lastLevels(f.microsoft, 'microsoft', '/')
  }
  const oursFlat = new Set(ours.subject)
  for (const f of fields) {
    for (const keyword of [...f.subject, ...f.iptc]) if (!oursFlat.has(keyword) && !ownTags.has(keyword)) add(keyword)
  }
  return [...out]
}
