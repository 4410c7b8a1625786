/**
 * Finding our contacts on the LAN by names only the two of us can make (net/lan-rendezvous.ts),
 * instead of announcing this device's peer id to everyone.
 *
 * Each pair shares a key from the static X25519 agreement of the two identity keys (both know
 * the other's from the card), through HKDF-SHA256 with its own label, so it is used for nothing
 * else. The name by which A looks for B in an epoch is HMAC-SHA256(key, label || epoch || B's
 * peer id), first 16 bytes in hex: B answers it, A does not (A's own query is not a name A
 * answers), and it changes every EPOCH_MS. The answer is B's LAN addresses sealed with
 * XChaCha20-Poly1305 under the pair's key, the name as associated data.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { bytesToHex, concatBytes, hexToBytes, u32be, utf8 } from '../bytes.js'
import { hkdfSha256, hmacSha256, seal, tryOpen, x25519Shared } from '../crypto/primitives.js'
import type { IdentityKeyPair } from '../identity/identity.js'
import type { RendezvousEntry } from '../net/lan-rendezvous.js'
import type { MessengerCore } from './core.js'
import type { ContactId } from './ids.js'
import type { ContactRecord } from './records.js'

/** How long a name lasts: an observer can follow a device for this long at most. */
export const EPOCH_MS = 15 * 60_000
const KEY_INFO = utf8('Jiayi_LanRendezvous_v1')
const NAME_LABEL = utf8('Jiayi_LanRendezvous_Name')
const MAX_ADDRS = 8

export interface PairKeys {
  readonly nameKey: Uint8Array
  readonly sealKey: Uint8Array
}

export function pairKeys(self: IdentityKeyPair, theirAgreementKey: Uint8Array): PairKeys {
  const okm = hkdfSha256(x25519Shared(self.agreement.secretKey, theirAgreementKey), undefined, KEY_INFO, 64)
  return { nameKey: okm.slice(0, 32), sealKey: okm.slice(32, 64) }
}

/** The name by which someone looks for `target` (a peer id) in `epoch`. */
export function rendezvousName(keys: PairKeys, target: string, epoch: number): string {
  const mac = hmacSha256(
    keys.nameKey,
    concatBytes(NAME_LABEL, u32be(epoch), peerIdFromString(target).toMultihash().bytes),
  )
  return bytesToHex(mac.subarray(0, 16))
}

export function epochAt(ms: number): number {
  return Math.floor(ms / EPOCH_MS)
}

export class LanPresence {
  private timer: ReturnType<typeof setTimeout> | undefined
  private pending = false
  private unsubscribe: (() => void) | undefined
  /** Pair keys by contact, with the agreement key they were made from. */
  private readonly keys = new Map<ContactId, { readonly agreementKey: string; readonly keys: PairKeys }>()

  constructor(
    private readonly core: MessengerCore,
    private readonly now: () => number,
  ) {}

  start(): void {
    if (this.core.node.services.lanRendezvous === undefined) return
    this.unsubscribe = this.core.events.on('contact', () => this.soon())
    this.refresh()
  }

  stop(): void {
    this.unsubscribe?.()
    clearTimeout(this.timer)
    this.timer = undefined
    this.core.node.services.lanRendezvous?.setEntries([])
  }

  /** Contacts changed: new entries once the burst of changes is over. */
  private soon(): void {
    if (this.pending) return
    this.pending = true
    queueMicrotask(() => {
      this.pending = false
      if (!this.core.stopped) this.refresh()
    })
  }

  /** New entries for every contact, and a timer for the next epoch. */
  refresh(): void {
    const rendezvous = this.core.node.services.lanRendezvous
    if (rendezvous === undefined || this.core.stopped) return
    const now = this.now()
    const epoch = epochAt(now)
    const contacts = this.core.contacts.all()
    for (const id of this.keys.keys()) if (this.core.contacts.get(id) === undefined) this.keys.delete(id)
    rendezvous.setEntries(contacts.flatMap((c) => this.entry(c, epoch)))
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.refresh(), (epoch + 1) * EPOCH_MS - now + 1)
  }

  private entry(contact: ContactRecord, epoch: number): RendezvousEntry[] {
    const core = this.core
    const self = core.peerId.toString()
    let keys: PairKeys
    try {
      keys = this.keysFor(contact)
    } catch {
      return [] // an agreement key that makes no shared secret (low order): no rendezvous
    }
    // Clocks differ: the neighbouring epochs' names are answered too.
    const answerTo = [epoch, epoch - 1, epoch + 1].map((e) => rendezvousName(keys, self, e))
    return [
      {
        peerId: contact.peerId,
        ask: rendezvousName(keys, contact.peerId, epoch),
        answerTo,
        wanted: () => !core.isOnline(contact.peerId),
        answer: (name, addrs) => seal(keys.sealKey, encodeAddrs(addrs), utf8(name)),
        open: (name, payload) => {
          const plain = tryOpen(keys.sealKey, payload, utf8(name))
          return plain === undefined ? undefined : decodeAddrs(plain)
        },
      },
    ]
  }

  private keysFor(contact: ContactRecord): PairKeys {
    const cached = this.keys.get(contact.id)
    if (cached?.agreementKey === contact.agreementKey) return cached.keys
    const keys = pairKeys(this.core.account.identity, hexToBytes(contact.agreementKey))
    this.keys.set(contact.id, { agreementKey: contact.agreementKey, keys })
    return keys
  }
}

/** count (1) || (length (2) || multiaddr bytes)*, at most MAX_ADDRS. */
function encodeAddrs(addrs: readonly Uint8Array[]): Uint8Array {
  const list = addrs.slice(0, MAX_ADDRS).filter((a) => a.length <= 0xffff)
  const parts: Uint8Array[] = [Uint8Array.of(list.length)]
  for (const a of list) parts.push(Uint8Array.of(a.length >> 8, a.length & 0xff), a)
  return concatBytes(...parts)
}

function decodeAddrs(bytes: Uint8Array): Uint8Array[] | undefined {
  if (bytes.length < 1) return undefined
  const count = bytes[0]!
  if (count > MAX_ADDRS) return undefined
  const out: Uint8Array[] = []
  let at = 1
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) return undefined
    const length = (bytes[at]! << 8) | bytes[at + 1]!
    at += 2
    if (at + length > bytes.length) return undefined
    out.push(bytes.slice(at, at + length))
    at += length
  }
  return at === bytes.length ? out : undefined
}
