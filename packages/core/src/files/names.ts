/**
 * File names and MIME types from a peer are untrusted text. `sanitizeFileName` turns any offered
 * name into one safe to create inside the files folder on Linux, macOS and Windows: no directory
 * part (so no traversal and no absolute path), no control, bidi or NUL characters, none of the
 * characters Windows forbids, no leading dot (hidden files, `.` and `..`), no trailing dot or
 * space, not a Windows reserved device name, at most 200 UTF-8 bytes with the extension kept.
 */
import { utf8 } from '../bytes.js'
import { stripUnsafeNameChars } from '../unsafe-chars.js'
import { MAX_MIME_BYTES } from './limits.js'

const MAX_SAFE_NAME_BYTES = 200
const FALLBACK_NAME = 'file'

// Forbidden in Windows file names (the separators are handled before).
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g
// CON, PRN, AUX, NUL, COM0-9, LPT0-9 (also with superscript digits), with or without extension.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i

export function sanitizeFileName(offered: string): string {
  let name = typeof offered === 'string' ? offered.normalize('NFC') : ''
  // Controls and the format characters that reorder or hide text (unsafe-chars.ts): U+202E
  // RIGHT-TO-LEFT OVERRIDE turns "gpj.exe" into "exe.jpg" on screen.
  name = stripUnsafeNameChars(name)
  // Only the last path component counts, whichever separator the sender's system uses.
  const parts = name.split(/[/\\]/)
  name = parts[parts.length - 1] ?? ''
  name = name.replace(WINDOWS_FORBIDDEN, '_')
  name = name.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '')
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`
  name = truncateName(name, MAX_SAFE_NAME_BYTES)
  return name === '' ? FALLBACK_NAME : name
}

/** Splits "report.final.pdf" into ["report.final", ".pdf"]; a short tail after the last dot only. */
export function splitExtension(name: string): [base: string, extension: string] {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || name.length - dot > 16) return [name, '']
  return [name.slice(0, dot), name.slice(dot)]
}

/** Cuts the base name (never the extension, never inside a character) to fit `maxBytes`. */
function truncateName(name: string, maxBytes: number): string {
  if (utf8(name).length <= maxBytes) return name
  const [base, extension] = splitExtension(name)
  const budget = maxBytes - utf8(extension).length
  let out = ''
  let used = 0
  for (const ch of base) {
    const n = utf8(ch).length
    if (used + n > budget) break
    out += ch
    used += n
  }
  return (out.replace(/[\s.]+$/, '') || FALLBACK_NAME) + extension
}

/** The n-th alternative for a name already taken: "a.pdf" -> "a (1).pdf". */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name
  const [base, extension] = splitExtension(name)
  return `${base} (${n})${extension}`
}

const MIME_SYNTAX = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/

/** A bare `type/subtype` (no parameters), lower case, at most 127 bytes. */
export function isValidMime(mime: string): boolean {
  return typeof mime === 'string' && mime.length <= MAX_MIME_BYTES && MIME_SYNTAX.test(mime)
}

export const DEFAULT_MIME = 'application/octet-stream'

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ppt': 'application/vnd.ms-powerpoint',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.rtf': 'application/rtf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.zip': 'application/zip',
  '.7z': 'application/x-7z-compressed',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/opus',
  '.wav': 'audio/wav',
  '.weba': 'audio/webm',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
}

/** A MIME type from the name's extension; application/octet-stream when unknown. */
export function guessMime(name: string): string {
  const [, extension] = splitExtension(name)
  return MIME_BY_EXTENSION[extension.toLowerCase()] ?? DEFAULT_MIME
}
