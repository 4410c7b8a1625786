/**
 * The web UI's secret: 256 random bits, new on every start, printed only in the URL fragment
 * (`#token=…`, which browsers never send to the server nor put in a Referer). Compared in
 * constant time over SHA-256 digests, so neither the content nor the length of a guess leaks.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const TOKEN_BYTES = 32

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex')
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined || given.length > 256) return false
  return timingSafeEqual(digest(expected), digest(given))
}

/** The token from `Authorization: Bearer <token>`. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer ([0-9a-f]{1,256})$/i.exec(header ?? '')
  return m?.[1]
}

/** WebSocket clients cannot set headers: the token rides as a subprotocol `jiayi-token.<token>`. */
export const WS_PROTOCOL = 'jiayi.v1'
export const WS_TOKEN_PREFIX = 'jiayi-token.'

export function tokenFromProtocols(header: string | undefined): string | undefined {
  for (const p of (header ?? '').split(',')) {
    const t = p.trim()
    if (t.startsWith(WS_TOKEN_PREFIX)) return t.slice(WS_TOKEN_PREFIX.length)
  }
  return undefined
}
