/**
 * `jiayi contacts --json` says why a contact cannot be reached (`lastError`), and stops saying it
 * once they are. Real `jiayi` processes on 127.0.0.1: Alice adds Bob's card while Bob is not
 * running, so her request cannot be delivered; Bob then starts again at the address on his card,
 * her retries reach him, and the error is gone.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson, stablePortArgs } from './helpers/cli.js'
import { TestPeer } from './helpers/peers.js'

after(cleanup)

interface Contact {
  id: string
  name: string
  state: string
  peerId: string
  lastError: { code: string; message: string; at: string } | null
}

test('an unreachable contact has a lastError in contacts --json until a dial succeeds', async () => {
  // Bob comes back on his port: one the system never hands to another socket meanwhile.
  const bob = await TestPeer.create('小明 Bob', stablePortArgs())
  const port = /\/tcp\/(\d+)/.exec(bob.proc.ready.addrs[0]!)![1]!
  const link = await bob.card()
  assert.equal(await bob.stop(), 0)
  const alice = await TestPeer.create('Alice')
  try {
    const added = await alice.control.call<Contact>('addContact', { link })
    // Before any attempt failed: null, and every field the list had before is still there.
    const listed = (home: string) => jiayiJson<Contact[]>(home, ['contacts'])
    const first = (await listed(alice.home)).find((c) => c.id === added.id)!
    for (const field of ['id', 'name', 'state', 'online', 'verified', 'identityChanged', 'postQuantum'])
      assert.ok(field in first, field)

    const failed = await eventually(
      async () => (await listed(alice.home)).find((c) => c.id === added.id && c.lastError !== null),
      20_000,
      'a lastError for Bob',
    )
    assert.equal(failed.state, 'pending-out')
    assert.equal(failed.lastError!.code, 'Unreachable')
    assert.match(failed.lastError!.message, /^小明 Bob can't be reached from this device: /)
    assert.ok(Math.abs(Date.parse(failed.lastError!.at) - Date.now()) < 60_000, failed.lastError!.at)
    // People see it too.
    const table = await jiayi(alice.home, ['contacts'])
    assert.match(table.stdout, /not reached: their peer did not answer/)

    // Bob is back where his card says: Alice's retries (which go on meanwhile) reach him.
    await bob.restart(['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns'])
    await eventually(
      async () => (await bob.control.contacts()).some((c) => c.state === 'pending-in'),
      60_000,
      'the request at Bob',
    )
    const cleared = await eventually(
      async () => (await listed(alice.home)).find((c) => c.id === added.id && c.lastError === null),
      20_000,
      'lastError cleared',
    )
    assert.equal(cleared.lastError, null)
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})
