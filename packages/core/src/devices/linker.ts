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
 * 5. A stream that breaks during step 4 is not the end: the new device opens a new one (a new
 *    connection) and says which record it stored last, and the handover continues after it; or
 *    it says it stored everything, and we take the list (if not yet) and say so on the new
 *    stream. A home node's relay ends each relayed connection after 4 MiB or 10 minutes
 *    (relay-limits), so through it a larger history crosses on several connections in turn.
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
/** How long the existing device waits for the new one to continue on a new stream after a break. */
export const LINK_RESUME_WINDOW_MS = 20_000
/**
 * How long, once linked, we still answer a new device that did not hear our `stored`: its wait
 * for a frame (60 s) and its tries to reach us again (15 s), with room to spare.
 */
const LINKED_ANSWER_MS = 120_000

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

/** A stream on which the new device asked to continue a broken handover. */
interface Resumption {
  readonly framed: FramedStream
  readonly after: Uint8Array
  readonly done: number
  /** The new device stored everything already; only its `stored` frame was lost. */
  readonly stored: boolean
  /** Ends the resumed stream's handler once the handover is done with it. */
  readonly release: () => void
  /** It runs on a relayed (limited) connection. */
  readonly limited: boolean
}

/**
 * A handover under way. A resumption from the same new device replaces the stream in use, which
 * may be dead without either side having noticed yet (a connection that went silent).
 */
class Handover {
  private pending: Resumption | undefined
  private waiter: ((r: Resumption | undefined) => void) | undefined
  /** We stored the new list: a resume that says `stored` is answered `stored` once more. */
  linked = false

  constructor(
    readonly them: string,
    readonly secret: Uint8Array,
    public current: FramedStream,
    /** Whether `current` runs on a relayed (limited) connection, which the relay may end. */
    public limited: boolean,
    /** The link it belongs to (`DeviceLinker.generation`): a newer link's status is not its to set. */
    readonly generation: number,
  ) {}

  offer(r: Resumption): void {
    this.pending?.release()
    this.pending = r
    this.current.abort(new DeviceError('LinkFailed', 'continued on a new stream'))
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.(this.take())
  }

  /** The next resumption, or undefined when none comes within `timeoutMs`. */
  next(timeoutMs: number): Promise<Resumption | undefined> {
    const ready = this.take()
    if (ready !== undefined) return Promise.resolve(ready)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        resolve(undefined)
      }, timeoutMs)
      timer.unref?.()
      this.waiter = (r) => {
        clearTimeout(timer)
        resolve(r)
      }
    })
  }

  /** Releases a resumption nobody took (the handover ended). */
  end(): void {
    this.take()?.release()
    this.waiter?.(undefined)
    this.waiter = undefined
  }

  private take(): Resumption | undefined {
    const p = this.pending
    this.pending = undefined
    return p
  }
}

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
  private handover: Handover | undefined
  private generation = 0
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
    // Also on a relayed (limited) connection: the new device may reach us only through our home
    // node. The secret's MAC and the code guard it as on a direct connection.
    await this.core.node.handle(PROTOCOL_LINK, handler, {
      maxInboundStreams: 2,
      runOnLimitedConnection: true,
    })
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
    this.handover?.end()
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
    // A handover still waiting for its new device to come back gives up: a new link replaces it.
    this.generation++
    this.handover?.end()
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

  /** Sets the status when `h` belongs to the newest link. */
  private setFor(h: Handover, status: LinkStatus): void {
    if (h.generation === this.generation) this.set(status)
  }

  private set(status: LinkStatus): void {
    this.status = status
    this.seq++
    for (const w of [...this.waiters]) w()
  }

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    const first = LinkFrame.decode((await framed.read({ timeoutMs: HELLO_TIMEOUT_MS })) ?? new Uint8Array())
    if (first.removedList !== undefined) return this.removed(framed, first.removedList, connection.remotePeer)
    const me = this.core.peerId.toString()
    const them = connection.remotePeer.toString()
    const refuse = (code: string) => this.refuse(framed, code)
    if (first.resume !== undefined) {
      const h = this.handover
      if (h === undefined || h.them !== them || !checkLinkMac(h.secret, 'new', me, them, first.resume.mac))
        return refuse('LinkUnknown')
      const { after, done, stored } = first.resume
      if (h.linked) {
        // The list is ours already; the new device did not hear our `stored` and asks again.
        if (!stored) return refuse('LinkUnknown')
        await framed.write(LinkFrame.encode({ stored: true }))
        return framed.close()
      }
      // The stream stays open until the handover is done with it.
      const limited = connection.limits != null
      return new Promise<void>((release) => h.offer({ framed, after, done, stored, release, limited }))
    }
    if (first.hello === undefined) throw new DeviceError('LinkFailed', 'no hello')
    const held = this.links.find((l) => checkLinkMac(l.secret, 'new', me, them, first.hello!.mac))
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
    const h = new Handover(them, held.secret, framed, connection.limits != null, this.generation)
    try {
      await this.handOver(h, name, first.hello.historyDays, nextFrame)
    } catch (error) {
      this.setFor(h, { state: 'failed', error: 'LinkFailed', message: refusal('LinkFailed').message })
      throw error
    }
  }

  /** Counted like every refusal: a peer trying links it does not hold shows in `stats`. */
  private async refuse(framed: FramedStream, code: string): Promise<void> {
    this.core.counters.refuse(PROTOCOL_LINK, 'not-allowed')
    await framed.write(LinkFrame.encode({ refused: code }))
    await framed.close()
  }

  private async handOver(
    h: Handover,
    name: string,
    days: number,
    firstAnswer: Promise<Uint8Array | null>,
  ): Promise<void> {
    const core = this.core
    const them = h.them
    let framed = h.current
    const current = core.ownDeviceList()
    if (current.devices.length >= MAX_DEVICES) {
      await framed.write(LinkFrame.encode({ refused: 'TooManyDevices' }))
      throw new DeviceError('TooManyDevices', `a person has at most ${MAX_DEVICES} devices`)
    }
    const themKey = peerIdFromString(them).publicKey
    if (themKey === undefined) throw new DeviceError('LinkFailed', 'the new device has no public key')
    const history = historyChoice(days)
    const now = this.now()
    // What was committed reaches the store before we read it.
    await core.store.flushed()
    const total = await countHandover(core.store, history, now)
    this.setFor(h, { state: 'transfer', done: 0, total })
    // Made once: a resumed handover sends the same list.
    const next = nextDeviceList(core.account.identity, current, (devices) => [
      ...devices.filter((d) => d.peerId !== them),
      { deviceKey: themKey.raw, name, linkedAt: Math.floor(now / 1000) },
    ])
    await framed.write(
      LinkFrame.encode({
        account: { identity: encodeIdentityKeyPair(core.account.identity) as Bytes, name: core.account.name },
        total,
      }),
    )
    this.handover = h
    let answer = firstAnswer
    let after: Uint8Array | undefined
    let done = 0
    let release = () => {}
    try {
      for (;;) {
        try {
          await this.sendRecords(framed, { h, history, now, after, done, total, list: next, answer })
          break
        } catch (error) {
          release()
          // A relay ends its connections (data and time limits): the new device continues on a
          // new one. A direct connection that breaks means the new device went away, unless it
          // is already back (it gave up on a stream that went silent).
          const resumed = await h.next(h.limited ? LINK_RESUME_WINDOW_MS : 0)
          if (resumed === undefined) throw error
          framed = resumed.framed
          h.current = framed
          h.limited = resumed.limited
          release = resumed.release
          after = resumed.after
          done = resumed.done
          core.log.info('device link continues on a new stream', { done, total })
          if (resumed.stored) break
          answer = framed.read().catch(() => null)
        }
      }
      // Only now: the new device holds everything but its account, so contacts may start
      // writing to it.
      const list = await core.setOwnDeviceList(next)
      h.linked = true
      // The new device writes its account on this answer only (join.ts). Should it be lost with
      // the stream, the new device asks again on a new one (`resume` with `stored`), answered
      // from `h.linked` for a while (serve).
      await framed
        .write(LinkFrame.encode({ stored: true }))
        .catch(() => core.log.warn('the stream broke before the new device heard it is linked'))
      this.seen.heard(them, this.now())
      const device = this.devices().find((d) => d.id === them)!
      this.setFor(h, { state: 'linked', device })
      core.log.info('device linked', { devices: list.devices.length })
      await framed.close().catch(() => undefined)
    } finally {
      h.end()
      release()
      if (this.handover === h) {
        if (h.linked)
          setTimeout(() => {
            if (this.handover === h) this.handover = undefined
          }, LINKED_ANSWER_MS).unref?.()
        else this.handover = undefined
      }
    }
  }

  /**
   * Sends the records after `after`, then the new list, and waits for the new device's `stored`.
   * Throws when the stream breaks (the caller waits for the new device to continue).
   */
  private async sendRecords(
    framed: FramedStream,
    o: {
      readonly h: Handover
      readonly history: ReturnType<typeof historyChoice>
      readonly now: number
      readonly after: Uint8Array | undefined
      readonly done: number
      readonly total: number
      readonly list: Uint8Array
      readonly answer: Promise<Uint8Array | null>
    },
  ): Promise<void> {
    const { total } = o
    let batch: { key: Uint8Array; value: Uint8Array }[] = []
    let size = 0
    let done = o.done
    this.setFor(o.h, { state: 'transfer', done, total })
    const flush = async () => {
      if (batch.length === 0) return
      await framed.write(LinkFrame.encode({ entries: batch as never }))
      done += batch.length
      batch = []
      size = 0
      this.setFor(o.h, { state: 'transfer', done, total })
    }
    const me = contactIdFor(this.core.account.identity.signing.publicKey)
    const records = handoverRecords(this.core.store, { history: o.history, me, now: o.now, after: o.after })
    for await (const [key, value] of records) {
      if (key.length + value.length + 64 > LINK_MAX_FRAME_BYTES) continue // no record is near this
      if (size + key.length + value.length + 16 > BATCH_BYTES) await flush()
      batch.push({ key, value })
      size += key.length + value.length + 16
    }
    await flush()
    await framed.write(LinkFrame.encode({ deviceList: o.list as Bytes }))
    const answer = await Promise.race([
      o.answer,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), STORED_TIMEOUT_MS).unref?.()),
    ])
    if (answer === null || LinkFrame.decode(answer).stored !== true)
      throw new DeviceError('LinkFailed', 'the new device did not confirm it stored everything')
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
