/**
 * Both ends of /jiayi/mailbox-notice/1: the home node tells its owner's devices that are
 * connected to it right now that a deposit came, so a device that stays connected (a browser
 * tab, a laptop behind NAT holding its relay slot) fetches at once, not only at its next start
 * or reconnection. A push on the connection the device already holds: no polling, no dial.
 *
 * The notice carries the number of items waiting and nothing else; the device answers it with
 * an ordinary fetch (`owner.ts`), so a lost notice costs nothing that the next connection would
 * not repair, and a forged one (only the home node's peer id is listened to) costs one fetch.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { framedHandler } from '../net/framed-handler.js'
import { type FramedStream, framedStreamFor } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { MAX_INBOUND_STREAMS, PROTOCOL_MAILBOX_NOTICE } from '../net/protocols.js'
import { MailboxError } from './errors.js'
import { MailboxNotice } from './mailbox-wire.pb.js'

/** A notice that cannot be written in this time is dropped (the device fetches on reconnection). */
const NOTICE_TIMEOUT_MS = 5_000

/**
 * The home node's side: one notice in flight per device; deposits while it is in flight make
 * one more after it, not one each.
 */
export class MailboxNotifier {
  /** Devices with a notice in flight, and whether another is owed after it. */
  private readonly inFlight = new Map<string, boolean>()
  private sent = 0

  constructor(
    private readonly node: JiayiNode,
    /** Items waiting now in the box of `device`. */
    private readonly waiting: (device: string) => number,
  ) {}

  /** Mail came for `devices`: tell each that holds a direct connection to us. */
  notify(devices: readonly string[]): void {
    for (const device of devices) this.send(device)
  }

  /** Notices written so far. */
  count(): number {
    return this.sent
  }

  private send(device: string): void {
    if (this.inFlight.has(device)) {
      this.inFlight.set(device, true)
      return
    }
    const connection = directConnection(this.node, device)
    if (connection === undefined) return
    this.inFlight.set(device, false)
    void this.write(connection, device).finally(() => {
      const again = this.inFlight.get(device) === true
      this.inFlight.delete(device)
      if (again) this.send(device)
    })
  }

  private async write(connection: Connection, device: string): Promise<void> {
    const signal = AbortSignal.timeout(NOTICE_TIMEOUT_MS)
    let framed: FramedStream | undefined
    try {
      framed = framedStreamFor(
        await connection.newStream(PROTOCOL_MAILBOX_NOTICE, { signal }),
        PROTOCOL_MAILBOX_NOTICE,
      )
      await framed.write(MailboxNotice.encode({ items: this.waiting(device) }), { signal })
      await framed.close({ signal })
      this.sent++
    } catch (error) {
      // A device from before notices (the protocol is unsupported) or one going away: it fetches
      // at its next connection, as without notices.
      framed?.abort(error instanceof Error ? error : new Error('notice failed'))
    }
  }
}

/** An open connection to `peer` that is not relayed (a device that reserved a slot holds one). */
function directConnection(node: JiayiNode, peer: string): Connection | undefined {
  let id: ReturnType<typeof peerIdFromString>
  try {
    id = peerIdFromString(peer)
  } catch {
    return undefined
  }
  return node.getConnections(id).find((c) => c.status === 'open' && c.limits == null)
}

/**
 * The device's side: serves notices from `homePeerId()` only (anyone else is refused with
 * NotAllowed and `onRefused` is told), calling `onNotice` for each. Returns the unregister.
 */
export async function handleMailboxNotices(
  node: JiayiNode,
  homePeerId: () => string | undefined,
  onNotice: (items: number) => void,
  onRefused: (code: string, peer: PeerId) => void,
): Promise<() => Promise<void>> {
  await node.handle(
    PROTOCOL_MAILBOX_NOTICE,
    framedHandler(
      PROTOCOL_MAILBOX_NOTICE,
      async (framed, connection) => {
        if (connection.remotePeer.toString() !== homePeerId())
          throw new MailboxError('NotAllowed', 'only our home node sends mailbox notices')
        const bytes = await framed.read()
        if (bytes === null) return
        let notice: MailboxNotice
        try {
          notice = MailboxNotice.decode(bytes)
        } catch (cause) {
          throw new MailboxError('BadRequest', 'not a mailbox notice', { cause })
        }
        onNotice(notice.items)
      },
      { onRefused: (r) => onRefused(r.code, r.remotePeer) },
    ),
    { maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_MAILBOX_NOTICE] },
  )
  return () => node.unhandle(PROTOCOL_MAILBOX_NOTICE).catch(() => undefined)
}
