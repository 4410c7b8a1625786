/**
 * A home node with a mailbox, three `jiayi` processes on loopback: `start --serve` makes a keyless
 * home node whose ready line carries its link; Alice links it (`home-node add`); while she is
 * away Bob's messages go to her mailbox (`stored`); Bob stops too; the home node's disk holds none
 * of their text; it is killed (-9) and started again; Alice starts and gets all three once and in
 * order (route `mailbox`); Bob comes back and sees them delivered.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  cleanup,
  eventually,
  jiayi,
  jiayiJson,
  PeerProcess,
  stablePortArgs,
  tempHome,
} from './helpers/cli.js'
import type { MessageView as View } from './helpers/control.js'

/** Messages say how they travelled (`route`). */
type MessageView = View & { readonly route?: string }

import { befriend, TestPeer } from './helpers/peers.js'

after(cleanup)

test('messages wait in the home node mailbox while the recipient is away', { timeout: 180_000 }, async () => {
  const homeDir = await tempHome()
  // The home node comes back on its port after kill -9, as it does by itself without --listen.
  const homeArgs = ['--serve', ...stablePortArgs().slice(0, 2)]
  let homeNode = await PeerProcess.start(homeDir, homeArgs)
  // Both come back on their ports, as `jiayi start` does by itself without --listen: ports the
  // system never hands to another socket while they are down.
  const aliceArgs = stablePortArgs()
  const bobArgs = stablePortArgs()
  const alice = await TestPeer.create('Alice', aliceArgs)
  const bob = await TestPeer.create('Bob', bobArgs)
  try {
    const ready = homeNode.ready as unknown as { serveLink: string; peerId: string }
    assert.match(ready.serveLink, /^jiayi:home\/[A-Z2-7]+$/)
    // Keyless: its home holds its own store and link, no identity store, no storage key.
    const files = await readdir(homeDir)
    assert.ok(!files.includes('store') && !files.includes('storage.key'), files.join(' '))
    const printed = await jiayiJson<{ link: string; qr: string }>(homeDir, ['home-link'])
    assert.equal(printed.link, ready.serveLink)
    assert.equal(printed.qr, ready.serveLink.toUpperCase())

    const { bAtA, aAtB } = await befriend(alice, bob)
    assert.deepEqual(await jiayiJson(alice.home, ['home-node']), { homeNode: null })
    const reachOf = async (home: string, id: string) =>
      (await jiayiJson<{ id: string; reach: string }[]>(home, ['contacts'])).find((c) => c.id === id)?.reach
    // Connected on loopback: Bob reaches Alice over the LAN.
    assert.equal(await eventually(async () => (await reachOf(bob.home, aAtB)) === 'lan', 15_000, 'lan'), true)
    const added = await jiayiJson<{ homeNode: { peerId: string; addrs: string[] } }>(alice.home, [
      'home-node',
      'add',
      ready.serveLink,
    ])
    assert.equal(added.homeNode.peerId, ready.peerId)
    assert.deepEqual(await jiayiJson(alice.home, ['home-node']), added)
    // Bob learns it from Alice's address update (once her outbox to him is empty, it arrived).
    await eventually(
      async () => (await alice.control.call<number>('outboxSize', { contact: bAtA })) === 0,
      15_000,
      'address update delivered',
    )
    await alice.stop()
    // Away, with a home node on her card: her mailbox.
    await eventually(async () => (await reachOf(bob.home, aAtB)) === 'mailbox', 15_000, 'reach mailbox')

    const ids: string[] = []
    for (const text of ['away 1', 'away 2 离开', 'away 3'])
      ids.push((await jiayiJson<{ id: string }>(bob.home, ['send', aAtB, text])).id)
    const stored = await eventually(
      async () => {
        const list = await jiayiJson<MessageView[]>(bob.home, ['messages', aAtB, '--peek'])
        const mine = list.filter((m) => ids.includes(m.id))
        return mine.length === 3 && mine.every((m) => m.status === 'stored') ? mine : undefined
      },
      20_000,
      'stored at the home node',
    )
    assert.ok(stored.every((m) => m.route === 'mailbox'))
    await bob.stop()

    // The host's disk: the depositor's peer id is there in the clear (what a mailbox may know),
    // the texts are not (Double Ratchet ciphertext). Read before any compaction compresses it.
    const disk = await diskBytes(join(homeDir, 'home-node'))
    assert.ok(disk.includes(Buffer.from(bob.peerId)), 'the scan reads what the store holds')
    for (const text of ['away 1', 'away 2 离开', 'away 3', '离开'])
      assert.ok(!disk.includes(Buffer.from(text)), `"${text}" is on the home node's disk`)

    // kill -9: what it acknowledged to Bob (he holds nothing now) survives.
    await homeNode.stop('SIGKILL')
    homeNode = await PeerProcess.start(homeDir, homeArgs)
    assert.equal((homeNode.ready as unknown as { peerId: string }).peerId, ready.peerId)

    await alice.restart(aliceArgs)
    const aliceReady = alice.proc.ready as unknown as {
      reach: { nat: string; relays: string[]; homeNode: unknown }
    }
    // Her reservation on the home node may be made before the ready line or just after it.
    const { relays, ...rest } = aliceReady.reach
    assert.deepEqual(rest, { nat: 'unknown', mapped: [], homeNode: added.homeNode })
    assert.ok(
      relays.every((r) => r === ready.peerId),
      relays.join(' '),
    )
    // A script reading her `start --json` learns of the reservation either way: in the ready
    // line, or in a `reach` event once it is made.
    if (!relays.includes(ready.peerId))
      await alice.proc.waitFor(
        (l) => l.event === 'reach' && (l.reach as { relays: string[] }).relays.includes(ready.peerId),
        20_000,
      )
    const got = await eventually(
      async () => {
        const list = await jiayiJson<MessageView[]>(alice.home, ['messages', bAtA, '--peek'])
        const incoming = list.filter((m) => m.direction === 'in')
        return incoming.length >= 3 ? incoming : undefined
      },
      20_000,
      'fetched from the mailbox',
    )
    assert.deepEqual(
      got.map((m) => m.text),
      ['away 1', 'away 2 离开', 'away 3'],
    )
    assert.deepEqual(
      got.map((m) => m.id),
      ids,
    )
    assert.ok(got.every((m) => m.route === 'mailbox'))

    await bob.restart(bobArgs)
    await eventually(
      async () => {
        const list = await jiayiJson<MessageView[]>(bob.home, ['messages', aAtB, '--peek'])
        return list
          .filter((m) => ids.includes(m.id))
          .every((m) => m.status === 'delivered' || m.status === 'read')
      },
      40_000,
      'delivered at Bob',
    )
    // Exactly once at Alice, after everything settled.
    const final = await jiayiJson<MessageView[]>(alice.home, ['messages', bAtA, '--peek'])
    assert.equal(final.filter((m) => m.direction === 'in').length, 3)
    const r = await jiayi(alice.home, ['home-node'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(ready.peerId))
  } finally {
    await Promise.all([alice.stop(), bob.stop(), homeNode.stop()])
  }
})

/** Every file of a LevelDB directory, concatenated. */
async function diskBytes(dir: string): Promise<Buffer> {
  const names = await readdir(dir)
  return Buffer.concat(
    await Promise.all(names.map((n) => readFile(join(dir, n)).catch(() => Buffer.alloc(0)))),
  )
}
