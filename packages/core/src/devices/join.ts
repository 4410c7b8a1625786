/**
 * The new device's side of linking (`jiayi init --link LINK`; the web app's "Link to my other
 * device"): dial the link's device, prove we hold the secret, show the code, then take the
 * identity key, the records and the new device list, say they are stored, and write the account
 * LAST, once the existing device has taken the new list and said so. Until that final write the
 * home holds no identity (nothing half-linked); a new try starts by clearing whatever a broken one
 * left.
 *
 * The handover survives a broken stream: we dial again and ask to continue after the last record
 * we stored (or, with everything stored, for the existing device's answer). Through the person's
 * home node every relayed connection ends after 4 MiB or 10 minutes (relay-limits), so a larger
 * history arrives over several connections in turn.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { utf8 } from '../bytes.js'
import { type DeviceKey, devicePeerId } from '../identity/device.js'
import { listsDevice, verifyDeviceList } from '../identity/device-list.js'
import { decodeIdentityKeyPair } from '../identity/identity.js'
import { type Account, accountRecord } from '../messenger/account.js'
import { Keys } from '../messenger/keys.js'
import { openFramed } from '../net/framed-handler.js'
import type { JiayiNode } from '../net/network-stack.js'
import type { BatchOp, Store } from '../store/store.js'
import { DeviceError, LINK_REFUSALS, refusal } from './errors.js'
import { asNewDevice, type HistoryChoice, handedOverKey, historyDays } from './handover.js'
import { checkLinkMac, decodeDeviceLink, linkCode, linkMac } from './link.js'
import { LinkFrame } from './link-wire.pb.js'
import { LINK_MAX_FRAME_BYTES, PROTOCOL_LINK } from './linker.js'
import { deviceNameOf, ownDeviceAddrsKey, ownDeviceListKey } from './own-list.js'

type Bytes = Uint8Array<ArrayBuffer>

export interface JoinOptions {
  readonly link: string
  /** The new device's store: empty, or left over from a broken try (it is cleared). */
  readonly store: Store
  /** A started node on `deviceKey`, for dialling only. */
  readonly node: JiayiNode
  readonly deviceKey: DeviceKey
  /** This device's name on the list (default "New device"). */
  readonly name?: string
  readonly history?: HistoryChoice
  /** The code to show; the person types it into the existing device. */
  readonly onCode?: (code: string) => void
  readonly onProgress?: (done: number, total: number) => void
  /** The stream broke during the handover and it continues on a new one (`done` records so far). */
  readonly onResume?: (done: number, total: number) => void
  readonly now?: () => number
  readonly signal?: AbortSignal
}

const DIAL_TIMEOUT_MS = 15_000
const FRAME_TIMEOUT_MS = 60_000
/** How long we try to reach the other device again after the handover's stream broke. */
const RESUME_WINDOW_MS = 15_000
const RESUME_RETRY_MS = 1_000
/** Breaks in a row with nothing received in between: the way cannot carry the next frame. */
const MAX_FRUITLESS_BREAKS = 3

/** The stream ended or failed between frames (as opposed to a frame that says no). */
class BrokenStream extends Error {}

/** Links this device; returns the account it now holds (the existing device's identity, our key). */
export async function joinByLink(options: JoinOptions): Promise<Account> {
  const now = options.now ?? Date.now
  const link = decodeDeviceLink(options.link)
  if (now() > link.expiresAt) throw refusal('LinkExpired')
  const store = options.store
  if ((await store.get(Keys.account())) !== undefined)
    throw new DeviceError('AccountExists', 'this home already holds an identity (此处已有身份)')
  // Leftovers of a try that broke off (kill -9 in the middle) go first.
  await clearStore(store)
  const me = devicePeerId(options.deviceKey).toString()
  const addrs = link.addrs.map((a) => multiaddr(`${a}/p2p/${link.peerId}`))
  let framed: Awaited<ReturnType<typeof openFramed>>
  // Also through a relay (limited connection): the other device may be reachable only through
  // its home node.
  const dial = (signal: AbortSignal) =>
    openFramed(options.node, addrs, PROTOCOL_LINK, {
      maxFrameBytes: LINK_MAX_FRAME_BYTES,
      runOnLimitedConnection: true,
      signal,
    })
  try {
    framed = await dial(options.signal ?? AbortSignal.timeout(DIAL_TIMEOUT_MS))
  } catch (cause) {
    throw new DeviceError(
      'LinkFailed',
      `cannot reach the device that made the link; is it running and on this network? (无法连接到生成链接的设备) [${(cause as Error)?.message}]`,
      { cause },
    )
  }
  try {
    await framed.write(
      LinkFrame.encode({
        hello: {
          mac: linkMac(link.secret, 'new', link.peerId, me) as Bytes,
          name: deviceNameOf(options.name, 'New device'),
          historyDays: historyDays(options.history ?? { days: 90 }),
        },
      }),
    )
    const readOrBreak = async (timeoutMs = FRAME_TIMEOUT_MS) => {
      let bytes: Uint8Array | null
      try {
        bytes = await framed.read({ timeoutMs })
      } catch (cause) {
        // The other device went away (killed, offline), or a relay ended the connection.
        throw new BrokenStream('the stream broke', { cause })
      }
      if (bytes === null) throw new BrokenStream('the stream ended')
      const frame = LinkFrame.decode(bytes)
      if (frame.refused !== undefined) throw refusal(frame.refused)
      return frame
    }
    // Before the handover, a broken stream ends the link.
    const read = (timeoutMs?: number) =>
      readOrBreak(timeoutMs).catch((error) => {
        throw error instanceof BrokenStream ? brokenOff(error.cause) : error
      })
    const resumeMac = linkMac(link.secret, 'new', link.peerId, me) as Bytes
    const peer = peerIdFromString(link.peerId)
    /**
     * A new stream on which the handover continues after `after`. When none opens, the other
     * device went away (killed, offline): LinkFailed, as for a break before the handover.
     */
    const resume = async (after: Uint8Array, done: number, stored: boolean) => {
      framed.abort(new Error('continuing on a new stream'))
      // A connection that went silent is dropped, or the dial would take it again.
      for (const c of options.node.getConnections(peer)) c.abort(new Error('the link stream broke'))
      const deadline = now() + RESUME_WINDOW_MS
      for (;;) {
        try {
          const next = await dial(AbortSignal.timeout(DIAL_TIMEOUT_MS))
          await next.write(
            LinkFrame.encode({ resume: { mac: resumeMac, after: after as Bytes, done, stored } }),
          )
          return next
        } catch (cause) {
          if (now() + RESUME_RETRY_MS > deadline || options.signal?.aborted) throw brokenOff(cause)
          await new Promise((resolve) => setTimeout(resolve, RESUME_RETRY_MS))
        }
      }
    }
    const proof = await read()
    if (proof.proof === undefined || !checkLinkMac(link.secret, 'old', link.peerId, me, proof.proof))
      throw new DeviceError(
        'LinkFailed',
        'the other device does not hold this link’s secret (对方设备无法证明持有链接)',
      )
    options.onCode?.(linkCode(link.secret, link.peerId, me))
    // The person compares the codes and types ours into the other device: until the link expires.
    const first = await read(Math.max(FRAME_TIMEOUT_MS, link.expiresAt - now() + 10_000))
    if (first.account === undefined) throw refusal('LinkFailed')
    const identity = decodeIdentityKeyPair(first.account.identity)
    const total = first.total ?? 0
    let done = 0
    options.onProgress?.(0, total)
    let list: Uint8Array | undefined
    // The key of the last record stored: a resumed handover continues after it.
    let after: Uint8Array = new Uint8Array()
    let fruitless = 0
    let received = false
    while (list === undefined) {
      let frame: LinkFrame
      try {
        frame = await readOrBreak()
      } catch (error) {
        if (!(error instanceof BrokenStream)) throw error
        fruitless = received ? 1 : fruitless + 1
        if (fruitless >= MAX_FRUITLESS_BREAKS) throw refusal('LinkInterrupted')
        framed = await resume(after, done, false)
        received = false
        options.onResume?.(done, total)
        continue
      }
      received = true
      if (frame.entries.length > 0) {
        const ops: BatchOp[] = []
        for (const e of frame.entries) {
          // Only what a handover may carry: never an account, keys or sessions of another device.
          if (handedOverKey(e.key)) ops.push({ type: 'put', key: e.key, value: asNewDevice(e.key, e.value) })
        }
        await store.batch(ops)
        after = frame.entries[frame.entries.length - 1]!.key
        done += frame.entries.length
        options.onProgress?.(done, total)
      }
      list = frame.deviceList
    }
    const verified = verifyDeviceList(list, identity.signing.publicKey)
    if (!listsDevice(verified, me))
      throw new DeviceError('LinkFailed', 'the new device list does not name this device')
    const account: Account = {
      name: first.account.name,
      identity,
      deviceKey: options.deviceKey,
      createdAt: now(),
    }
    await store.batch([
      { type: 'put', key: ownDeviceListKey(), value: verified.bytes },
      { type: 'put', key: ownDeviceAddrsKey(), value: utf8(JSON.stringify({ [link.peerId]: link.addrs })) },
    ])
    // Everything but the account is stored. The existing device takes the new list only now,
    // and says so; a device that goes away before (or a "stored" lost with it) leaves a list
    // without us, and so this home must stay without an identity too. A stream that breaks here
    // continues on a new one whose resume frame says `stored`.
    let answer: LinkFrame | undefined
    let said = false
    fruitless = 0
    while (answer === undefined) {
      try {
        if (!said)
          await framed.write(LinkFrame.encode({ stored: true })).catch((cause) => {
            throw new BrokenStream('the stream broke', { cause })
          })
        said = true
        answer = await readOrBreak()
      } catch (error) {
        if (!(error instanceof BrokenStream)) throw error
        if (++fruitless >= MAX_FRUITLESS_BREAKS) throw refusal('LinkInterrupted')
        framed = await resume(after, done, true)
        said = true
        options.onResume?.(done, total)
      }
    }
    if (answer.stored !== true) throw refusal('LinkFailed')
    // The last write: from here on the home is this person's device.
    await store.put(Keys.account(), accountRecord(account))
    await framed.close().catch(() => undefined)
    return account
  } catch (error) {
    framed.abort(error instanceof Error ? error : new Error('linking failed'))
    throw error
  }
}

/** The other device went away mid-link (killed, offline): its stream reset or went quiet. */
function brokenOff(cause: unknown): DeviceError {
  return new DeviceError('LinkFailed', LINK_REFUSALS.LinkFailed!, { cause })
}

async function clearStore(store: Store): Promise<void> {
  let ops: BatchOp[] = []
  for await (const [key] of store.iterate()) {
    ops.push({ type: 'del', key })
    if (ops.length >= 1000) {
      await store.batch(ops)
      ops = []
    }
  }
  if (ops.length > 0) await store.batch(ops)
}

/** Deletes every record of a removed device (the account first: it stops being anyone at once). */
export async function wipeStore(store: Store): Promise<void> {
  await store.del(Keys.account())
  await clearStore(store)
}
