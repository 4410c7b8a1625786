/**
 * Link forms of a card. The payload is the binary card in upper-case RFC 4648 base32 without
 * padding: every character is in the QR alphanumeric set (5.5 bits per character), and unlike
 * base45 it has no space, '%' or '+', so it survives being pasted into chats and URL fragments.
 *
 *   jiayi:add/<PAYLOAD>          (text; a QR code uses the all-upper-case JIAYI:ADD/<PAYLOAD>)
 *   <origin>/#add=<PAYLOAD>      (a URL that opens the web app and adds the contact)
 */
import { base32upper } from 'multiformats/bases/base32'
import { type ContactCard, decodeCardBytes, MAX_CARD_BYTES } from './card.js'
import { CardError } from './errors.js'

const SCHEME_PREFIX = 'jiayi:add/'
const FRAGMENT_PREFIX = '#add='
/** Longest link text we try to parse: a maximal card plus a generous origin. */
export const MAX_LINK_CHARS = Math.ceil((MAX_CARD_BYTES * 8) / 5) + 512

export function encodeCardPayload(cardBytes: Uint8Array): string {
  return base32upper.baseEncode(cardBytes)
}

/** `jiayi:add/<payload>` — the link to paste or share as text. */
export function cardLink(cardBytes: Uint8Array): string {
  return SCHEME_PREFIX + encodeCardPayload(cardBytes)
}

/** The text a QR code should hold: upper case, so the whole code stays in alphanumeric mode. */
export function cardQrText(cardBytes: Uint8Array): string {
  return cardLink(cardBytes).toUpperCase()
}

/** `<origin>/#add=<payload>` — a link that opens the web app served at `origin`. */
export function cardWebLink(cardBytes: Uint8Array, origin: string): string {
  return `${origin.replace(/\/+$/, '')}/${FRAGMENT_PREFIX}${encodeCardPayload(cardBytes)}`
}

/** Extracts the payload from any accepted link form; throws CardError BadLink / TooLarge. */
export function linkPayload(text: string): string {
  if (typeof text !== 'string') throw new CardError('BadLink', 'a card link must be text')
  if (text.length > MAX_LINK_CHARS) throw new CardError('TooLarge', 'the link is too long to be a Jiayi card')
  const trimmed = text.trim()
  if (trimmed.toLowerCase().startsWith(SCHEME_PREFIX)) return trimmed.slice(SCHEME_PREFIX.length)
  const hash = trimmed.indexOf(FRAGMENT_PREFIX)
  if (hash >= 0 && /^https?:\/\/[^\s#]+$/i.test(trimmed.slice(0, hash))) {
    return trimmed.slice(hash + FRAGMENT_PREFIX.length)
  }
  throw new CardError('BadLink', 'not a Jiayi card link (expected jiayi:add/… or a link with #add=…)')
}

export function decodeCardPayload(payload: string): Uint8Array {
  // Base32 has no lower-case letters, so case-folding is lossless; it forgives a QR reader or a
  // person that lower-cased the link. The character check runs BEFORE case-folding: Unicode
  // upper-casing maps some non-ASCII letters onto base32 ones ('ſ' → 'S', 'ı' → 'I', 'ß' → 'SS').
  if (payload.length === 0 || !/^[A-Za-z2-7]+$/.test(payload)) {
    throw new CardError(
      'BadEncoding',
      'this link is damaged or cut short (its code is not base32: letters A–Z and digits 2–7); copy it again',
    )
  }
  const upper = payload.toUpperCase()
  if (upper.length > Math.ceil((MAX_CARD_BYTES * 8) / 5))
    throw new CardError('TooLarge', 'the card is too large')
  try {
    return base32upper.baseDecode(upper)
  } catch (cause) {
    throw new CardError('BadEncoding', 'this link is damaged or cut short; copy it again', { cause })
  }
}

/**
 * Decodes a card from a link in any accepted form. Returns only a card whose signature verifies;
 * anything else throws CardError with a stable code and a message that says what is wrong.
 */
export function decodeCard(link: string): ContactCard {
  try {
    return decodeCardBytes(decodeCardPayload(linkPayload(link)))
  } catch (error) {
    if (CardError.is(error)) throw error
    // Belt and braces: a fault in a parser below must still surface as a CardError.
    throw new CardError('BadEncoding', 'the card could not be decoded', { cause: error })
  }
}
