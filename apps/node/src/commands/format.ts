/**
 * Human-readable forms of the Messenger's views (the --json forms are the views themselves).
 * Everything a peer wrote passes through terminal-text.ts on its way to the screen.
 */
import type { ContactView, MessageView } from '@jiayi/core'
import { shownLine, shownText } from '../cli/terminal-text.js'

export const STATUS_MARK: Record<string, string> = {
  queued: '…',
  // In their mailbox on their home node: not on their device yet.
  stored: '✉ in their mailbox',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓ read',
  failed: '✗ not delivered',
  received: '',
}

const STATE_TEXT: Record<string, string> = {
  accepted: 'contact',
  'pending-in': 'wants to add you',
  'pending-out': 'request sent',
}

/** The name the user sees for a contact: their remark (备注) if they gave one, else the card's. */
export function nameOf(c: Pick<ContactView, 'name' | 'remark'>): string {
  return c.remark ?? c.name
}

export function stateText(state: string): string {
  return STATE_TEXT[state] ?? state
}

/** "2026-01-02 10:01" in local time. */
export function shortTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** The extension kind core gives the line it leaves when a contact's safety number changes. */
const SAFETY_NUMBER_CHANGED = 'safety-number-changed'

export function formatMessage(m: MessageView, contactName: string): string {
  // A line from the peer itself, not from the contact.
  if (m.extension?.kind === SAFETY_NUMBER_CHANGED) return `[${shortTime(m.sentAt)}] *** ${shownText(m.text)}`
  const who = m.direction === 'out' ? 'you' : shownLine(contactName)
  // Lines after the first are indented, so a message cannot pass one of its lines off as a
  // message of its own ("[time] Bank: ...").
  const text = m.deleted ? '(deleted)' : shownText(m.text).replace(/\n/g, '\n  ')
  const flags = [m.edited ? '(edited)' : '', m.direction === 'out' ? (STATUS_MARK[m.status] ?? m.status) : '']
  const reactions = shownLine([m.reactions?.mine, m.reactions?.theirs].filter(Boolean).join(' '))
  return `[${shortTime(m.sentAt)}] ${who}: ${text}${flags
    .filter(Boolean)
    .map((f) => `  ${f}`)
    .join('')}${reactions ? `  ${reactions}` : ''}`
}

/** Terminal columns of `text`: East Asian wide characters and emoji take two. */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd)
    const zero = (c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)
    width += zero ? 0 : wide ? 2 : 1
  }
  return width
}

export function formatContacts(list: readonly ContactView[]): string[] {
  if (list.length === 0) return ['No contacts yet. Add someone with: jiayi add <their card link>']
  const rows = list.map((c) => [
    c.id,
    shownLine(c.remark === undefined ? c.name : `${c.remark} (${c.name})`),
    stateText(c.state),
    c.online ? 'online' : 'offline',
    // Post-quantum or not: a classical session is upgraded the next time both are online.
    c.postQuantum ? 'post-quantum' : 'classical',
    [
      c.identityChanged ? `SAFETY NUMBER CHANGED (compare: jiayi verify ${c.id})` : '',
      c.verified ? 'verified' : '',
      // Why the last attempt failed (the message after the contact's name).
      c.lastError ? `not reached: ${c.lastError.message.split(': ').slice(1).join(': ')}` : '',
      // A peer of an older version sends no labels.
      c.labels?.length ? `labels: ${shownLine(c.labels.join(', '))}` : '',
    ]
      .filter(Boolean)
      .join(', '),
  ])
  const header = ['ID', 'NAME', 'STATE', 'NETWORK', 'SESSION', '']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => displayWidth(r[i]!))))
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell + ' '.repeat(widths[i]! - displayWidth(cell)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)]
}

/** The safety number as 12 groups of 5 digits, in 3 rows (the way Signal shows it). */
export function formatSafetyNumber(digits: string): string[] {
  const groups = digits.replace(/\s+/g, '').match(/.{1,5}/g) ?? [digits]
  const rows: string[] = []
  for (let i = 0; i < groups.length; i += 4) rows.push(groups.slice(i, i + 4).join(' '))
  return rows
}
