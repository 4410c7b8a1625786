/**
 * Strict byte readers and writers for the feed's wire formats: unsigned LEB128 varints (minimal
 * encoding only, at most 2^53 - 1), fixed-size byte strings and length-prefixed byte strings with
 * a maximum. Every read checks bounds first; any fault is FeedError 'Malformed' (or 'TooLarge'),
 * never a RangeError or a partial value.
 */
import { concatBytes } from '@jiayi/core'
import { FeedError } from './errors.js'

export class ByteWriter {
  private readonly parts: Uint8Array[] = []

  byte(value: number): this {
    this.parts.push(Uint8Array.of(value & 0xff))
    return this
  }

  varuint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new FeedError('BadInput', 'not a varuint')
    const out: number[] = []
    let v = value
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    out.push(v)
    this.parts.push(Uint8Array.from(out))
    return this
  }

  fixed(bytes: Uint8Array): this {
    this.parts.push(bytes)
    return this
  }

  /** varuint length || bytes */
  bytes(bytes: Uint8Array): this {
    this.varuint(bytes.length)
    this.parts.push(bytes)
    return this
  }

  finish(): Uint8Array {
    return concatBytes(...this.parts)
  }
}

const SHARE_ABOVE_BYTES = 4096

export class ByteReader {
  private offset = 0

  constructor(private readonly buf: Uint8Array) {
    if (!(buf instanceof Uint8Array)) throw new FeedError('Malformed', 'input must be bytes')
  }

  get remaining(): number {
    return this.buf.length - this.offset
  }

  byte(): number {
    if (this.offset >= this.buf.length) throw new FeedError('Malformed', 'truncated')
    return this.buf[this.offset++]!
  }

  varuint(max = Number.MAX_SAFE_INTEGER): number {
    let value = 0
    let scale = 1
    for (let i = 0; ; i++) {
      if (i >= 8) throw new FeedError('Malformed', 'varint too long')
      const b = this.byte()
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new FeedError('Malformed', 'varint not minimally encoded')
        break
      }
      scale *= 0x80
    }
    if (!Number.isSafeInteger(value)) throw new FeedError('Malformed', 'varint out of range')
    if (value > max) throw new FeedError('TooLarge', 'number over its limit')
    return value
  }

  /**
   * Exactly `length` bytes: a copy for small fields, a view into the input for large ones (sealed
   * updates, snapshot chunks), which saves copying megabytes; decoded values may share the input.
   */
  fixed(length: number): Uint8Array {
    if (this.remaining < length) throw new FeedError('Malformed', 'truncated')
    const end = this.offset + length
    const out =
      length > SHARE_ABOVE_BYTES ? this.buf.subarray(this.offset, end) : this.buf.slice(this.offset, end)
    this.offset += length
    return out
  }

  /** A length-prefixed byte string of at most `max` bytes. */
  bytes(max: number): Uint8Array {
    const length = this.varuint()
    if (length > max) throw new FeedError('TooLarge', 'byte string over its limit')
    return this.fixed(length)
  }

  /** Everything left. */
  rest(): Uint8Array {
    return this.fixed(this.remaining)
  }

  end(): void {
    if (this.remaining !== 0) throw new FeedError('Malformed', 'trailing bytes')
  }
}
