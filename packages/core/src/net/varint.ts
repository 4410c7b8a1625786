import type { Uint8ArrayList } from 'uint8arraylist'
import { NetError } from './errors.js'

/**
 * The frame length prefix: an unsigned LEB128 varint (multiformats unsigned-varint), 7 bits per
 * byte, least significant group first, high bit set on every byte but the last. Jiayi accepts
 * only the minimal encoding (no trailing 0x80 0x00 padding) so that one length has one encoding,
 * and never more bytes than the protocol's maximum frame needs.
 */

/** Bytes needed to encode `value` (a non-negative safe integer). */
export function lengthPrefixBytes(value: number): number {
  let bytes = 1
  let rest = Math.floor(value / 128)
  while (rest > 0) {
    bytes++
    rest = Math.floor(rest / 128)
  }
  return bytes
}

export function encodeLengthPrefix(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new NetError('BadOptions', 'length must be a non-negative integer')
  const out = new Uint8Array(lengthPrefixBytes(value))
  let rest = value
  for (let i = 0; i < out.length; i++) {
    const low = rest % 128
    rest = Math.floor(rest / 128)
    out[i] = rest > 0 ? low | 0x80 : low
  }
  return out
}

/**
 * Decodes a length prefix that is being received byte by byte.
 * - Throws RangeError while the varint is incomplete and may still be valid (read another byte).
 * - Throws NetError MalformedFrame for a non-minimal encoding.
 * - Throws NetError FrameTooLarge as soon as the value must exceed `max`: already larger, or
 *   continuing past the number of bytes `max` itself needs.
 */
export function decodeLengthPrefix(buffer: Uint8ArrayList | Uint8Array, max: number): number {
  const maxBytes = lengthPrefixBytes(max)
  let value = 0
  let scale = 1
  for (let i = 0; i < buffer.length; i++) {
    const byte = get(buffer, i)
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw new NetError('MalformedFrame', 'length prefix not minimally encoded')
      if (i !== buffer.length - 1) throw new NetError('MalformedFrame', 'bytes after the length prefix')
      if (value > max) throw new NetError('FrameTooLarge', `frame length ${value} exceeds ${max}`)
      return value
    }
    // More bytes follow, so the value only grows (or the encoding is padded): refuse as soon as it
    // is already too big or needs more bytes than `max` does, without waiting for the rest.
    if (value > max || i + 1 >= maxBytes) throw new NetError('FrameTooLarge', `frame length exceeds ${max}`)
    scale *= 128
  }
  throw INCOMPLETE
}

/**
 * lpStream reads a prefix byte by byte and asks again on a RangeError, so every frame of 128
 * bytes or more throws one. One shared instance: a new error would capture a stack trace each
 * time (a tenth of a frame's cost to read), and nobody ever looks at this one.
 */
const INCOMPLETE = new RangeError('incomplete length prefix')

function get(buffer: Uint8ArrayList | Uint8Array, index: number): number {
  return buffer instanceof Uint8Array ? buffer[index]! : buffer.get(index)
}
