import { SdlError } from '../errors'

/** Longer than any keyword a person types; keeps one entry from bloating a sidecar or the list. */
export const MAX_KEYWORD_LENGTH = 200

export type KeywordCheck = { ok: true; text: string } | { ok: false; reason: string }

/**
 * A keyword as the user wrote it: any Unicode text, NFC, trimmed, each whitespace run (newlines
 * and tabs included) one space, at most MAX_KEYWORD_LENGTH characters. Case and spelling are kept.
 * `|` and `/` are allowed: the keyword stays one level, and only the hierarchical field whose
 * separator it holds gets a look-alike instead (see keywordFields.ts). Other control characters
 * are refused: ExifTool takes one value per line, and XML 1.0 cannot hold most of them.
 */
export function checkKeyword(raw: string): KeywordCheck {
  const text = raw.normalize('NFC').replace(/\s+/gu, ' ').trim()
  if (!text) return { ok: false, reason: 'a keyword cannot be empty' }
  const control = /[\p{Cc}\p{Cs}]/u.exec(text)
  if (control) return { ok: false, reason: `it contains the control character ${codePoint(control[0])}` }
  const length = [...text].length
  if (length > MAX_KEYWORD_LENGTH) return { ok: false, reason: `it is ${length} characters long, more than ${MAX_KEYWORD_LENGTH}` }
  return { ok: true, text }
}

/** checkKeyword, throwing the reason for a keyword refused. */
export function keywordText(raw: string): string {
  const checked = checkKeyword(raw)
  if (!checked.ok) throw new SdlError(`Keyword ${JSON.stringify(raw)} refused: ${checked.reason}`, 'Use letters, digits, spaces and punctuation; no control characters.')
  return checked.text
}

/** A keyword's identity: `Kenya`, ` kenya` (and é typed either way) are one keyword; search's term key (queryParser termKey) agrees. */
export function keywordKey(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase()
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}
