/**
 * What the add-contact form reads (a pasted link, a camera, a picture) may be a contact's card or
 * a group's invite: one place to paste or scan either, so nobody has to know which kind a QR code
 * is before scanning it. Core checks the link itself; this only tells the two apart.
 */

/** A contact card: `jiayi:add/…`, or the web app's address with `#add=…`. */
export const isCardLink = (text: string): boolean =>
  /^(jiayi:add\/|https?:\/\/[^#\s]+\/?#add=)/i.test(text.trim())

/** A group invite: `jiayi:group/…` (a QR code holds it upper-cased). */
export const isGroupLink = (text: string): boolean => /^jiayi:group\//i.test(text.trim())
