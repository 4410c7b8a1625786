/**
 * The existing device's side of linking (`jiayi devices link`, Settings "Link a device") and of
 * unlinking, over /jiayi/link/1 (PROTOCOL.md "Linking a device").
 *
 * 1. `create()` makes a one-time link (secret + our addresses, 5-minute expiry).
 * 2. The new device dials us and proves it holds the secret (a MAC bound to both peer ids); we
 *    prove it back. The link is used up from that moment, whatever happens next.
 * 3. Both show a 6-digit code made from the secret and both peer ids. The person types the code
 *    the NEW device shows into this one (`confirm`): only this side can tell its own new device
 *    from someone who copied the link, since whoever holds the link can work out the code of the
 *    connection they made themselves. A wrong code ends the link.
 * 4. We send the identity key, then the records (handover.ts), then the new device list naming
 *    both devices. The new device stores everything but its account and says so; only then is
 *    the list ours and announced to contacts, and we say so in turn: the new device writes its
 *    account on that. A device killed in between leaves nothing linked: the new home has no
 *    account until the end, and our list is unchanged until the new device holds the rest.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { fromUtf8, randomBytes } from '../bytes.js'
import { isNewerDeviceList, MAX_DEVICES, nextDeviceList, verifyDeviceList } from '../identity/device-list.js'
import { encodeIdentityKeyPair } from '../identity/identity.js'
import type { MessengerCore } from '../messenger/core.js'
import { contactIdFor } from '../messenger/ids.js'
import { framedHandler, openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import { DeviceError, refusal } from './errors.js'
import { countHandover, handoverRecords, historyChoice } from './handover.js'
import { checkLinkMac, deviceLink, LINK_SECRET_BYTES, LINK_TTL_MS, linkCode, linkMac } from './link.js'
import { LinkFrame } from './link-wire.pb.js'
import { type DeviceView, deviceNameOf, deviceViews, ownDeviceAddrsKey } from './own-list.js'
import { SeenDevices } from './seen.js'

export type { DeviceView }

type Bytes = Uint8Array<ArrayBuffer>

export const PROTOCOL_LINK = '/jiayi/link/1'
/** A frame holds a batch of records; one record larger than a batch gets a frame of its own. */
export const LINK_MAX_FRAME_BYTES = 8 * 1024 * 1024
const BATCH_BYTES = 256 * 1024
const HELLO_TIMEOUT_MS = 20_000
const STORED_TIMEOUT_MS = 120_000
const TELL_TIMEOUT_MS = 5_000

export interface LinkOffer {
  readonly link: string
  /** The link in upper case: the whole QR code stays in alphanumeric mode. */
  readonly qr: string
  /** ISO 8601. */
  readonly expiresAt: string
  /** The 6-digit code; null until the new device has connected (it depends on both devices). */
  readonly code: string | null
}

export type LinkStatus =
  | { readonly state: 'waiting' }
  | {
      readonly state: 'code'
      readonly code: string
      readonly device: { readonly id: string; readonly name: string }
    }
  | { readonly state: 'transfer'; readonly done: number; readonly total: number }
  | { readonly state: 'linked'; readonly device: DeviceView }
  | { readonly state: 'failed'; readonly error: string; readonly message: string }

interface HeldLink {
  readonly secret: Uint8Array
  readonly expiresAt: number
  used: boolean
}

export interface DeviceLinkerOptions {
  /** How long a link works (default LINK_TTL_MS; JIAYI_LINK_TTL_MS in tests). */
  readonly ttlMs?: number
  readonly now?: () => number
}

export class DeviceLinker {
  private readonly links: HeldLink[] = []
  private status: LinkStatus = { state: 'waiting' }
  private seq = 0
  private readonly waiters = new Set<() => void>()
  private pendingConfirm: ((code: string) => void) | undefined
  /** When each of our other devices was last heard from (ms), kept in the store (seen.ts). */
  private readonly seen: SeenDevices
  private readonly ttlMs: number
  private readonly now: () => number
  /** Called when one of our devices told us we are removed, after the store was wiped. */
  onRemoved: () => void = () => {}

  constructor(
    private readonly core: MessengerCore,
    options: DeviceLinkerOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? LINK_TTL_MS
    this.now = options.now ?? Date.now
    this.seen = new SeenDevices(core.store)
  }

  async start(): Promise<void> {
    const handler = framedHandler(PROTOCOL_LINK, (framed, connection) => this.serve(framed, connection), {
      maxFrameBytes: LINK_MAX_FRAME_BYTES,
      onRefused: (r) => this.core.refuse(PROTOCOL_LINK, 'bad-request', r.remotePeer),
    })
    await this.seen.load((peer) => this.isOtherDevice(peer))
    await this.core.node.handle(PROTOCOL_LINK, handler, { maxInboundStreams: 2 })
    void this.reachOwnDevices().catch(() => undefined)
  }

  /** Dials our other devices where they were last known to listen: they hear from us, we from them. */
  private async reachOwnDevices(): Promise<void> {
    const bytes = await this.core.store.get(ownDeviceAddrsKey())
    if (bytes === undefined) return
    const known = JSON.parse(fromUtf8(bytes)) as Record<string, string[]>
    const me = this.core.peerId.toString()
    for (const d of this.core.ownDeviceList().devices) {
      const addrs = known[d.peerId]
      if (d.peerId === me || !Array.isArray(addrs) || addrs.length === 0) continue
      await this.core.node
        .dial(
          addrs.map((a) => multiaddr(`${a}/p2p/${d.peerId}`)),
          { signal: AbortSignal.timeout(TELL_TIMEOUT_MS) },
        )
        .catch(() => undefined)
    }
  }

  async stop(): Promise<void> {
    this.pendingConfirm = undefined
    this.set({ state: 'failed', error: 'LinkFailed', message: 'the peer stopped' })
    await this.core.node.unhandle(PROTOCOL_LINK).catch(() => undefined)
    await this.seen.flush()
  }

  devices(): DeviceView[] {
    // A device connected now is heard from now.
    for (const connection of this.core.node.getConnections()) this.heard(connection.remotePeer.toString())
    return deviceViews(this.core.ownDeviceList(), this.core.peerId.toString(), this.seen.map)
  }

  private isOtherDevice(peer: string): boolean {
    return (
      peer !== this.core.peerId.toString() && this.core.ownDeviceList().devices.some((d) => d.peerId === peer)
    )
  }

  /** A peer connected: if it is one of our devices, we heard from it now. */
  heard(peer: string): void {
    if (this.isOtherDevice(peer)) this.seen.heard(peer, this.now())
  }

  /**
   * A new one-time link, working for `ttlMs` (at most the linker's own expiry, 5 minutes by
   * default); any earlier link still waiting stops working.
   */
  create(ttlMs?: number): LinkOffer {
    for (const l of this.links) l.used = true
    const ttl = ttlMs === undefined ? this.ttlMs : Math.max(1, Math.min(ttlMs, this.ttlMs))
    const held: HeldLink = {
      secret: randomBytes(LINK_SECRET_BYTES),
      expiresAt: this.now() + ttl,
      used: false,
    }
    // Expired and used links are kept a while so that a late try is told why, not "unknown".
    while (this.links.length >= 16) this.links.shift()
    this.links.push(held)
    this.pendingConfirm = undefined
    this.set({ state: 'waiting' })
    const link = deviceLink({
      peerId: this.core.peerId.toString(),
      addrs: this.core.cardAddrs(),
      secret: held.secret,
      expiresAt: held.expiresAt,
    })
    return { link, qr: link.toUpperCase(), expiresAt: new Date(held.expiresAt).toISOString(), code: null }
  }

  /** The link's progress, once it is past `after` (a long poll: resolves at once when it is). */
  async wait(after: number, timeoutMs = 30_000): Promise<LinkStatus & { readonly seq: number }> {
    if (this.seq <= after) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs)
        const waiters = this.waiters
        function done() {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        this.waiters.add(done)
      })
    }
    return { ...this.status, seq: this.seq }
  }

  /** The code the new device shows, typed here: the handover starts, or (wrong) the link ends. */
  async confirm(code: string): Promise<LinkStatus & { readonly seq: number }> {
    const pending = this.pendingConfirm
    if (pending === undefined || this.status.state !== 'code')
      throw new DeviceError('NotLinking', 'no new device is waiting for its code (没有等待验证码的新设备)')
    this.pendingConfirm = undefined
    const expected = this.status.code
    pending(code.trim())
    if (code.trim() !== expected) throw refusal('WrongCode')
    return { ...this.status, seq: this.seq }
  }

  private set(status: LinkStatus): void {
    this.status = status
    this.seq++
    for (const w of [...this.waiters]) w()
  }

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    const first = LinkFrame.decode((await framed.read({ timeoutMs: HELLO_TIMEOUT_MS })) ?? new Uint8Array())
    if (first.removedList !== undefined) return this.removed(framed, first.removedList, connection.remotePeer)
    if (first.hello === undefined) throw new DeviceError('LinkFailed', 'no hello')
    const me = this.core.peerId.toString()
    const them = connection.remotePeer.toString()
    const held = this.links.find((l) => checkLinkMac(l.secret, 'new', me, them, first.hello!.mac))
    const refuse = async (code: string) => {
      // Counted like every refusal: a peer trying links it does not hold shows in `stats`.
      this.core.counters.refuse(PROTOCOL_LINK, 'not-allowed')
      await framed.write(LinkFrame.encode({ refused: code }))
      await framed.close()
    }
    if (held === undefined) return refuse('LinkUnknown')
    if (held.used) return refuse('LinkUsed')
    if (this.now() > held.expiresAt) return refuse('LinkExpired')
    held.used = true
    await framed.write(LinkFrame.encode({ proof: linkMac(held.secret, 'old', me, them) as Bytes }))
    const name = deviceNameOf(first.hello.name, 'New device')
    const code = linkCode(held.secret, me, them)
    const nextFrame = framed.read().catch(() => null)
    const typed = await new Promise<string | undefined>((resolve) => {
      this.pendingConfirm = resolve
      this.set({ state: 'code', code, device: { id: them, name } })
      // The person has until the link's expiry to compare the codes.
      const left = Math.max(0, held.expiresAt - this.now())
      setTimeout(() => resolve(undefined), left).unref?.()
      // The new device giving up ends the wait too. Its next frame (if any) is its "stored".
      void nextFrame.then(() => resolve(undefined))
    })
    if (typed !== code) {
      this.pendingConfirm = undefined
      const error = typed === undefined ? 'LinkFailed' : 'WrongCode'
      this.set({ state: 'failed', error, message: refusal(error).message })
      return refuse(error)
    }
    try {
      await this.handOver(framed, them, name, first.hello.historyDays, nextFrame)
    } catch (error) {
      this.set({ state: 'failed', error: 'LinkFailed', message: refusal('LinkFailed').message })
      throw error
    }
  }

  private async handOver(
    framed: FramedStream,
    them: string,
    name: string,
    days: number,
    nextFrame: Promise<Uint8Array | null>,
  ): Promise<void> {
    const core = this.core
    const current = core.ownDeviceList()
    if (current.devices.length >= MAX_DEVICES) {
      await framed.write(LinkFrame.encode({ refused: 'TooManyDevices' }))
      throw new DeviceError('TooManyDevices', `a person has at most ${MAX_DEVICES} devices`)
    }
    const history = historyChoice(days)
    const now = this.now()
    // What was committed reaches the store before we read it.
    await core.store.flushed()
    const total = await countHandover(core.store, history, now)
    this.set({ state: 'transfer', done: 0, total })
    await framed.write(
      LinkFrame.encode({
        account: { identity: encodeIdentityKeyPair(core.account.identity) as Bytes, name: core.account.name },
        total,
      }),
    )
    let batch: { key: Uint8Array; value: Uint8Array }[] = []
    let size = 0
    let done = 0
    const flush = async () => {
      if (batch.length === 0) return
      await framed.write(LinkFrame.encode({ entries: batch as never }))
      done += batch.length
      batch = []
      size = 0
      this.set({ state: 'transfer', done, total })
    }
    const me = contactIdFor(core.account.identity.signing.publicKey)
    for await (const [key, value] of handoverRecords(core.store, { history, me, now })) {
      if (key.length + value.length + 64 > LINK_MAX_FRAME_BYTES) continue // no record is near this
      if (size + key.length + value.length + 16 > BATCH_BYTES) await flush()
      batch.push({ key, value })
      size += key.length + value.length + 16
    }
    await flush()
    const themKey = peerIdFromString(them).publicKey
    if (themKey === undefined) throw new DeviceError('LinkFailed', 'the new device has no public key')
    const next = nextDeviceList(core.account.identity, current, (devices) => [
      ...devices.filter((d) => d.peerId !== them),
      { deviceKey: themKey.raw, name, linkedAt: Math.floor(now / 1000) },
    ])
    await framed.write(LinkFrame.encode({ deviceList: next as Bytes }))
    const answer = await Promise.race([
      nextFrame,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), STORED_TIMEOUT_MS).unref?.()),
    ])
    if (answer === null || LinkFrame.decode(answer).stored !== true)
      throw new DeviceError('LinkFailed', 'the new device did not confirm it stored everything')
    // Only now: the new device holds everything, so contacts may start writing to it.
    const list = await core.setOwnDeviceList(next)
    // The new device writes its account on this answer only (join.ts). The list is ours already:
    // a new device gone in this last moment stays listed until `devices remove` takes it off.
    await framed
      .write(LinkFrame.encode({ stored: true }))
      .catch(() => core.log.warn('the new device went away before it heard it is linked'))
    this.seen.heard(them, this.now())
    const device = this.devices().find((d) => d.id === them)!
    this.set({ state: 'linked', device })
    core.log.info('device linked', { devices: list.devices.length })
    await framed.close()
  }

  /**
   * Removes one of our other devices from the list: re-signed, stored, announced to contacts
   * (addresses.ts), and the removed device is told if it can be reached now (it wipes its store).
   */
  async remove(id: string): Promise<DeviceView[]> {
    const core = this.core
    const current = core.ownDeviceList()
    if (id === core.peerId.toString())
      throw new DeviceError(
        'ThisDevice',
        'a device cannot remove itself; remove it from another of your devices (不能移除当前设备)',
      )
    if (!current.devices.some((d) => d.peerId === id))
      throw new DeviceError('UnknownDevice', `no device ${id} is on your list (设备列表中没有此设备)`)
    const next = nextDeviceList(core.account.identity, current, (devices) =>
      devices.filter((d) => d.peerId !== id),
    )
    await core.setOwnDeviceList(next)
    this.seen.forget(id)
    await this.tell(id, next).catch((error) =>
      core.log.info('the removed device could not be told', {
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
    return this.devices()
  }

  private async tell(id: string, list: Uint8Array): Promise<void> {
    const peer = peerIdFromString(id)
    const signal = AbortSignal.timeout(TELL_TIMEOUT_MS)
    const framed = await openFramed(this.core.node, peer, PROTOCOL_LINK, {
      maxFrameBytes: LINK_MAX_FRAME_BYTES,
      signal,
    })
    await framed.write(LinkFrame.encode({ removedList: list as Bytes }))
    await framed.read({ timeoutMs: TELL_TIMEOUT_MS }).catch(() => null)
    await framed.close().catch(() => undefined)
  }

  /** One of our devices says we are removed: believed only for a newer list of our identity without us. */
  private async removed(framed: FramedStream, bytes: Uint8Array, from: PeerId): Promise<void> {
    const core = this.core
    const list = verifyDeviceList(bytes, core.account.identity.signing.publicKey)
    const me = core.peerId.toString()
    const held = core.ownDeviceList()
    if (!isNewerDeviceList(list, held) || list.devices.some((d) => d.peerId === me))
      throw new DeviceError('LinkFailed', 'not a removal of this device')
    if (!held.devices.some((d) => d.peerId === from.toString()))
      throw new DeviceError('LinkFailed', 'the sender is not one of our devices')
    await framed.write(LinkFrame.encode({ stored: true }))
    await framed.close().catch(() => undefined)
    core.log.warn('this device was removed from its account: wiping its store')
    this.onRemoved()
  }
}
