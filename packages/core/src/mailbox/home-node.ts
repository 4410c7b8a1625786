/**
 * A keyless home node, assembled: its own libp2p key (kept in its store; no account, no identity
 * key, no session keys), a libp2p node, and the mailbox server. `jiayi start --serve` runs this;
 * tests call it too. What it serves and for whom is decided by the certificate its owner gives it
 * (server.ts), not here.
 */
import { decodeDeviceKey, encodeDeviceKey, generateDeviceKey } from '../identity/device.js'
import type { JiayiNode, NetworkStack } from '../net/network-stack.js'
import { createJiayiNode } from '../net/node-factory.js'
import type { RelayServerLimits } from '../net/relay-limits.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { MAX_HOME_ADDRS } from './certificate.js'
import { homeLink } from './link.js'
import { type MailboxLimits, MailboxServer, type MailboxServerInit } from './server.js'

const NODE_KEY = key('home', 'node-key')

export interface HomeNodeInit {
  readonly store: Store
  readonly network: NetworkStack
  readonly listen: readonly string[]
  readonly limits?: Partial<MailboxLimits>
  /** The relay's limits (home-relay.ts HOME_RELAY_LIMITS by default). */
  readonly relayLimits?: Partial<RelayServerLimits>
  readonly log?: MailboxServerInit['log']
}

export interface RunningHomeNode {
  readonly node: JiayiNode
  readonly mailbox: MailboxServer
  /** Relay requests refused so far (strangers asking for a slot or a connection). */
  relayRefused(): { reservation: number; connection: number }
  /** The `jiayi:home/…` link its owner adds (its peer id and current addresses). */
  link(): string
  stop(): Promise<void>
}

export async function openHomeNode(init: HomeNodeInit): Promise<RunningHomeNode> {
  const stored = await init.store.get(NODE_KEY)
  const privateKey = stored === undefined ? await generateDeviceKey() : decodeDeviceKey(stored)
  if (stored === undefined) await init.store.put(NODE_KEY, encodeDeviceKey(privateKey))
  // The relay asks the mailbox who the owner and the contacts are; it exists once the node does.
  let mailbox: MailboxServer | undefined
  const relayRefused = { reservation: 0, connection: 0 }
  const node = await createJiayiNode({
    privateKey,
    network: init.network,
    listen: init.listen,
    relayServer: false,
    homeRelay: {
      access: {
        isOwnerDevice: (peer) => mailbox?.isOwnerDevice(peer) === true,
        isContact: (peer) => mailbox?.isOwnersContact(peer) === true,
      },
      ...(init.relayLimits === undefined ? {} : { limits: init.relayLimits }),
      onRefused: (what, peer) => {
        relayRefused[what]++
        init.log?.('relay refused', { what, peer: peer.toString() })
      },
    },
  })
  // Its public listen addresses are confirmed at once (AutoNAT needs four peers dialling back):
  // they go into the link, identify and every relay reservation's answer.
  node.services.reach?.confirmListenAddrs()
  try {
    mailbox = await MailboxServer.open({
      node,
      store: init.store,
      ...(init.limits === undefined ? {} : { limits: init.limits }),
      ...(init.log === undefined ? {} : { log: init.log }),
    })
  } catch (error) {
    await node.stop()
    throw error
  }
  const served = mailbox
  return {
    node,
    mailbox: served,
    relayRefused: () => ({ ...relayRefused }),
    link: () => homeLink({ peerId: node.peerId.toString(), addrs: linkAddrs(node) }),
    async stop() {
      await served.stop()
      await node.stop()
    },
  }
}

/**
 * The addresses a link carries: TCP first (every Node peer dials it), the most reachable first;
 * and, when the home node serves browsers over HTTPS, its best `/tls/ws` address in the last
 * place, since a browser dials nothing else.
 */
function linkAddrs(node: JiayiNode): string[] {
  const addrs = node.getMultiaddrs().map((a) => a.toString().replace(/\/p2p\/[^/]+$/, ''))
  const rank = (a: string) =>
    (/\/tcp\/\d+$/.test(a) ? 0 : 4) +
    (/^\/ip[46]\/(127\.|::1)/.test(a) ? 2 : 0) +
    (/^\/ip4\/(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a) ? 1 : 0)
  const sorted = addrs.sort((a, b) => rank(a) - rank(b))
  const picked = sorted.slice(0, MAX_HOME_ADDRS)
  const tls = sorted.find((a) => /\/tls\/ws$/.test(a))
  if (tls !== undefined && !picked.includes(tls)) picked[MAX_HOME_ADDRS - 1] = tls
  return picked
}
