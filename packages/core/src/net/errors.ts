import { defineError } from '../errors.js'

/**
 * Failures of the network layer. Codes are stable; messages never carry frame contents.
 * - FrameTooLarge: a frame's length prefix (or a frame we were asked to send) exceeds the
 *   protocol's maximum. Detected from the prefix alone, before the payload is buffered.
 * - MalformedFrame: the length prefix is not a minimal unsigned varint of allowed size.
 * - TruncatedFrame: the stream ended in the middle of a frame.
 * - Timeout: a read or write did not finish in time.
 * - Aborted: the caller's abort signal fired.
 * - StreamError: the underlying stream failed (reset, closed, buffer overflow); see `cause`.
 * - NotAllowed: the remote peer may not use this protocol (not a contact, rate-limited).
 * - BadOptions: the caller passed options that cannot work (e.g. a non-positive frame limit).
 */
export const NetError = defineError('NetError', [
  'FrameTooLarge',
  'MalformedFrame',
  'TruncatedFrame',
  'Timeout',
  'Aborted',
  'StreamError',
  'NotAllowed',
  'BadOptions',
] as const)
export type NetError = InstanceType<typeof NetError>
export type NetErrorCode = NetError['code']
