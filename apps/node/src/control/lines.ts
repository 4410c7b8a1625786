/**
 * Newline-delimited JSON for the Unix-socket transport of the control protocol (@jiayi/api): a
 * byte-stream splitter that keeps multi-byte characters whole, and the line encoder.
 */
import {
  ControlError,
  type ControlNotification,
  type ControlRequest,
  type ControlResponse,
  MAX_MESSAGE_BYTES,
} from '@jiayi/api'

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
      let line: string
      // Most lines arrive whole inside one chunk: decoded in place, without a concatenated copy.
      if (this.parts.length === 0) line = piece.toString('utf8')
      else {
        this.parts.push(piece)
        line = Buffer.concat(this.parts).toString('utf8')
        this.parts = []
        this.size = 0
      }
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
