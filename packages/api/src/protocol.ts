/**
 * The control protocol between the `jiayi` commands (and, later, the web app) and a running peer.
 * Transport-independent: one JSON object per message. Over the Unix socket each message is one
 * line (newline-delimited JSON, UTF-8); over a WebSocket it will be one text frame. The grammar
 * and method list are in PROTOCOL.md next to this file.
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
  /** The peer failed; the details are in its log. */
  | 'Internal'

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

export function isNotification(value: unknown): value is ControlNotification {
  return isPlainObject(value) && typeof value.event === 'string' && !('id' in value)
}

/**
 * Splits a byte stream into lines. Bytes are kept until a newline so that a multi-byte UTF-8
 * character split across chunks decodes whole. Throws ControlError 'TooLarge' when a line
 * grows past the limit (the caller answers and drops the connection).
 */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0

  constructor(private readonly maxBytes: number = MAX_MESSAGE_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = []
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(0x0a, start)
      if (nl === -1) break
      const piece = chunk.subarray(start, nl)
      this.check(piece.length)
      this.parts.push(piece)
      const line = Buffer.concat(this.parts).toString('utf8')
      this.parts = []
      this.size = 0
      if (line.trim().length > 0) lines.push(line)
      start = nl + 1
    }
    const rest = chunk.subarray(start)
    if (rest.length > 0) {
      this.check(rest.length)
      this.parts.push(rest)
      this.size += rest.length
    }
    return lines
  }

  private check(extra: number): void {
    if (this.size + extra > this.maxBytes) {
      this.parts = []
      this.size = 0
      throw new ControlError('TooLarge', `a message is at most ${this.maxBytes} bytes`)
    }
  }
}

/** One message as a line: JSON never contains a raw newline, so the framing cannot break. */
export function encodeLine(message: ControlRequest | ControlResponse | ControlNotification): string {
  return `${JSON.stringify(message)}\n`
}
