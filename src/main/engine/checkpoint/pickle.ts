import { SdlError } from '../errors'

/**
 * A safe reader for Python pickles (protocols 0-5), limited to what torch.save and numpy write.
 *
 * A pickle is a program for a small stack machine, and its GLOBAL/REDUCE opcodes can import and
 * call any Python function — which is how a malicious "checkpoint" runs code. This VM never calls
 * anything of its own accord: a GLOBAL resolves only through the caller's allow-list, so the only
 * code a pickle can reach is the JS reconstructors the caller chose to expose.
 *
 * Python values map to JS as: None -> null, bool -> boolean, int -> number (bigint when it is not
 * a safe integer), float -> number, str -> string, bytes/bytearray -> Uint8Array (a view into the
 * input for bytes, to avoid copying large tensors), tuple/list -> array, dict -> Map, set -> Set.
 * Python 2 byte strings (STRING opcodes) decode as latin1, as Python's `encoding='latin1'` does,
 * so binary payloads (e.g. numpy data in old pickles) survive the round trip to bytes.
 */

/** Objects made by an allow-listed reconstructor implement this to receive BUILD's state. */
export const setState: unique symbol = Symbol('pickle.setState')

export interface Stateful {
  [setState](state: unknown): void
}

export interface UnpickleOptions {
  /** What the bytes are (a file path, an archive member); every error message names it. */
  source: string
  /**
   * "module.name" -> the value GLOBAL/STACK_GLOBAL pushes. REDUCE and NEWOBJ call a function
   * value with the positional arguments; NEWOBJ_EX appends its keyword arguments as a Map when
   * there are any. Any name not listed is refused.
   */
  globals: ReadonlyMap<string, unknown>
  /** Resolves a persistent id (PERSID/BINPERSID); torch uses these to point at tensor storages. */
  persistentLoad?: (pid: unknown) => unknown
  /** Where the pickle starts; torch's legacy format puts several pickles in one file. */
  offset?: number
}

/** The pickle's bytes end before its STOP: the file is cut short, or only its start was read. */
export class TruncatedPickleError extends SdlError {}

export interface UnpickleResult {
  value: unknown
  /** The offset just past the STOP opcode, where a following pickle would start. */
  end: number
}

export function unpickle(data: Uint8Array, options: UnpickleOptions): UnpickleResult {
  return new Machine(data, options).run()
}

/** Python modules whose functions users know under another name, for clearer refusals. */
const MODULE_ALIASES = new Map([
  ['posix', 'os'],
  ['nt', 'os'],
  ['__builtin__', 'builtins']
])

const OP = {
  MARK: 0x28, // (
  EMPTY_TUPLE: 0x29, // )
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  FLOAT: 0x46, // F
  BINFLOAT: 0x47, // G
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  PERSID: 0x50, // P
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96
} as const

const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]))

const HIGHEST_PROTOCOL = 5

/**
 * Values one pickle may push. A state dict of a few hundred tensors pushes tens of thousands;
 * without a cap, a few megabytes of one-byte opcodes (EMPTY_DICT, say) would build millions of
 * objects and take gigabytes.
 */
export const MAX_PICKLE_VALUES = 1_000_000
/** Python itself refuses to parse longer decimal integers (sys.int_info.default_max_str_digits). */
const MAX_INT_DIGITS = 4300
/** LONG4's little-endian bytes for an integer of about MAX_INT_DIGITS digits. */
const MAX_INT_BYTES = 1800

class Machine {
  private pos: number
  private opStart = 0
  private op = 0
  private readonly view: DataView
  private readonly stack: unknown[] = []
  /** Stack heights at each open MARK. */
  private readonly marks: number[] = []
  private readonly memo = new Map<number, unknown>()
  private pushed = 0
  /** Resolved global -> its pickle name, so a failed call can say what it called. */
  private readonly globalNames = new Map<unknown, string>()

  constructor(
    private readonly data: Uint8Array,
    private readonly options: UnpickleOptions
  ) {
    this.pos = options.offset ?? 0
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  run(): UnpickleResult {
    for (;;) {
      if (this.pos >= this.data.length) {
        throw new TruncatedPickleError(`${this.options.source} is truncated or damaged: its pickle data ends at byte ${this.pos} without a STOP opcode.`, TRUNCATED_HINT)
      }
      this.opStart = this.pos
      this.op = this.data[this.pos++]
      if (this.op === OP.STOP) return { value: this.pop(), end: this.pos }
      this.step()
    }
  }

  private step(): void {
    switch (this.op) {
      case OP.PROTO: {
        const protocol = this.u8()
        if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`)
        return
      }
      case OP.FRAME:
        // Frames only help streaming readers; the whole pickle is in memory, so check and move on.
        this.ensure(this.u64())
        return
      case OP.MARK:
        this.marks.push(this.stack.length)
        return
      case OP.POP:
        if (this.stack.length > this.floor()) this.stack.pop()
        else this.popMark()
        return
      case OP.POP_MARK:
        this.popMark()
        return
      case OP.DUP:
        return this.push(this.top())

      case OP.NONE:
        return this.push(null)
      case OP.NEWTRUE:
        return this.push(true)
      case OP.NEWFALSE:
        return this.push(false)
      case OP.INT: {
        // Protocol 0 writes booleans as INT "01"/"00".
        const text = this.line()
        if (text === '01' || text === '00') return this.push(text === '01')
        return this.push(toInt(this.parseBigInt(text)))
      }
      case OP.BININT:
        return this.push(this.view.getInt32(this.take(4), true))
      case OP.BININT1:
        return this.push(this.u8())
      case OP.BININT2:
        return this.push(this.view.getUint16(this.take(2), true))
      case OP.LONG:
        return this.push(toInt(this.parseBigInt(this.line().replace(/L$/, ''))))
      case OP.LONG1:
        return this.push(this.longBytes(this.u8()))
      case OP.LONG4: {
        const n = this.length32(true)
        if (n > MAX_INT_BYTES) this.fail(`an integer of ${n} bytes, longer than any model file holds`)
        return this.push(this.longBytes(n))
      }
      case OP.FLOAT:
        return this.push(this.parseFloat(this.line()))
      case OP.BINFLOAT:
        return this.push(this.view.getFloat64(this.take(8), false))

      case OP.STRING:
        return this.push(latin1(this.unquote(this.line())))
      case OP.BINSTRING:
        return this.push(latin1(this.bytes(this.length32(true))))
      case OP.SHORT_BINSTRING:
        return this.push(latin1(this.bytes(this.u8())))
      case OP.UNICODE:
        return this.push(decodeRawUnicodeEscape(this.lineBytes()))
      case OP.BINUNICODE:
        return this.push(utf8(this.bytes(this.length32(false))))
      case OP.SHORT_BINUNICODE:
        return this.push(utf8(this.bytes(this.u8())))
      case OP.BINUNICODE8:
        return this.push(utf8(this.bytes(this.u64())))
      case OP.BINBYTES:
        return this.push(this.bytes(this.length32(false)))
      case OP.SHORT_BINBYTES:
        return this.push(this.bytes(this.u8()))
      case OP.BINBYTES8:
        return this.push(this.bytes(this.u64()))
      case OP.BYTEARRAY8:
        // A bytearray is mutable in Python, so it gets its own copy rather than a view.
        return this.push(new Uint8Array(this.bytes(this.u64())))

      case OP.EMPTY_TUPLE:
        return this.push([])
      case OP.TUPLE:
        return this.push(this.popMark())
      case OP.TUPLE1:
        return this.push(this.popN(1))
      case OP.TUPLE2:
        return this.push(this.popN(2))
      case OP.TUPLE3:
        return this.push(this.popN(3))
      case OP.EMPTY_LIST:
        return this.push([])
      case OP.LIST:
        return this.push(this.popMark())
      case OP.APPEND: {
        const item = this.pop()
        this.list().push(item)
        return
      }
      case OP.APPENDS: {
        const items = this.popMark()
        const list = this.list()
        // One by one: spreading a long batch into push() would overflow the call stack.
        for (const item of items) list.push(item)
        return
      }
      case OP.EMPTY_DICT:
        return this.push(new Map())
      case OP.DICT: {
        const dict = new Map()
        this.setPairs(dict, this.popMark())
        return this.push(dict)
      }
      case OP.SETITEM: {
        const pair = this.popN(2)
        this.setPairs(this.dict(), pair)
        return
      }
      case OP.SETITEMS: {
        const pairs = this.popMark()
        this.setPairs(this.dict(), pairs)
        return
      }
      case OP.EMPTY_SET:
        return this.push(new Set())
      case OP.ADDITEMS: {
        const items = this.popMark()
        const set = this.top()
        if (!(set instanceof Set)) this.fail('ADDITEMS on something that is not a set')
        for (const item of items) set.add(item)
        return
      }
      case OP.FROZENSET:
        return this.push(new Set(this.popMark()))

      case OP.GET:
        return this.push(this.recall(this.memoIndex(this.line())))
      case OP.BINGET:
        return this.push(this.recall(this.u8()))
      case OP.LONG_BINGET:
        return this.push(this.recall(this.length32(false)))
      case OP.PUT:
        return this.remember(this.memoIndex(this.line()))
      case OP.BINPUT:
        return this.remember(this.u8())
      case OP.LONG_BINPUT:
        return this.remember(this.length32(false))
      case OP.MEMOIZE:
        return this.remember(this.memo.size)

      case OP.GLOBAL: {
        const module = this.line()
        return this.push(this.resolve(module, this.line()))
      }
      case OP.STACK_GLOBAL: {
        const [module, name] = this.popN(2)
        if (typeof module !== 'string' || typeof name !== 'string') {
          this.fail('STACK_GLOBAL needs a module and a name that are strings')
        }
        return this.push(this.resolve(module, name))
      }
      case OP.REDUCE: {
        const args = this.pop()
        return this.push(this.call(this.pop(), this.tuple(args)))
      }
      case OP.NEWOBJ: {
        const args = this.pop()
        return this.push(this.call(this.pop(), this.tuple(args)))
      }
      case OP.NEWOBJ_EX: {
        const kwargs = this.pop()
        const args = this.tuple(this.pop())
        const cls = this.pop()
        if (!(kwargs instanceof Map)) this.fail('NEWOBJ_EX keyword arguments are not a dict')
        return this.push(this.call(cls, kwargs.size > 0 ? [...args, kwargs] : args))
      }
      case OP.BUILD:
        return this.build(this.pop(), this.top())

      case OP.PERSID:
        return this.push(this.persistent(this.line()))
      case OP.BINPERSID:
        return this.push(this.persistent(this.pop()))

      default:
        this.fail(`unsupported pickle opcode 0x${this.op.toString(16).padStart(2, '0')}` + (this.op >= 0x20 && this.op < 0x7f ? ` ('${String.fromCharCode(this.op)}')` : ''))
    }
  }

  // --- stack -------------------------------------------------------------------------------

  private push(value: unknown): void {
    if (++this.pushed > MAX_PICKLE_VALUES) {
      throw new SdlError(
        `${this.options.source}: its pickle builds more than ${MAX_PICKLE_VALUES} values (${this.opName()} at byte ${this.opStart}), far more than any model file; it was not loaded.`,
        DAMAGED_HINT
      )
    }
    this.stack.push(value)
  }

  /** Height of the stack below the innermost MARK: items under it belong to an outer frame. */
  private floor(): number {
    return this.marks.at(-1) ?? 0
  }

  private pop(): unknown {
    if (this.stack.length <= this.floor()) this.underflow()
    return this.stack.pop()
  }

  private top(): unknown {
    if (this.stack.length <= this.floor()) this.underflow()
    return this.stack[this.stack.length - 1]
  }

  private popN(n: number): unknown[] {
    if (this.stack.length - n < this.floor()) this.underflow()
    return this.stack.splice(this.stack.length - n, n)
  }

  private popMark(): unknown[] {
    const height = this.marks.pop()
    if (height === undefined) this.fail('malformed pickle: no MARK to pop to')
    return this.stack.splice(height)
  }

  private underflow(): never {
    this.fail('malformed pickle: stack underflow')
  }

  private list(): unknown[] {
    const list = this.top()
    if (!Array.isArray(list)) this.fail('append to something that is not a list')
    return list
  }

  private dict(): Map<unknown, unknown> {
    const dict = this.top()
    if (!(dict instanceof Map)) this.fail('set an item on something that is not a dict')
    return dict
  }

  private tuple(value: unknown): unknown[] {
    if (!Array.isArray(value)) this.fail('call arguments are not a tuple')
    return value
  }

  private setPairs(dict: Map<unknown, unknown>, items: unknown[]): void {
    if (items.length % 2 !== 0) this.fail('malformed pickle: a dict has a key without a value')
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1])
  }

  // --- memo --------------------------------------------------------------------------------

  private remember(index: number): void {
    this.memo.set(index, this.top())
  }

  private recall(index: number): unknown {
    if (!this.memo.has(index)) this.fail(`malformed pickle: memo entry ${index} was never stored`)
    return this.memo.get(index)
  }

  private memoIndex(text: string): number {
    const index = Number(text)
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(index)) this.fail(`bad memo index '${clip(text)}'`)
    return index
  }

  // --- code-adjacent opcodes ---------------------------------------------------------------

  private resolve(module: string, name: string): unknown {
    const key = `${module}.${name}`
    if (!this.options.globals.has(key)) {
      const alias = MODULE_ALIASES.get(module)
      throw new SdlError(
        `Unsupported pickle global '${key}'${alias ? ` (${alias}.${name})` : ''} in ${this.options.source} ` +
          `at byte ${this.opStart}: this file is not a model checkpoint, or it tries to run code; it was not loaded.`,
        'Use the original checkpoint file from a source you trust.'
      )
    }
    const value = this.options.globals.get(key)
    this.globalNames.set(value, key)
    return value
  }

  private call(callable: unknown, args: unknown[]): unknown {
    const name = this.globalNames.get(callable) ?? 'a value'
    if (typeof callable !== 'function') this.fail(`the pickle calls ${name}, which is not callable`)
    return this.guard(`${name} rejected its arguments`, () => callable(...args))
  }

  /** Runs caller code, turning its plain errors into SdlErrors that say where in the pickle they arose. */
  private guard<T>(what: string, run: () => T): T {
    try {
      return run()
    } catch (err) {
      if (err instanceof SdlError) throw err
      this.fail(`${what} (${(err as Error).message})`)
    }
  }

  private build(state: unknown, target: unknown): void {
    if (isStateful(target)) return this.guard('bad object state', () => target[setState](state))
    // OrderedDict pickles its instance attributes (torch's state_dict `_metadata`) as BUILD state.
    // A Map holds only the items, and no reader here needs those attributes, so they are dropped.
    if (target instanceof Map) return
    this.fail(`BUILD on ${this.globalNames.get(target) ?? 'an object'} that takes no state`)
  }

  private persistent(pid: unknown): unknown {
    const load = this.options.persistentLoad
    if (!load) this.fail('unexpected persistent id: this pickle refers to external data')
    return this.guard('bad persistent id', () => load(pid))
  }

  // --- reading -----------------------------------------------------------------------------

  /** Checks that `n` more bytes exist and returns where they start. */
  private take(n: number): number {
    this.ensure(n)
    const at = this.pos
    this.pos += n
    return at
  }

  private ensure(n: number): void {
    if (this.pos + n > this.data.length) this.truncated()
  }

  private truncated(): never {
    throw new TruncatedPickleError(`${this.options.source} is truncated or damaged: its pickle data ends inside ` + `${this.opName()} at byte ${this.opStart}.`, TRUNCATED_HINT)
  }

  private u8(): number {
    return this.data[this.take(1)]
  }

  private length32(signed: boolean): number {
    const at = this.take(4)
    const n = signed ? this.view.getInt32(at, true) : this.view.getUint32(at, true)
    if (n < 0) this.fail('negative length')
    return n
  }

  private u64(): number {
    const n = this.view.getBigUint64(this.take(8), true)
    // No in-memory pickle can hold more than 2^53 bytes, so a larger length means truncation.
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? this.data.length : Number(n)
  }

  private bytes(n: number): Uint8Array {
    const at = this.take(n)
    return this.data.subarray(at, at + n)
  }

  private lineBytes(): Uint8Array {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end < 0) this.truncated()
    const bytes = this.data.subarray(this.pos, end)
    this.pos = end + 1
    return bytes
  }

  private line(): string {
    return utf8(this.lineBytes())
  }

  private longBytes(n: number): number | bigint {
    const bytes = this.bytes(n)
    let value = 0n
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i])
    // Two's complement: a set top bit makes the number negative.
    if (n > 0 && bytes[n - 1] & 0x80) value -= 1n << BigInt(8 * n)
    return toInt(value)
  }

  private parseBigInt(text: string): bigint {
    if (text.length > MAX_INT_DIGITS + 1) this.fail(`an integer of ${text.length} digits, longer than any model file holds`)
    if (!/^[+-]?\d+$/.test(text)) this.fail(`bad integer '${clip(text)}'`)
    return BigInt(text)
  }

  private parseFloat(text: string): number {
    // Python writes repr(float): digits, or inf / -inf / nan, which Number() does not read.
    const value = Number(text.replace(/^([+-]?)inf$/, '$1Infinity'))
    if (Number.isNaN(value) && text !== 'nan') this.fail(`bad float '${clip(text)}'`)
    return value
  }

  /** Decodes a protocol-0 STRING argument: a quoted Python 2 string literal. */
  private unquote(text: string): Uint8Array {
    const quote = text[0]
    if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
      this.fail('STRING argument is not a quoted string')
    }
    return decodeEscapes(text.slice(1, -1))
  }

  private opName(): string {
    return OP_NAMES.get(this.op) ?? `opcode 0x${this.op.toString(16)}`
  }

  private fail(what: string): never {
    throw new SdlError(`${this.options.source}: ${what} (${this.opName()} at byte ${this.opStart}).`, DAMAGED_HINT)
  }
}

const TRUNCATED_HINT = 'The file is incomplete; download or copy it again.'
const DAMAGED_HINT = 'The file is damaged or is not a model checkpoint; download it again.'

/** Keeps error messages short when a pickle holds a huge bad literal. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text
}

function isStateful(value: unknown): value is Stateful {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Stateful>)[setState] === 'function'
}

function toInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b
}

/** Python 2 string-literal escapes (\n, \xHH, octal) to bytes; the text itself is latin1/ASCII. */
function decodeEscapes(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c !== '\\' || i + 1 >= text.length) {
      out.push(c.charCodeAt(0) & 0xff)
      continue
    }
    const next = text[++i]
    const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3))
    if (Object.hasOwn(SIMPLE_ESCAPES, next)) out.push(SIMPLE_ESCAPES[next])
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else if (octal) {
      out.push(parseInt(octal[0], 8) & 0xff)
      i += octal[0].length - 1
    } else if (next !== '\n') out.push(0x5c, next.charCodeAt(0) & 0xff) // unknown escapes stay literal
  }
  return Uint8Array.from(out)
}

/** Python's raw-unicode-escape: bytes are latin1 except \uXXXX and \UXXXXXXXX escapes. */
function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  return latin1(bytes).replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4?: string, u8?: string) => String.fromCodePoint(parseInt(u4 ?? u8 ?? '', 16)))
}
