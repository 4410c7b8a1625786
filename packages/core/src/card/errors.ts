import { defineError } from '../errors.js'

/**
 * Why a card was refused. Stable codes:
 * - BadLink: the text is not a Jiayi add link (jiayi:add/… or …#add=…).
 * - TooLarge: the link or payload exceeds the size limit.
 * - BadEncoding: not upper-case base32, or not a canonical card structure.
 * - BadVersion: a card version this build does not know.
 * - BadField: a field is out of bounds (name, key length, address count or format).
 * - BadSignature: the identity's signature over the card does not verify.
 */
export const CardError = defineError('CardError', [
  'BadLink',
  'TooLarge',
  'BadEncoding',
  'BadVersion',
  'BadField',
  'BadSignature',
] as const)
export type CardError = InstanceType<typeof CardError>
