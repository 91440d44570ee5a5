import { describe, expect, it, vi } from 'vitest'
import { SdlError } from '../../src/main/engine/errors'
import { MAX_PICKLE_VALUES, setState, unpickle, type UnpickleOptions } from '../../src/main/engine/checkpoint/pickle'

/** Concatenates pickle pieces: strings are latin1 opcode text, numbers single bytes. */
function bytes(...parts: Array<string | number | Uint8Array>): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : typeof p === 'number' ? Buffer.of(p) : Buffer.from(p))))
}
const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer)
const u64 = (n: number) => Buffer.from(BigUint64Array.of(BigInt(n)).buffer)
const binunicode = (s: string) => bytes('X', u32(Buffer.byteLength(s)), Buffer.from(s))
const shortUnicode = (s: string) => bytes(0x8c, Buffer.byteLength(s), Buffer.from(s))

const load = (data: Uint8Array, options: Partial<UnpickleOptions> = {}) => unpickle(data, { source: 'test.pkl', globals: new Map(), ...options }).value

describe('unpickle', () => {
  it('reads protocol 0 text opcodes, with PUT/GET', () => {
    const data = bytes(
      '(lp0\n',
      'I42\naI-7\naI01\naI00\na',
      'L123456789012345678901234567890L\na',
      'F1.5\naFinf\na',
      "S'a\\nb\\x41\\101'\na",
      'Vcaf\\u00e9 \\U0001f600\np1\na',
      'g1\na',
      'N',
      'a.'
    )
    const value = load(data) as unknown[]
    expect(value).toEqual([42, -7, true, false, 123456789012345678901234567890n, 1.5, Infinity, 'a\nbAA', 'café 😀', 'café 😀', null])
  })

  it('reads binary numbers, keeping unsafe integers as bigint', () => {
    // prettier-ignore
    const data = bytes(
      0x80, 2, '(',
      'J', Buffer.from(Int32Array.of(-5).buffer),
      'K', 255,
      'M', 0x34, 0x12,
      0x8a, 0, // LONG1 of length 0 is 0
      0x8a, 2, 0x00, 0xff, // -256
      0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, // torch's legacy magic
      0x8b, u32(1), 0x7f,
      'G', Buffer.from([0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]), // pi, big-endian
      0x88, 0x89, 'N',
      'l.'
    )
    expect(load(data)).toEqual([-5, 255, 0x1234, 0, -256, 0x1950a86a20f9469cfc6cn, 127, Math.PI, true, false, null])
  })

  it('reads every string and bytes opcode', () => {
    // prettier-ignore
    const data = bytes(
      0x80, 4, '(',
      shortUnicode('héllo'),
      binunicode('wörld'),
      0x8d, u64(2), 'ok',
      'T', u32(2), 0xe9, 0x41, // Python 2 str: latin1
      'U', 1, 'z',
      'B', u32(3), 1, 2, 3,
      'C', 2, 4, 5,
      0x8e, u64(1), 6,
      0x96, u64(2), 7, 8,
      'l.'
    )
    const value = load(data) as unknown[]
    expect(value.slice(0, 5)).toEqual(['héllo', 'wörld', 'ok', 'éA', 'z'])
    expect(value.slice(5).map((b) => [...(b as Uint8Array)])).toEqual([[1, 2, 3], [4, 5], [6], [7, 8]])
    // bytes are views into the input; a bytearray is its own copy, since Python may mutate it.
    expect((value[5] as Uint8Array).buffer).toBe(data.buffer)
    expect((value[8] as Uint8Array).buffer).not.toBe(data.buffer)
  })

  it('builds tuples, lists, dicts and sets', () => {
    // prettier-ignore
    const data = bytes(
      0x80, 2, '(',
      ')', 'K', 1, 0x85, 'K', 1, 'K', 2, 0x86, 'K', 1, 'K', 2, 'K', 3, 0x87,
      '(', 'K', 1, 'K', 2, 'K', 3, 'K', 4, 't',
      ']', 'K', 1, 'a', '(', 'K', 2, 'K', 3, 'e',
      '(', 'K', 9, 'l',
      '}', 'K', 0, shortUnicode('zero'), 's', '(', shortUnicode('one'), 'K', 1, 'K', 2, 'K', 3, 'u',
      '(', 'K', 5, 'K', 6, 'd',
      0x8f, '(', 'K', 1, 'K', 2, 0x90,
      '(', 'K', 3, 0x91,
      'l.'
    )
    expect(load(data)).toEqual([
      [],
      [1],
      [1, 2],
      [1, 2, 3],
      [1, 2, 3, 4],
      [1, 2, 3],
      [9],
      new Map<unknown, unknown>([
        [0, 'zero'],
        ['one', 1],
        [2, 3]
      ]),
      new Map([[5, 6]]),
      new Set([1, 2]),
      new Set([3])
    ])
  })

  it('handles POP, POP_MARK and DUP', () => {
    const data = bytes(0x80, 2, 'K', 1, 'K', 2, '0', '(', 'K', 3, 'K', 4, '1', '2', 0x86, '.')
    expect(load(data)).toEqual([1, 1])
  })

  it('shares memoized objects (BINPUT, LONG_BINPUT, MEMOIZE and their GETs)', () => {
    // prettier-ignore
    const data = bytes(
      0x80, 4, 0x95, u64(23), '(',
      ']', 'q', 0,
      '}', 'r', u32(70000),
      ')', 0x94, // MEMOIZE stores at index len(memo) = 2
      'h', 0, 'j', u32(70000), 'h', 2,
      'l.'
    )
    const [list, dict, tuple, list2, dict2, tuple2] = load(data) as unknown[]
    expect(list2).toBe(list)
    expect(dict2).toBe(dict)
    expect(tuple2).toBe(tuple)
    expect(() => load(bytes(0x80, 2, 'h', 5, '.'))).toThrow(/memo entry 5 was never stored \(BINGET at byte 2\)/)
  })

  it('calls only allow-listed globals: GLOBAL and STACK_GLOBAL, REDUCE, NEWOBJ, NEWOBJ_EX, BUILD', () => {
    class Point {
      state: unknown = null;
      [setState](state: unknown) {
        this.state = state
      }
    }
    const add = vi.fn((a: number, b: number) => a + b)
    const make = vi.fn((...args: unknown[]) => Object.assign(new Point(), { args }))
    const globals = new Map<string, unknown>([
      ['ops.add', add],
      ['geo.Point', make]
    ])
    // prettier-ignore
    const data = bytes(
      0x80, 4, '(',
      'cops\nadd\n', 'K', 2, 'K', 3, 0x86, 'R',
      shortUnicode('geo'), shortUnicode('Point'), 0x93, 'K', 7, 0x85, 0x81, '}', 'K', 1, 'K', 2, 's', 'b',
      shortUnicode('geo'), shortUnicode('Point'), 0x93, ')', '}', shortUnicode('k'), 'K', 1, 's', 0x92,
      'l.'
    )
    const [sum, point, withKwargs] = load(data, { globals }) as [number, Point & { args: unknown[] }, { args: unknown[] }]
    expect(sum).toBe(5)
    expect(point.args).toEqual([7])
    expect(point.state).toEqual(new Map([[1, 2]]))
    expect(withKwargs.args).toEqual([new Map([['k', 1]])])
    expect(add).toHaveBeenCalledOnce()
  })

  it('resolves persistent ids through the callback (BINPERSID and PERSID)', () => {
    const persistentLoad = vi.fn((pid: unknown) => ({ loaded: pid }))
    const data = bytes(0x80, 2, '(', shortUnicode('storage'), 'K', 3, 0x86, 'Q', 'Pkey 7\n', 'l.')
    expect(load(data, { persistentLoad })).toEqual([{ loaded: ['storage', 3] }, { loaded: 'key 7' }])
    expect(() => load(data)).toThrow(/persistent id.*BINPERSID at byte 15/)
    const refuse = () => {
      throw new Error('no such storage')
    }
    expect(() => load(data, { persistentLoad: refuse })).toThrow(/test\.pkl: bad persistent id \(no such storage\) \(BINPERSID at byte 15\)/)
  })

  it('returns where the pickle ended, so a stream of pickles can be read in turn', () => {
    const data = bytes(0x80, 2, 'K', 1, '.', 0x80, 2, 'K', 2, '.')
    const first = unpickle(data, { source: 's', globals: new Map() })
    expect(first).toEqual({ value: 1, end: 5 })
    expect(unpickle(data, { source: 's', globals: new Map(), offset: first.end })).toEqual({ value: 2, end: 10 })
  })

  describe('refuses code execution', () => {
    const command = binunicode('touch /tmp/pwned')
    const harmless = vi.fn()
    const globals = new Map<string, unknown>([['builtins.print', harmless]])

    it.each([
      ['GLOBAL os.system', bytes(0x80, 2, 'cos\nsystem\n', command, 0x85, 'R.'), /'os\.system' in test\.pkl at byte 2/],
      ['GLOBAL posix.system', bytes(0x80, 2, 'cposix\nsystem\n', command, 0x85, 'R.'), /'posix\.system' \(os\.system\)/],
      [
        'STACK_GLOBAL posix.system inside an allowed call',
        bytes(0x80, 4, 'cbuiltins\nprint\n', shortUnicode('posix'), shortUnicode('system'), 0x93, command, 0x85, 'R', 0x85, 'R.'),
        /'posix\.system' \(os\.system\) in test\.pkl at byte 33/
      ],
      ['GLOBAL __builtin__.eval', bytes(0x80, 2, 'c__builtin__\neval\n', command, 0x85, 'R.'), /'__builtin__\.eval' \(builtins\.eval\)/],
      ['torch.storage._load_from_bytes', bytes(0x80, 2, 'ctorch.storage\n_load_from_bytes\n.'), /_load_from_bytes/]
    ])('%s', (_, data, message) => {
      let error: unknown
      try {
        load(data, { globals })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(SdlError)
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).toMatch(/this file is not a model checkpoint, or it tries to run code; it was not loaded/)
      expect(harmless).not.toHaveBeenCalled()
    })

    it('does not resolve names through JavaScript prototypes', () => {
      expect(() => load(bytes(0x80, 2, 'c__proto__\nconstructor\n.'))).toThrow(/Unsupported pickle global '__proto__\.constructor' in test\.pkl/)
      expect(() => load(bytes(0x80, 2, 'cconstructor\nname\n.'), { globals: new Map() })).toThrow(/Unsupported pickle global/)
    })
  })

  describe('malformed input names the byte offset', () => {
    it.each([
      ['a truncated length', bytes(0x80, 4, 'K', 1, 'X', u32(10), 'abc'), /test\.pkl is truncated or damaged: its pickle data ends inside BINUNICODE at byte 4/],
      ['a truncated number', bytes(0x80, 2, 'J', 1, 2), /ends inside BININT at byte 2/],
      ['a frame longer than the data', bytes(0x80, 4, 0x95, u64(100), 'N.'), /ends inside FRAME at byte 2/],
      ['a line without its newline', bytes('I12'), /ends inside INT at byte 0/],
      ['a missing STOP', bytes(0x80, 2, 'N'), /ends at byte 3 without a STOP opcode/],
      ['an unknown opcode', bytes(0x80, 2, 0xff, '.'), /unsupported pickle opcode 0xff \(opcode 0xff at byte 2\)/],
      ['an unsupported opcode', bytes(0x80, 2, 'i', '.'), /unsupported pickle opcode 0x69 \('i'\)/],
      ['a newer protocol', bytes(0x80, 6, '.'), /unsupported pickle protocol 6 \(PROTO at byte 0\)/],
      ['stack underflow', bytes(0x80, 2, 'a', '.'), /stack underflow \(APPEND at byte 2\)/],
      ['underflow below a MARK', bytes(0x80, 2, 'K', 1, '(', 0x85, '.'), /stack underflow \(TUPLE1 at byte 5\)/],
      ['STOP on an empty stack', bytes(0x80, 2, '.'), /stack underflow \(STOP at byte 2\)/],
      ['a TUPLE without MARK', bytes(0x80, 2, 't.'), /no MARK to pop to \(TUPLE at byte 2\)/],
      ['a call of a non-function', bytes(0x80, 2, 'cm\nv\n)R.'), /calls m\.v, which is not callable/]
    ])('%s', (_, data, message) => {
      const globals = new Map([['m.v', 1]])
      expect(() => load(data, { globals })).toThrow(message)
      expect(() => load(data, { globals })).toThrow(SdlError)
    })
  })

  describe('stays bounded on hostile input', () => {
    it('refuses a pickle that builds more values than any model file, whatever they are', () => {
      const dicts = bytes(0x80, 2, Buffer.alloc(MAX_PICKLE_VALUES + 1, '}'), '.')
      expect(() => load(dicts)).toThrow(/test\.pkl: its pickle builds more than 1000000 values \(EMPTY_DICT at byte 1000002\), far more than any model file/)
      // References to one memoized list count too: they make a list of millions of slots.
      const references = bytes(0x80, 2, ']', 0x94, ']', '(', Buffer.alloc(2 * MAX_PICKLE_VALUES, 'h\x00', 'latin1'), 'e.')
      expect(() => load(references)).toThrow(/builds more than 1000000 values \(BINGET at byte/)
    })

    it('reads a long APPENDS batch, which must not go through the call stack', () => {
      const count = 200_000
      const list = load(bytes(0x80, 2, ']', '(', Buffer.alloc(2 * count, 'K\x07', 'latin1'), 'e.')) as number[]
      expect(list.length).toBe(count)
      expect(list[count - 1]).toBe(7)
    })

    it('refuses integers longer than Python reads, before converting them', () => {
      expect(() => load(bytes('L', '9'.repeat(100_000), 'L\n.'))).toThrow(/an integer of 100000 digits, longer than any model file holds \(LONG at byte 0\)/)
      expect(load(bytes('L', '9'.repeat(4300), 'L\n.'))).toBe(10n ** 4300n - 1n)
      expect(() => load(bytes(0x80, 2, 0x8b, u32(1_000_000), Buffer.alloc(1_000_000), '.'))).toThrow(
        /an integer of 1000000 bytes, longer than any model file holds \(LONG4 at byte 2\)/
      )
    })

    it('refuses strings longer than the data, without allocating them', () => {
      expect(() => load(bytes(0x80, 4, 0x8d, u64(2 ** 40), 'abc'))).toThrow(/ends inside BINUNICODE8 at byte 2/)
      expect(() => load(bytes(0x80, 4, 0x8e, u64(2 ** 62), 'abc'))).toThrow(/ends inside BINBYTES8 at byte 2/)
    })

    it('quotes a huge bad literal only in part', () => {
      const error = (() => {
        try {
          load(bytes('F', 'x'.repeat(1_000_000), '\n.'))
        } catch (err) {
          return err as Error
        }
      })()
      expect(error?.message).toMatch(/bad float 'x{40}\.\.\.' \(FLOAT at byte 0\)/)
      expect(error!.message.length).toBeLessThan(200)
    })
  })
})
