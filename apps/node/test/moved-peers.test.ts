/**
 * Two peers that both move (new ports) while the other is offline, with no mDNS: each knows
 * only the other's old addresses. A contact they share stayed put and heard both moves, so each
 * finds the other through it (contact-finder.ts), and messages flow again both ways. Real
 * `jiayi` processes on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { cleanup, eventually } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

after(cleanup)

test('two peers that both moved while the other was away find each other through a shared contact', async () => {
  const [alice, bob, carol] = await Promise.all([
    TestPeer.create('Alice'),
    TestPeer.create('Bob'),
    TestPeer.create('Carol'),
  ])
  try {
    const { bAtA, aAtB } = await befriend(alice, bob)
    await befriend(alice, carol)
    await befriend(bob, carol)
    const alicePort = () => alice.proc.ready.addrs[0]
    const bobPort = () => bob.proc.ready.addrs[0]

    // Bob goes away; Alice moves (a new port) and goes away; Bob comes back, moved too; then Alice.
    assert.equal(await bob.stop(), 0)
    const aliceBefore = alicePort()
    await alice.stop()
    await alice.restart()
    assert.notEqual(alicePort(), aliceBefore, 'Alice moved')
    assert.equal(await alice.stop(), 0)
    const bobBefore = bobPort()
    await bob.restart()
    assert.notEqual(bobPort(), bobBefore, 'Bob moved')
    await alice.restart()

    // Each holds only addresses of the other that are gone; Carol heard both moves.
    const sent = await alice.control.send(bAtA, 'found you')
    await eventually(
      async () => (await bob.control.messages(aAtB)).some((m) => m.id === sent.id),
      60_000,
      "Alice's message at Bob",
    )
    const reply = await bob.control.send(aAtB, 'and I you')
    await eventually(
      async () => (await alice.control.messages(bAtA)).some((m) => m.id === reply.id),
      30_000,
      "Bob's reply at Alice",
    )
  } finally {
    await Promise.all([alice.stop(), bob.stop(), carol.stop()])
  }
})
