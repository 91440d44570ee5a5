/** Characters of a refused text quoted back in an error message. */
const QUOTED = 40

/**
 * A refused value as an error message may quote it: short, and never walking into it, since what
 * is refused may be a huge string or a list nested thousands deep.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return value.length > QUOTED ? `${JSON.stringify(value.slice(0, QUOTED))}… (${value.length} characters)` : JSON.stringify(value)
  if (typeof value === 'bigint') return 'a big integer'
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `a list of ${value.length}`
  return typeof value === 'object' ? 'an object' : typeof value
}

/** An object key as a message may quote it: a refused key may be as long as a request allows. */
export function describeKey(key: string): string {
  return key.length > QUOTED ? `${key.slice(0, QUOTED)}…` : key
}
