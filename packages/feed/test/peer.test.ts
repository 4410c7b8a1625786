/**
 * `openPeer`, the one assembly the daemon, the in-page peer and the helpers share, with real
 * libp2p nodes on 127.0.0.1: it stops in reverse order with the store closed last; a start that
 * fails stops what it started and leaves the store to its caller; a taken port gets the caller's
 * fallback; and a peer asked to keep connections redials a contact that hangs up.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, describe, it } from 'node:test'
import { createAccount, MemoryFileStorage, MemoryStore, MessengerError, storeKey } from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { openPeer, type Peer, type PeerInit } from '../src/index.js'
import { eventually } from './helpers/peers.js'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

async function init(name: string, extra: Partial<PeerInit> = {}): Promise<PeerInit> {
  const store = new MemoryStore()
  await createAccount(store, name)
  return {
    store,
    network: nodeNetwork({ mdns: false }),
    listen: LOOPBACK,
    node: { relayServer: false },
    fileStorage: new MemoryFileStorage(),
    ...extra,
  }
}

function takenPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0 })
    })
  })
}

describe('openPeer', () => {
  const peers: Peer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('stops feed, files, messenger and node before it closes the store, once', async () => {
    const seen: string[] = []
    let peer: Peer | undefined
    const base = await init('Ann')
    peer = await openPeer({
      ...base,
      closeStore: async () => {
        seen.push(`node ${peer?.node.status}`)
        await peer?.feed.post('too late').catch((e: unknown) => seen.push((e as { code: string }).code))
        await base.store.close()
      },
    })
    assert.equal(peer.node.status, 'started')
    assert.ok(peer.node.getMultiaddrs().length > 0)
    await peer.feed.post('hello')
    await Promise.all([peer.stop(), peer.stop()])
    assert.deepEqual(seen, ['node stopped', 'Stopped'], 'closed once, after everything else')
    await assert.rejects(base.store.get(storeKey('x')), 'the store is closed')
  })

  it('without an account, or when it cannot listen, starts nothing and leaves the store open', async () => {
    const store = new MemoryStore()
    await assert.rejects(openPeer({ ...(await init('Bo')), store }), (e: unknown) =>
      MessengerError.is(e, 'NoAccount'),
    )
    const { server, port } = await takenPort()
    try {
      const base = await init('Cy', { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
      await assert.rejects(openPeer(base))
      assert.equal(await base.store.get(storeKey('nothing')), undefined, 'the store is still open')
      // The caller's fallback decides: fresh ports this time.
      const fallbacks: unknown[] = []
      const peer = await openPeer({
        ...base,
        listenFallback: async (error) => {
          fallbacks.push(error)
          return LOOPBACK
        },
      })
      peers.push(peer)
      assert.equal(fallbacks.length, 1)
      assert.ok(!peer.node.getMultiaddrs().some((a) => a.toString().includes(`/tcp/${port}/`)))
    } finally {
      server.close()
    }
  })

  it('keeps a connection to accepted contacts when asked to', async () => {
    const dee = await openPeer(await init('Dee', { keepConnected: { keepAliveMs: 500 } }))
    const eli = await openPeer(await init('Eli'))
    peers.push(dee, eli)
    const eliAtDee = await dee.messenger.addContact(eli.messenger.card().link)
    const request = await eventually(() => eli.messenger.contactList()[0], 10_000, 'the request')
    await eli.messenger.accept(request.id)
    await eventually(() => dee.messenger.contact(eliAtDee.id).state === 'accepted', 10_000, 'accepted')
    // Nothing left to send either way (feed keys, receipts): only the keeper dials from here.
    const deeAtEli = eli.messenger.contactList()[0]!.id
    await eventually(
      async () =>
        (await dee.messenger.outboxSize(eliAtDee.id)) + (await eli.messenger.outboxSize(deeAtEli)) === 0,
    )
    await Promise.all([
      dee.feed.settled(),
      eli.feed.settled(),
      dee.messenger.settled(),
      eli.messenger.settled(),
    ])
    const dropped = new Promise((resolve) =>
      dee.node.addEventListener('peer:disconnect', resolve, { once: true }),
    )
    await eli.node.hangUp(dee.node.peerId)
    await dropped
    await eventually(() => dee.connection(eli.peerId), 10_000, 'Dee dials Eli again')
  })
})
