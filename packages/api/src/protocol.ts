/**
 * The control protocol between a peer and what drives it: the `jiayi` commands (over a Unix
 * socket, one message per line), the web app as the UI of a node (over a loopback WebSocket, one
 * message per text frame) and the web app as a full peer (in process, through `localClient`).
 * Transport-independent: one JSON object per message. The grammar and the method list are in
 * ../PROTOCOL.md.
 *
 *   request       {"id": 1, "method": "send", "params": {"contact": "alice", "text": "hi"}}
 *   response      {"id": 1, "result": {...}}
 *               | {"id": 1, "error": {"code": "UnknownContact", "message": "...", "type": "MessengerError"}}
 *   notification  {"event": "message", ...}            (only after a "subscribe" request)
 */

/** The longest line either side accepts (a card link is ~1 KiB, a message text at most 64 KiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024

export type RequestId = number | string

export interface ControlRequest {
  readonly id: RequestId
  readonly method: string
  readonly params?: Record<string, unknown>
}

export interface ControlErrorBody {
  readonly code: string
  readonly message: string
  /** The error class on the peer side (MessengerError, CardError, ControlError, ...). */
  readonly type?: string
}

export type ControlResponse =
  | { readonly id: RequestId | null; readonly result: unknown }
  | { readonly id: RequestId | null; readonly error: ControlErrorBody }

export interface ControlNotification {
  readonly event: string
  readonly [field: string]: unknown
}

export type ControlErrorCode =
  /** Not JSON, not an object, or no usable id/method. */
  | 'BadRequest'
  /** No such method. */
  | 'UnknownMethod'
  /** A parameter is missing, of the wrong type, out of range, or not known. */
  | 'BadParams'
  /** The message is longer than MAX_MESSAGE_BYTES. */
  | 'TooLarge'
  /**
   * The answer would be longer than MAX_MESSAGE_BYTES, so it is not sent: ask for less (a
   * smaller page). The connection stays open.
   */
  | 'ReplyTooLarge'
  /** The peer failed; the details are in its log. */
  | 'Internal'
  /** This peer does not offer that (no files layer, no feed, no such account operation). */
  | 'Unsupported'
  /** The client has too many large requests running and waiting (work.ts); ask again later. */
  | 'Busy'
  /** The peer closed this idle connection to make room for a newer client. */
  | 'Closed'

export class ControlError extends Error {
  readonly code: ControlErrorCode

  constructor(code: ControlErrorCode, message: string) {
    super(message)
    this.name = 'ControlError'
    this.code = code
  }

  static is(value: unknown, code?: ControlErrorCode): value is ControlError {
    return value instanceof ControlError && (code === undefined || value.code === code)
  }
}

function isRequestId(value: unknown): value is RequestId {
  return (
    (typeof value === 'number' && Number.isSafeInteger(value)) ||
    (typeof value === 'string' && value.length > 0 && value.length <= 64)
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Parses one incoming message. Never throws: a bad message gives the error response to send
 * (with the id when one could be read). JSON.parse's own message quotes the input, which may be
 * a user's text, so it is never passed on.
 */
export function parseRequest(text: string): ControlRequest | { readonly reject: ControlResponse } {
  const fail = (id: RequestId | null, code: ControlErrorCode, message: string) => ({
    reject: { id, error: { code, message, type: 'ControlError' } },
  })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail(null, 'BadRequest', 'a request must be one JSON object')
  }
  if (!isPlainObject(value)) return fail(null, 'BadRequest', 'a request must be one JSON object')
  const id = isRequestId(value.id) ? value.id : null
  if (id === null) return fail(null, 'BadRequest', 'a request needs an "id" (an integer or a short string)')
  if (typeof value.method !== 'string' || value.method.length === 0 || value.method.length > 64)
    return fail(id, 'BadRequest', 'a request needs a "method" name')
  if (value.params !== undefined && !isPlainObject(value.params))
    return fail(id, 'BadParams', '"params" must be an object')
  return { id, method: value.method, ...(value.params === undefined ? {} : { params: value.params }) }
}

export function isResponse(value: unknown): value is ControlResponse {
  return isPlainObject(value) && 'id' in value && ('result' in value || 'error' in value)
}

/** A notification names its event and is no response (a `contact` event has an `id` of its own). */
export function isNotification(value: unknown): value is ControlNotification {
  return (
    isPlainObject(value) && typeof value.event === 'string' && !('result' in value) && !('error' in value)
  )
}
