/**
 * The reach service keeps reservations on several relays at once (our home node and contacts'
 * home nodes), on real home nodes on 127.0.0.1. Closing a circuit listener makes libp2p forget
 * every reservation it holds (@libp2p/circuit-relay-v2 4), which would leave the others unrenewed
 * after their hour: dropping one relay must leave the others reserved in libp2p's own store.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { createHomeCertificate } from '../src/mailbox/certificate.js'
import { certifyHomeNode } from '../src/mailbox/client.js'
import { openHomeNode, type RunningHomeNode } from '../src/mailbox/home-node.js'
import { createAccount } from '../src/messenger/account.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually } from './helpers/messenger-peer.js'

/** libp2p's reservation store, read through the circuit transport (internals, hence the guard). */
function libp2pHolds(node: JiayiNode, relay: string): boolean {
  const tm = (node as unknown as { components: { transportManager: { getTransports(): unknown[] } } })
    .components.transportManager
  const transport = tm
    .getTransports()
    .find((t) =>
      String((t as { [Symbol.toStringTag]?: string })[Symbol.toStringTag]).includes('circuit-relay'),
    ) as { reservationStore?: { hasReservation(peer: unknown): boolean } } | undefined
  assert.ok(transport?.reservationStore !== undefined, 'the circuit transport keeps a reservation store')
  return transport.reservationStore.hasReservation(peerIdFromString(relay))
}

describe('reservations on several relays', () => {
  const homes: RunningHomeNode[] = []
  let node: JiayiNode | undefined
  after(async () => {
    await node?.stop()
    await Promise.all(homes.map((h) => h.stop()))
  })

  it('dropping one relay leaves the others reserved', async () => {
    for (let i = 0; i < 2; i++)
      homes.push(
        await openHomeNode({
          store: new MemoryStore(),
          network: nodeNetwork({ mdns: false }),
          listen: ['/ip4/127.0.0.1/tcp/0'],
        }),
      )
    const account = await createAccount(new MemoryStore(), 'Xia')
    node = await createJiayiNode({
      privateKey: account.deviceKey,
      network: nodeNetwork({ mdns: false }),
      listen: [],
      alsoDial: ['loopback'],
      relayServer: false,
    })
    const [own, other] = homes as [RunningHomeNode, RunningHomeNode]
    const addr = (h: RunningHomeNode) => h.node.getMultiaddrs()[0]!.toString()
    const id = (h: RunningHomeNode) => h.node.peerId.toString()
    // Both serve this device (a home node reserves for its owner's devices).
    for (const h of homes) {
      const certificate = createHomeCertificate(account.identity, {
        homePeerId: id(h),
        devices: [node.peerId.toString()],
        addrs: [addr(h)],
        notAfter: Date.now() / 1000 + 3600,
      })
      await certifyHomeNode(node, { peerId: id(h), addrs: [addr(h)] }, certificate)
    }
    const reach = node.services.reach!
    reach.keepReservation(addr(own))
    reach.keepGuestReservations([addr(other)])
    await eventually(() => reach.status().relays.length === 2, 10_000, 'both reserved')
    assert.ok(libp2pHolds(node, id(own)) && libp2pHolds(node, id(other)))
    // The guest's address is ours to give, not libp2p's to announce.
    assert.ok(reach.guestRelays()[0]?.addr?.includes(`/p2p/${id(other)}/p2p-circuit`))
    assert.ok(!node.getMultiaddrs().some((a) => a.toString().includes(`/p2p/${id(other)}/p2p-circuit`)))
    assert.ok(node.getMultiaddrs().some((a) => a.toString().includes(`/p2p/${id(own)}/p2p-circuit`)))

    reach.keepGuestReservations([])
    await eventually(() => libp2pHolds(node!, id(own)), 10_000, 'the home node reserved again in libp2p')
    assert.equal(libp2pHolds(node, id(other)), false)
    assert.deepEqual(reach.status().relays, [id(own)])
  })
})
