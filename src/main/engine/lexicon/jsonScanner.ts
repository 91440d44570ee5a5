/**
 * A push tokenizer for JSON fed in chunks, for files far too large to JSON.parse (the 307 MB
 * GloVe package would need several GB of heap as JS objects). It reports each token to a handler
 * and keeps nothing itself but a container stack and the bytes of a token cut by a chunk boundary.
 * It checks structure only as far as a truncated or non-JSON file must fail: mismatched
 * brackets and stray bytes throw, while e.g. a missing comma goes unnoticed.
 */
export interface JsonHandler {
  beginObject(): void
  endObject(): void
  beginArray(): void
  endArray(): void
  /** An object member's name; its value's tokens follow. */
  key(name: string): void
  string(value: string): void
  number(value: number): void
  literal(value: boolean | null): void
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i)

export class JsonScanner {
  /** For each open container: true for an object. */
  private readonly stack: boolean[] = []
  private expectKey = false
  private carry: Buffer | null = null
  /** Bytes before the current buffer, for error positions. */
  private offset = 0

  constructor(private readonly handler: JsonHandler) {}

  write(chunk: Buffer): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk
    this.carry = null
    const used = this.scan(buf, false)
    if (used < buf.length) this.carry = Buffer.from(buf.subarray(used))
    this.offset += used
  }

  /** Call after the last chunk: fails if the document is incomplete. */
  end(): void {
    const rest = this.carry
    this.carry = null
    if (rest && this.scan(rest, true) < rest.length) throw new Error(`JSON ends early, inside a string at byte ${this.offset}`)
    if (this.stack.length > 0) throw new Error(`JSON ends early, at byte ${this.offset + (rest?.length ?? 0)}, inside ${this.stack.length} open bracket(s)`)
  }

  /** Consumes whole tokens from `buf`; returns how many bytes it used. */
  private scan(buf: Buffer, final: boolean): number {
    const h = this.handler
    const n = buf.length
    let i = 0
    while (i < n) {
      const c = buf[i]
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a) {
        i++ // whitespace, and ':' (a key was just read)
      } else if (c === 0x2c) {
        this.expectKey = this.stack[this.stack.length - 1] === true
        i++
      } else if (c === 0x7b || c === 0x5b) {
        const isObject = c === 0x7b
        this.stack.push(isObject)
        this.expectKey = isObject
        if (isObject) h.beginObject()
        else h.beginArray()
        i++
      } else if (c === 0x7d || c === 0x5d) {
        if (this.stack.pop() !== (c === 0x7d)) throw this.unexpected(buf, i)
        this.expectKey = false
        if (c === 0x7d) h.endObject()
        else h.endArray()
        i++
      } else if (c === QUOTE) {
        const end = stringEnd(buf, i + 1)
        if (end < 0) break
        const raw = buf.toString('utf8', i + 1, end)
        // Escapes are rare (GloVe has a handful: \" and \\), so let JSON.parse handle them all.
        const value = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
        if (this.expectKey) {
          this.expectKey = false
          h.key(value)
        } else h.string(value)
        i = end + 1
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        let end = i + 1
        while (end < n && isNumberByte(buf[end])) end++
        if (end === n && !final) break
        h.number(parseNumber(buf, i, end))
        i = end
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null'
        if (i + word.length > n) {
          if (final) throw this.unexpected(buf, i)
          break
        }
        if (buf.toString('latin1', i, i + word.length) !== word) throw this.unexpected(buf, i)
        h.literal(c === 0x74 ? true : c === 0x66 ? false : null)
        i += word.length
      } else {
        throw this.unexpected(buf, i)
      }
    }
    return i
  }

  private unexpected(buf: Buffer, i: number): Error {
    return new Error(`Unexpected ${JSON.stringify(String.fromCharCode(buf[i]))} at byte ${this.offset + i} of the JSON`)
  }
}

/** Index of the closing quote of a string whose body starts at `from`, or -1 if not in `buf`. */
function stringEnd(buf: Buffer, from: number): number {
  let i = from
  for (;;) {
    i = buf.indexOf(QUOTE, i)
    if (i < 0) return -1
    let slashes = 0
    while (buf[i - 1 - slashes] === BACKSLASH) slashes++
    if (slashes % 2 === 0) return i
    i++
  }
}

function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2d || c === 0x2b
}

/**
 * Digits times a power of ten, both exact doubles, so one multiplication or division gives the
 * correctly rounded value: the same as Number() but several times faster than making a string of
 * each of GloVe's 34 million numbers. Longer mantissas and large exponents go through Number().
 */
function parseNumber(buf: Buffer, start: number, end: number): number {
  let i = start
  const negative = buf[i] === 0x2d
  if (negative) i++
  let mantissa = 0
  let digits = 0
  let exponent = 0
  let sawDigit = false
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
    mantissa = mantissa * 10 + (buf[i++] - 0x30)
    if (mantissa > 0) digits++
    sawDigit = true
  }
  if (buf[i] === 0x2e && i < end) {
    i++
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
      mantissa = mantissa * 10 + (buf[i++] - 0x30)
      if (mantissa > 0) digits++
      exponent--
      sawDigit = true
    }
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++
    const expNegative = buf[i] === 0x2d
    if (buf[i] === 0x2d || buf[i] === 0x2b) i++
    let e = 0
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) e = e * 10 + (buf[i++] - 0x30)
    exponent += expNegative ? -e : e
  }
  if (i !== end || !sawDigit) throw new Error(`Malformed number ${JSON.stringify(buf.toString('latin1', start, end))} in the JSON`)
  if (digits > 15 || exponent > 22 || exponent < -22) return Number(buf.toString('latin1', start, end))
  const value = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent]
  return negative ? -value : value
}
