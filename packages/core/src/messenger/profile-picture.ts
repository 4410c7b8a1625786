/**
 * Profile pictures (头像): a small image each person sets for themselves and sends to their
 * accepted contacts through the session, never in the QR code (a card stays small enough to
 * scan). The app makes the picture small (a 128 px JPEG is ~5 KB); this module only bounds it.
 *
 * Payload `profile-picture` (an extension): one byte naming the image type (1 JPEG, 2 PNG,
 * 3 WebP) and the image; the type byte alone means "no picture any more". The image's own magic
 * bytes must match the type. The newest by the payload's sent time wins, so a retried old
 * picture cannot replace a newer one.
 *
 * Who gets ours: every accepted contact, once per picture. Which picture each was sent is kept
 * (`picsent <cid>`), so a contact accepted later, or one that was offline when we changed it,
 * gets the current one; the outbox delivers it when they are back. Only an accepted contact's
 * picture is taken (trust.ts 'profile-picture'); a request shows the default avatar.
 */
import { bytesToHex, concatBytes } from '../bytes.js'
import { sha256Hash } from '../crypto/primitives.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { key } from '../store/keys.js'
import type { MessengerCore } from './core.js'
import { MessengerError } from './errors.js'
import type { ContactId } from './ids.js'
import type { CoreExtensionContext, CoreExtensionHandler } from './inbound.js'
import { Tx } from './tx.js'

export const PROFILE_PICTURE_EXTENSION = 'profile-picture'
/** Big enough for a sharp 256 px JPEG, small enough to go with every new contact. */
export const MAX_PICTURE_BYTES = 64 * 1024

const TYPES: Readonly<Record<number, string>> = { 1: 'image/jpeg', 2: 'image/png', 3: 'image/webp' }
const CODES: Readonly<Record<string, number>> = { 'image/jpeg': 1, 'image/png': 2, 'image/webp': 3 }

export interface ProfilePicture {
  readonly mime: 'image/jpeg' | 'image/png' | 'image/webp'
  readonly data: Uint8Array
  /** The first 16 hex digits of the image's SHA-256: names this picture (caches, "sent"). */
  readonly hash: string
}

const PictureKeys = {
  mine: () => key('picture'),
  of: (cid: ContactId) => key('picture', cid),
  sent: (cid: ContactId) => key('picsent', cid),
}

/** Whether `data` starts the way an image of `mime` does. */
function looksLike(mime: string, data: Uint8Array): boolean {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, j) => data[i + j] === b)
  if (mime === 'image/jpeg') return at(0, 0xff, 0xd8, 0xff)
  if (mime === 'image/png') return at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)
  if (mime === 'image/webp') return at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)
  return false
}

/** Checks a picture to set or take; undefined for a malformed one. */
export function checkedPicture(mime: string, data: Uint8Array): ProfilePicture | undefined {
  if (CODES[mime] === undefined || data.length === 0 || data.length > MAX_PICTURE_BYTES) return undefined
  if (!looksLike(mime, data)) return undefined
  return { mime: mime as ProfilePicture['mime'], data, hash: bytesToHex(sha256Hash(data)).slice(0, 16) }
}

/** Stored form: sent time (8 bytes, big-endian ms), type byte, image. */
function encodeStored(at: number, picture: ProfilePicture): Uint8Array {
  const head = new Uint8Array(9)
  new DataView(head.buffer).setBigUint64(0, BigInt(at))
  head[8] = CODES[picture.mime]!
  return concatBytes(head, picture.data)
}

function decodeStored(bytes: Uint8Array): { at: number; picture: ProfilePicture } | undefined {
  if (bytes.length < 10) return undefined
  const at = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0))
  const picture = checkedPicture(TYPES[bytes[8]!] ?? '', bytes.subarray(9))
  return picture && { at, picture }
}

/** What forgetting a contact removes of theirs: their picture, and which of ours they had. */
export function forgetPictures(tx: Tx, cid: ContactId): void {
  tx.del(PictureKeys.of(cid))
  tx.del(PictureKeys.sent(cid))
}

export class ProfilePictures {
  constructor(private readonly core: MessengerCore) {}

  readonly extension: CoreExtensionHandler = {
    requires: 'profile-picture',
    receive: (ctx) => this.receive(ctx),
  }

  /** Our picture, read once (then kept with every change `set` makes); null until read. */
  private own: ProfilePicture | undefined | null = null
  /** Which picture each contact was sent ('none' for none), as read or written. */
  private readonly sent = new Map<ContactId, string>()

  async mine(): Promise<ProfilePicture | undefined> {
    if (this.own === null) {
      const bytes = await this.core.store.get(PictureKeys.mine())
      this.own = bytes === undefined ? undefined : decodeStored(bytes)?.picture
    }
    return this.own
  }

  async of(cid: ContactId): Promise<ProfilePicture | undefined> {
    const bytes = await this.core.store.get(PictureKeys.of(cid))
    return bytes === undefined ? undefined : decodeStored(bytes)?.picture
  }

  /** Sets (or, with undefined, removes) our picture and sends it to every accepted contact. */
  async set(picture: { mime: string; data: Uint8Array } | undefined): Promise<ProfilePicture | undefined> {
    const checked = picture && checkedPicture(picture.mime, picture.data)
    if (picture !== undefined && checked === undefined) {
      throw new MessengerError(
        'BadInput',
        `a profile picture must be a JPEG, PNG or WebP image of at most ${MAX_PICTURE_BYTES / 1024} KiB`,
      )
    }
    if (checked === undefined) await this.core.store.del(PictureKeys.mine())
    else await this.core.store.put(PictureKeys.mine(), encodeStored(Date.now(), checked))
    this.own = checked
    await this.sendToAll()
    return checked
  }

  /** A removed contact (its records go with forgetPictures): added again, it gets the picture again. */
  forgotten(cid: ContactId): void {
    this.sent.delete(cid)
  }

  /** Sends our current picture to each accepted contact that does not have it yet. */
  async sendToAll(): Promise<void> {
    for (const c of this.core.contacts.all()) if (c.state === 'accepted') await this.sendTo(c.id)
  }

  /** Sends our current picture (or its removal) to `cid` unless they were sent it already. */
  async sendTo(cid: ContactId): Promise<void> {
    const core = this.core
    if (core.stopped) return
    const mine = await this.mine()
    const current = mine?.hash ?? 'none'
    // Contact events are frequent (presence, sessions): most find the contact up to date here.
    if (this.sent.get(cid) === current) return
    await core.queue.run(cid, async () => {
      const contact = core.contacts.get(cid)
      if (contact === undefined || contact.state !== 'accepted') return
      if (!this.sent.has(cid)) {
        const bytes = await core.store.get(PictureKeys.sent(cid))
        // Nobody needs to hear "no picture" who was never sent one.
        this.sent.set(cid, bytes === undefined ? 'none' : new TextDecoder().decode(bytes))
      }
      if (this.sent.get(cid) === current) return
      const tx = new Tx()
      const body =
        mine === undefined ? Uint8Array.of(0) : concatBytes(Uint8Array.of(CODES[mine.mime]!), mine.data)
      await core.encryptToOutbox(tx, cid, { kind: 'extension', extension: PROFILE_PICTURE_EXTENSION, body })
      tx.put(PictureKeys.sent(cid), new TextEncoder().encode(current))
      tx.after(() => this.sent.set(cid, current))
      await core.commit(tx)
    })
  }

  private async receive(ctx: CoreExtensionContext): Promise<void> {
    const { tx, contact, payload, body } = ctx
    const core = this.core
    const counted = () => void core.refuse(PROTOCOL_MSG, 'bad-payload')
    if (body.length === 0) return counted()
    const removed = body.length === 1
    const picture = removed ? undefined : checkedPicture(TYPES[body[0]!] ?? '', body.subarray(1))
    if (!removed && picture === undefined) return counted()
    const stored = await core.store.get(PictureKeys.of(contact.id))
    const storedAt = stored === undefined ? 0 : (decodeStored(stored)?.at ?? 0)
    if (payload.sentAt < storedAt) return // an older picture, retried: the newer one stays
    const { picture: _old, ...rest } = contact
    if (picture === undefined) {
      tx.del(PictureKeys.of(contact.id))
      core.putContact(tx, { ...rest, updatedAt: Date.now() }, 'update')
    } else {
      tx.put(PictureKeys.of(contact.id), encodeStored(payload.sentAt, picture))
      core.putContact(tx, { ...rest, picture: picture.hash, updatedAt: Date.now() }, 'update')
    }
  }
}
