/**
 * Security headers. Scripts, styles and the API come from the server itself only; images and
 * audio may also be blob: and data: URLs the app makes from fetched files; WebSockets may go to
 * other peers (the in-page peer dials them). Nothing may frame the app, and nothing it loads may
 * be sniffed into a script.
 */
import type { ServerResponse } from 'node:http'

export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws')
  // ws: and wss: anywhere: opened without a token, the app is a full peer that dials other peers'
  // WebSocket listeners (WebRTC is not subject to connect-src).
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws} ws: wss:`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ')
}

export function setSecurityHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(origin))
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
  res.setHeader('Permissions-Policy', 'camera=(self), microphone=(self), geolocation=(), payment=(), usb=()')
  if (origin.startsWith('https:')) res.setHeader('Strict-Transport-Security', 'max-age=31536000')
}

/** For downloads: nothing in the file may run, even if a browser is told to render it. */
export const DOWNLOAD_CSP = "default-src 'none'; sandbox"

/** Types a browser may show inline from the API; anything else is served as a download. */
export const INLINE_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'audio/webm',
  'audio/ogg',
  'audio/mpeg',
  'audio/mp4',
  'audio/wav',
  'video/webm',
  'video/mp4',
])
