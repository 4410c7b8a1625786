// Shared by the net*.test.ts files: real libp2p nodes that listen on 127.0.0.1 only.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode, type JiayiNodeOptions } from '../src/net/node-factory.js'
import { type NodeNetworkInit, nodeNetwork } from '../src/net/transports-node.js'

export const LOOPBACK_LISTEN = {
  tcp: '/ip4/127.0.0.1/tcp/0',
  websockets: '/ip4/127.0.0.1/tcp/0/ws',
  webrtcDirect: '/ip4/127.0.0.1/udp/0/webrtc-direct',
} as const

export type LoopbackTransport = keyof typeof LOOPBACK_LISTEN

export interface TestNodeOptions extends Omit<JiayiNodeOptions, 'privateKey' | 'network'> {
  network?: NodeNetworkInit
}

/** A Node peer on 127.0.0.1 (all three listeners unless `listen` says otherwise), mDNS off. */
export async function startTestNode(options: TestNodeOptions = {}): Promise<JiayiNode> {
  const { network, ...rest } = options
  return createJiayiNode({
    privateKey: await generateKeyPair('Ed25519'),
    network: nodeNetwork({ mdns: false, ...network }),
    listen: Object.values(LOOPBACK_LISTEN),
    ...rest,
  })
}

/** The node's listen address for one transport, with its /p2p/ suffix. */
export function addrFor(node: JiayiNode, transport: LoopbackTransport): Multiaddr {
  const found = node.getMultiaddrs().find((ma) => {
    const names = ma.getComponents().map((c) => c.name)
    if (transport === 'webrtcDirect') return names.includes('webrtc-direct')
    if (transport === 'websockets') return names.includes('ws')
    return names.includes('tcp') && !names.includes('ws')
  })
  if (found === undefined) throw new Error(`no ${transport} address`)
  const host = found.getComponents().find((c) => c.name === 'ip4')?.value
  if (host !== '127.0.0.1') throw new Error(`listening outside loopback: ${found.toString()}`)
  return found
}

export async function stopAll(...nodes: Array<JiayiNode | undefined>): Promise<void> {
  await Promise.all(nodes.map((n) => n?.stop()))
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
