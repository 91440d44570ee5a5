/**
 * A minimal protobuf encoder, enough to write ONNX models without a protobuf library.
 *
 * Output is kept as a list of chunks: small fields are packed into a scratch buffer, while large
 * byte fields (weight tensors) are kept by reference. A nested message is written by moving its
 * chunks into the parent, so a 135 MB model's weights are copied exactly once, by `finish()`.
 */

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LEN = 2
const WIRE_FIXED32 = 5

/** Byte runs at least this long are referenced rather than copied into the scratch buffer. */
const REFERENCE_THRESHOLD = 1024

const textEncoder = new TextEncoder()

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private chunkBytes = 0
  private scratch = new Uint8Array(256)
  private pos = 0

  /** Encoded size so far: a parent needs it for the length prefix. */
  get byteLength(): number {
    return this.chunkBytes + this.pos
  }

  /** uint64, int64 or enum field. Negative values take 10 bytes, as protobuf's int64 does. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(value)
    return this
  }

  fixed32(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    this.reserve(4)
    new DataView(this.scratch.buffer).setUint32(this.pos, value, true)
    this.pos += 4
    return this
  }

  fixed64(field: number, value: bigint): this {
    this.tag(field, WIRE_FIXED64)
    this.reserve(8)
    new DataView(this.scratch.buffer).setBigUint64(this.pos, BigInt.asUintN(64, value), true)
    this.pos += 8
    return this
  }

  /** `float` field (wire type fixed32). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    this.reserve(4)
    new DataView(this.scratch.buffer).setFloat32(this.pos, value, true)
    this.pos += 4
    return this
  }

  /** `bytes` field. Large payloads are referenced, not copied: do not mutate them before `finish()`. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN)
    this.rawVarint(data.byteLength)
    this.append(data)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  /** Embedded message field; `message` must not be written to afterwards. */
  message(field: number, message: ProtoWriter): this {
    this.tag(field, WIRE_LEN)
    this.rawVarint(message.byteLength)
    message.flush()
    for (const chunk of message.chunks) this.append(chunk)
    return this
  }

  /** Packed repeated varints (repeated int64/int32/enum). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const body = new ProtoWriter()
    for (const v of values) body.rawVarint(v)
    this.tag(field, WIRE_LEN)
    this.rawVarint(body.byteLength)
    this.append(body.scratch.subarray(0, body.pos))
    return this
  }

  /** The encoded message, assembled in one copy. */
  finish(): Uint8Array {
    this.flush()
    return Buffer.concat(this.chunks, this.chunkBytes)
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType)
  }

  private rawVarint(value: number | bigint): void {
    this.reserve(10)
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`)
      if (value >= 0) {
        while (value >= 0x80) {
          this.scratch[this.pos++] = (value % 0x80) | 0x80
          value = Math.floor(value / 0x80)
        }
        this.scratch[this.pos++] = value
        return
      }
      value = BigInt(value)
    }
    let v = BigInt.asUintN(64, value)
    while (v >= 0x80n) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.scratch[this.pos++] = Number(v)
  }

  private append(data: Uint8Array): void {
    if (data.byteLength < REFERENCE_THRESHOLD) {
      this.reserve(data.byteLength)
      this.scratch.set(data, this.pos)
      this.pos += data.byteLength
      return
    }
    this.flush()
    this.chunks.push(data)
    this.chunkBytes += data.byteLength
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.scratch.length) return
    const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.pos + n))
    grown.set(this.scratch.subarray(0, this.pos))
    this.scratch = grown
  }

  /** Moves the scratch bytes into the chunk list, so that a referenced chunk can follow them. */
  private flush(): void {
    if (this.pos === 0) return
    this.chunks.push(this.scratch.slice(0, this.pos))
    this.chunkBytes += this.pos
    this.pos = 0
  }
}
