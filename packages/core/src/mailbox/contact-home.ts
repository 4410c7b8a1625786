/**
 * A contact's home node, as their card or an address update named it: usable only while its
 * certificate verifies, was made by the contact's own identity, and has not expired.
 */
import { bytesToHex, fromBase64 } from '../bytes.js'
import type { ContactRecord } from '../messenger/records.js'
import { type HomeCert, verifyHomeCertificate } from './certificate.js'
import type { HomeNodeRef } from './link.js'

/** Whether `bytes` is a certificate `contact`'s identity made (any validity). */
export function checkedHome(bytes: Uint8Array, contact: Pick<ContactRecord, 'identityKey'>): boolean {
  try {
    return bytesToHex(verifyHomeCertificate(bytes).ownerKey) === contact.identityKey
  } catch {
    return false
  }
}

/** Where the contact's mailbox is now, if anywhere. */
export function homeOf(
  contact: Pick<ContactRecord, 'identityKey' | 'home'>,
  now = Date.now(),
): (HomeNodeRef & { readonly cert: HomeCert }) | undefined {
  if (contact.home === undefined) return undefined
  try {
    const cert = verifyHomeCertificate(fromBase64(contact.home))
    if (bytesToHex(cert.ownerKey) !== contact.identityKey || cert.notAfter * 1000 <= now) return undefined
    return { peerId: cert.homePeerId, addrs: cert.addrs, cert }
  } catch {
    return undefined
  }
}
