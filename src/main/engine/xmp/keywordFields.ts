import { checkKeyword, keywordKey } from '../tagging/keywordText'
import type { KeywordPath } from '../tagging/tagStore'
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
 * Import turns a look-alike back into the separator, so such a keyword comes back as it was.
 */
const HIERARCHY_SEPARATORS = { hierarchical: { sep: '|', lookAlike: '\u00a6' }, tagsList: { sep: '/', lookAlike: '\u2215' } } as const

/** A keyword to write: a string is the app's tag, under the root; the user's own keyword goes under its own hierarchy. */
export type KeywordToWrite = string | { tag: string; path: readonly string[] }

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

/** The entries one tag of the app gets in each field. */
export function entriesForTag(tag: string, root: string): Record<ManagedField, string> {
  return entriesForKeyword(tag, root)
}

/** The entries a keyword gets in each field: the app's under `root`, the user's own under its hierarchy. */
export function entriesForKeyword(keyword: KeywordToWrite, root: string): Record<ManagedField, string> {
  const [tag, levels] = typeof keyword === 'string' ? [keyword, [root, keyword]] : [keyword.tag, keyword.path]
  const joined = (field: 'hierarchical' | 'tagsList') => {
    const { sep, lookAlike } = HIERARCHY_SEPARATORS[field]
    return levels.map((level) => level.split(sep).join(lookAlike)).join(sep)
  }
  return { subject: tag, hierarchical: joined('hierarchical'), tagsList: joined('tagsList') }
}

/** The tag a keyword to write stands for, as people read it. */
export function tagOf(keyword: KeywordToWrite): string {
  return typeof keyword === 'string' ? keyword : keyword.tag
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

/** A file's keyword fields: the three export writes, and the two more it reads (Windows' MicrosoftPhoto, IPTC). */
export type FileKeywords = FieldEntries & { microsoft: string[]; iptc: string[] }

export function fileKeywords(tags: ExifToolTags | null): FileKeywords {
  return { ...managedEntries(tags), microsoft: listValue(tags?.['XMP-microsoft:LastKeywordXMP']), iptc: listValue(tags?.['IPTC:Keywords']) }
}

/** A hierarchical entry's levels, look-alikes turned back into the separator (`AI|a¦b` is AI, then a|b). */
function levelsOf(value: string, field: 'hierarchical' | 'tagsList' | 'microsoft'): string[] {
  const sep = field === 'hierarchical' ? '|' : '/'
  const levels = value.split(sep).filter((level) => level.trim())
  return field === 'microsoft' ? levels : levels.map((level) => level.split(HIERARCHY_SEPARATORS[field].lookAlike).join(sep))
}

/**
 * The user's keywords in a file, each as its levels: the hierarchical fields' entries (digiKam's
 * first, as digiKam reads them), then the flat keywords that are no level of those. The app's
 * own are left out: entries under `root`, those recorded as `ours`, and a flat keyword beside
 * its `root` entry.
 */
export function userKeywordPaths(current: FieldEntries & Partial<FileKeywords>, root: string, ours: FieldEntries): string[][] {
  const paths = new Map<string, string[]>()
  const levelKeys = new Set<string>()
  const appTags = new Set<string>()
  for (const field of ['tagsList', 'hierarchical', 'microsoft'] as const) {
    const oursHere = new Set(field === 'microsoft' ? [] : ours[field])
    for (const value of current[field] ?? []) {
      const levels = levelsOf(value, field)
      if (!levels.length || oursHere.has(value)) continue
      if (levels[0] === root && field !== 'microsoft') {
        appTags.add(tagOfEntry(field, value, root))
        continue
      }
      const key = levels.map(keywordKey).join('\n')
      if (!paths.has(key)) paths.set(key, levels)
      for (const level of levels) levelKeys.add(keywordKey(level))
    }
  }
  const oursFlat = new Set(ours.subject)
  for (const keyword of [...current.subject, ...(current.iptc ?? [])]) {
    if (!keyword.trim() || oursFlat.has(keyword) || appTags.has(keyword) || levelKeys.has(keywordKey(keyword))) continue
    levelKeys.add(keywordKey(keyword))
    paths.set(keywordKey(keyword), [keyword])
  }
  return [...paths.values()]
}

export interface FieldPlan {
  /** Every entry to add: the user's keywords first in a field the file lacked (see planKeywordChanges), then the app's. */
  add: FieldEntries
  remove: FieldEntries
  /** What this app owns in the file afterwards: what it added, still there and still wanted. */
  ours: FieldEntries
  /** The user's own keywords copied into a field the file lacked, in that field's form. */
  seeded: FieldEntries
  /** Tags touched in any field, for people: `dog`, not `AI|dog`. */
  addedTags: string[]
  removedTags: string[]
}

/**
 * The keyword changes that make a file carry `tags`: each field gets the entries it lacks, and
 * loses the entries this app wrote before (`ours`) that are no longer wanted. An entry the user
 * had already is left alone and never becomes ours, so it is never removed. A field the file
 * lacks starts with the user's keywords from its other fields, in that field's form
 * (`People|Family` becomes `People/Family`): digiKam reads only the first keyword field it finds,
 * digiKam:TagsList before lr:hierarchicalSubject and dc:subject, so a new field holding only the
 * app's tags would hide the user's.
 */
export function planKeywordChanges(current: FieldEntries & Partial<FileKeywords>, tags: readonly KeywordToWrite[], root: string, ours: FieldEntries): FieldPlan {
  const plan: FieldPlan = { add: emptyEntries(), remove: emptyEntries(), ours: emptyEntries(), seeded: emptyEntries(), addedTags: [], removedTags: [] }
  const wanted = tags.map((tag) => ({ tag: tagOf(tag), entries: entriesForKeyword(tag, root) }))
  const users = wanted.length && FIELD_NAMES.some((f) => !current[f].length) ? userKeywordPaths(current, root, ours) : []
  const added = new Set<string>()
  const removed = new Set<string>()
  for (const field of FIELD_NAMES) {
    const have = new Set(current[field])
    // Keywords compare as Lightroom and digiKam do: case and Unicode form do not make a new one.
    const haveByKeyword = new Map<string, string>()
    for (const h of current[field]) if (!haveByKeyword.has(keywordKey(h))) haveByKeyword.set(keywordKey(h), h)
    if (!current[field].length && wanted.length) {
      for (const levels of users) {
        const entry = entriesForKeyword({ tag: levels.at(-1)!, path: levels }, root)[field]
        if (haveByKeyword.has(keywordKey(entry))) continue
        haveByKeyword.set(keywordKey(entry), entry)
        plan.add[field].push(entry)
        plan.seeded[field].push(entry)
      }
    }
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

/** The tag an entry of ours stands for (the inverse of entriesForKeyword): its last level. */
function tagOfEntry(field: ManagedField, entry: string, root: string): string {
  if (field === 'subject') return entry
  const { sep, lookAlike } = HIERARCHY_SEPARATORS[field]
  const prefix = `${root}${sep}`
  if (entry.startsWith(prefix)) return entry.slice(prefix.length).split(lookAlike).join(sep)
  return entry.split(sep).at(-1)!.split(lookAlike).join(sep)
}

export interface ImportableKeywords {
  keywords: KeywordPath[]
  /** Keywords left out, each with the reason (checkKeyword). */
  refused: Array<{ keyword: string; reason: string }>
}

/**
 * The user's keywords in one or more ExifTool reads (a sidecar, the photo itself), as written:
 * the union of the five keyword fields, one keyword per identity (the first spelling met, the
 * hierarchical fields first). A hierarchical entry is its last level, placed in its hierarchy
 * (`Places|Africa|Kenya` is Kenya below Places and Africa). Keywords this app wrote are left out:
 * its entries under `root`, those recorded as `ours`, and a flat keyword whose `root` entry sits
 * beside it (a sidecar exported by another installation).
 */
export function importableKeywords(reads: ReadonlyArray<ExifToolTags | null>, root: string, ours: FieldEntries = emptyEntries()): ImportableKeywords {
  return importableKeywordsFrom(
    reads.map((tags) => ({ tags, ours })),
    root
  )
}

/** importableKeywords over reads that each have their own record of what the app wrote there (two sidecars, the photo). */
export function importableKeywordsFrom(sources: ReadonlyArray<{ tags: ExifToolTags | null; ours: FieldEntries }>, root: string): ImportableKeywords {
  const present = sources.filter((s): s is { tags: ExifToolTags; ours: FieldEntries } => s.tags !== null)
  const fields = present.map(({ tags, ours }) => ({ ...fileKeywords(tags), ours }))
  // The app's tags met under the root in any of the reads: the same flat keyword elsewhere is the app's too.
  const ownTags = new Set<string>()
  const out = new Map<string, KeywordPath>()
  const refused = new Map<string, string>()
  const add = (written: string, levels: readonly string[]) => {
    const checked = levels.map(checkKeyword)
    const bad = checked.find((c) => !c.ok)
    if (bad && !bad.ok) {
      refused.set(written, bad.reason)
      return
    }
    const path = checked.map((c) => (c as { text: string }).text)
    const key = keywordKey(path.at(-1)!)
    const known = out.get(key)
    if (!known) out.set(key, { text: path.at(-1)!, path })
    else if (known.path.length === 1 && path.length > 1) known.path = [...path.slice(0, -1), known.text]
  }
  // A one-level entry of a hierarchical field (a flat keyword another program copied there) comes after every real hierarchy.
  const topLevel: Array<[string, string[]]> = []
  for (const f of fields) {
    for (const field of ['hierarchical', 'tagsList', 'microsoft'] as const) {
      const oursHere = new Set(field === 'microsoft' ? [] : f.ours[field])
      for (const value of f[field]) {
        const levels = levelsOf(value, field)
        if (!levels.length) continue
        if (field !== 'microsoft' && levels[0] === root) ownTags.add(tagOfEntry(field, value, root))
        else if (oursHere.has(value)) continue
        else if (levels.length === 1) topLevel.push([value, levels])
        else add(value, levels)
      }
    }
  }
  for (const [value, levels] of topLevel) add(value, levels)
  for (const f of fields) {
    const oursFlat = new Set(f.ours.subject)
    for (const keyword of [...f.subject, ...f.iptc]) if (!oursFlat.has(keyword) && !ownTags.has(keyword)) add(keyword, [keyword])
  }
  return { keywords: [...out.values()], refused: [...refused].map(([keyword, reason]) => ({ keyword, reason })) }
}
