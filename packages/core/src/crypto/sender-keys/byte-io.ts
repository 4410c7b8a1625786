/**
 * Fixed-layout big-endian byte I/O for the sender-key codecs.
 *
 * ByteReader is a bounds-checked cursor over untrusted bytes. Every read past the end throws a CryptoError with
 * the code the caller chose (BadMessage for wire data, BadState for stored state), so a decoder
 * never has to check lengths by hand and never throws anything else.
 */
import { CryptoError } from '../errors.js'

type ReaderCode = 'BadMessage' | 'BadState'

export class ByteReader {
  private offset = 0
  private readonly view: DataView

  constructor(
    private readonly input: Uint8Array,
    private readonly code: ReaderCode,
    private readonly what: string,
  ) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  }

  get remaining(): number {
    return this.input.length - this.offset
  }

  fail(reason: string): never {
    throw new CryptoError(this.code, `${this.what}: ${reason}`)
  }

  private need(length: number): void {
    if (this.remaining < length) this.fail('truncated')
  }

  u8(): number {
    this.need(1)
    const value = this.view.getUint8(this.offset)
    this.offset += 1
    return value
  }

  u16(): number {
    this.need(2)
    const value = this.view.getUint16(this.offset, false)
    this.offset += 2
    return value
  }

  u32(): number {
    this.need(4)
    const value = this.view.getUint32(this.offset, false)
    this.offset += 4
    return value
  }

  /** A copy (a plain Uint8Array, even when the input is a Buffer), so state never aliases input. */
  bytes(length: number): Uint8Array {
    this.need(length)
    const out = new Uint8Array(this.input.subarray(this.offset, this.offset + length))
    this.offset += length
    return out
  }

  /** Strict decoders end here: trailing bytes are an error, not something to ignore. */
  end(): void {
    if (this.remaining !== 0) this.fail('trailing bytes')
  }
}

/** A fixed-size big-endian writer for encoders whose total length is known up front. */
export class ByteWriter {
  private offset = 0
  private readonly view: DataView
  readonly bytes: Uint8Array

  constructor(length: number) {
    this.bytes = new Uint8Array(length)
    this.view = new DataView(this.bytes.buffer)
  }

  u8(value: number): this {
    this.view.setUint8(this.offset, value)
    this.offset += 1
    return this
  }

  u16(value: number): this {
    this.view.setUint16(this.offset, value, false)
    this.offset += 2
    return this
  }

  u32(value: number): this {
    this.view.setUint32(this.offset, value, false)
    this.offset += 4
    return this
  }

  raw(value: Uint8Array): this {
    this.bytes.set(value, this.offset)
    this.offset += value.length
    return this
  }

  /** The finished bytes; a length mismatch is a bug in the encoder, so it throws loudly. */
  finish(): Uint8Array {
    if (this.offset !== this.bytes.length) throw new Error('ByteWriter: encoded length mismatch')
    return this.bytes
  }
}
