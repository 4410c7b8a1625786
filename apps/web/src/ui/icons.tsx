/** Line icons (24×24, currentColor), decorative: the control they sit in carries the name. */
import type { JSX } from 'preact'

const PATHS = {
  chats: 'M4 5h16v11H8l-4 4z M8 9h8 M8 12h5',
  contacts: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 20c0-4 4-6 8-6s8 2 8 6',
  group:
    'M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z M2 20c0-3.5 3-5.5 7-5.5s7 2 7 5.5 M16 4.5a3.5 3.5 0 0 1 0 6.5 M18 14.8c2.4.6 4 2.4 4 5.2',
  moments: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M12 3v9l6 3 M12 12l-6 3',
  settings:
    'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M19 12l2-1-1-3-2 .3-1.3-1.3.3-2-3-1-1 2h-2l-1-2-3 1 .3 2L6 7.3 4 7 3 10l2 1v2l-2 1 1 3 2-.3 1.3 1.3-.3 2 3 1 1-2h2l1 2 3-1-.3-2 1.3-1.3 2 .3 1-3-2-1z',
  send: 'M3 11l18-8-8 18-2-8z M11 13l10-10',
  attach: 'M20 12l-8 8a5 5 0 0 1-7-7l9-9a3.5 3.5 0 0 1 5 5l-9 9a2 2 0 0 1-3-3l8-8',
  mic: 'M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5 11a7 7 0 0 0 14 0 M12 18v3',
  stop: 'M7 7h10v10H7z',
  back: 'M15 5l-7 7 7 7',
  more: 'M5 12h.01 M12 12h.01 M19 12h.01',
  check: 'M5 12l4 4 10-10',
  checks: 'M2 12l4 4 10-10 M9 16l1 1 12-12',
  clock: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M12 7v5l3 2',
  // A tray with a letter in it: a message waiting in the recipient's mailbox.
  inbox: 'M3 13l3-8h12l3 8v6H3z M3 13h5l1 2h6l1-2h5 M9 9h6',
  alert: 'M12 3l10 18H2z M12 10v4 M12 17v.01',
  download: 'M12 4v11 M7 10l5 5 5-5 M5 20h14',
  file: 'M6 3h8l5 5v13H6z M14 3v5h5',
  image: 'M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15 9h.01',
  qr: 'M4 4h6v6H4z M14 4h6v6h-6z M4 14h6v6H4z M14 14h2v2h-2z M18 18h2v2h-2z M18 14h2 M14 18h2',
  heart: 'M12 20s-7-4.5-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.5-7 10-7 10z',
  comment: 'M4 5h16v11H9l-5 4z',
  shield: 'M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z M8 12l3 3 5-6',
  plus: 'M12 5v14 M5 12h14',
  close: 'M6 6l12 12 M18 6L6 18',
  trash: 'M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13',
  play: 'M7 4l13 8-13 8z',
  reply: 'M10 8L4 13l6 5 M4 13h10a6 6 0 0 1 6 6',
  forward: 'M14 8l6 5-6 5 M20 13H10a6 6 0 0 0-6 6',
  smile: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M8 14s1.5 2 4 2 4-2 4-2 M9 9h.01 M15 9h.01',
  edit: 'M4 20h4L20 8l-4-4L4 16z',
  tag: 'M3 12V4h8l9 9-8 8z M7.5 7.5h.01',
  link: 'M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1 M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1',
} as const

export type IconName = keyof typeof PATHS

export function Icon(props: { name: IconName; size?: number; class?: string }): JSX.Element {
  const size = props.size ?? 22
  return (
    <svg
      class={`icon ${props.class ?? ''}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill={props.name === 'heart' || props.name === 'play' ? 'currentColor' : 'none'}
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[props.name]} />
    </svg>
  )
}
