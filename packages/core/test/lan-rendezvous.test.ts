/**
 * Contacts find each other on the LAN without announcing who they are (lan-presence.ts,
 * net/lan-beacon.ts): real peers on 127.0.0.1 with the store on disk, real multicast DNS on a
 * random service tag and UDP port, on the loopback of a network namespace of the test's own
 * (scripts/test.mjs makes it), and an observer recording every packet.
 */
import assert from 'node:assert/strict'
import { randomBytes as nodeRandomBytes, randomInt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import multicastDNS from 'multicast-dns'
import { generateIdentity } from '../src/identity/identity.js'
import { EPOCH_MS, epochAt, pairKeys, rendezvousName } from '../src/messenger/lan-presence.js'
import { DiskPeers } from './helpers/disk-peer.js'
import { eventually } from './helpers/messenger-peer.js'

// @jiayi-test own-network-namespace: scripts/test.mjs runs this file inside a network namespace of
// its own, whose loopback carries multicast, so no packet reaches this machine's real interfaces.
before(() => {
  assert.ok(
    process.env.JIAYI_TEST_NETNS,
    'run this file through scripts/test.mjs (its own network namespace)',
  )
})

const tag = `_jiayi-test-${nodeRandomBytes(4).toString('hex')}._udp.local`
const port = randomInt(20_000, 60_000)
const lan = { mdns: { serviceTag: tag, port, intervalMs: 300 } }

describe('rendezvous names', () => {
  it('both sides of a pair make the same names; they differ by target and by epoch', () => {
    const alice = generateIdentity()
    const bob = generateIdentity()
    const carol = generateIdentity()
    const ab = pairKeys(alice, bob.agreement.publicKey)
    assert.deepEqual(ab, pairKeys(bob, alice.agreement.publicKey), 'one key per pair')
    assert.notDeepEqual(ab, pairKeys(alice, carol.agreement.publicKey))
    const bobPeer = '12D3KooWKvTnKNjTyXkUZes56HqaSgANemLyK9cvEXeCFUkPb4kZ'
    const alicePeer = '12D3KooWRm8J3iL796zPFi2EtGGtUJn58AG67gcqzMFHZnnsTzqD'
    const e = epochAt(Date.now())
    const name = rendezvousName(ab, bobPeer, e)
    assert.match(name, /^[0-9a-f]{32}$/)
    assert.notEqual(name, rendezvousName(ab, alicePeer, e), 'looking for Bob ≠ looking for Alice')
    assert.notEqual(name, rendezvousName(ab, bobPeer, e + 1), 'a new name every epoch')
    assert.equal(epochAt(0), 0)
    assert.equal(epochAt(EPOCH_MS), 1)
  })
})

describe('contacts on one LAN', () => {
  const peers = new DiskPeers()
  const packets: { kind: 'query' | 'response'; raw: Buffer; names: string[]; types: string[] }[] = []
  const observer = multicastDNS({ port })
  const ours = (name: string) => name.endsWith(`.${tag}`)
  const record = (kind: 'query' | 'response') => (packet: multicastDNS.QueryPacket) => {
    const records = [
      ...(packet.questions ?? []),
      ...(packet.answers ?? []),
      ...(packet.additionals ?? []),
      ...(packet.authorities ?? []),
    ]
    if (!records.some((r) => ours(r.name))) return
    packets.push({
      kind,
      raw: Buffer.from(JSON.stringify(packet)),
      names: records.map((r) => r.name),
      types: records.map((r) => r.type),
    })
  }
  observer.on('query', record('query'))
  observer.on('response', record('response') as never)
  after(async () => {
    await new Promise<void>((resolve) => observer.destroy(() => resolve()))
    await peers.cleanup()
  })

  it('find each other after both moved, and the LAN never sees a peer id or a key', async () => {
    let aliceClock = Date.now()
    let alice = await peers.start('Alice', { network: lan, now: () => aliceClock })
    let bob = await peers.start('Bob', { network: lan })
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 15_000, 'accepted')
    const ids = [alice, bob].map((p) => p.messenger.whoami().peerId)
    const keys = [alice, bob].flatMap((p) => [
      p.messenger.account.identity.signing.publicKey,
      p.messenger.account.identity.agreement.publicKey,
    ])

    // Both stop and come back on new ports: neither knows where the other is now.
    const dirs = [alice.dir, bob.dir]
    await Promise.all([alice.stop(), bob.stop()])
    bob = await peers.start('Bob', { dir: dirs[1], network: lan })
    const queued = await bob.messenger.send(aliceAtBob.id, 'found you on the LAN')
    // Alice's clock is a whole epoch ahead: she asks by other names, and is still answered.
    aliceClock += EPOCH_MS
    const labelsBefore = new Set(packets.flatMap((p) => p.names))
    alice = await peers.start('Alice', { dir: dirs[0], network: lan, now: () => aliceClock })
    const got = await eventually(
      async () => (await alice.messenger.messages(bobAtAlice.id)).find((m) => m.id === queued.id),
      30_000,
      'the queued message, through the rendezvous',
    )
    assert.equal(got.text, 'found you on the LAN')

    assert.ok(packets.some((p) => p.kind === 'query') && packets.some((p) => p.kind === 'response'))
    const labelsAfter = packets.flatMap((p) => p.names).filter((n) => !labelsBefore.has(n))
    assert.ok(labelsAfter.length > 0, 'the new epoch brought new names')
    for (const p of packets) {
      for (const name of p.names)
        assert.match(name, new RegExp(`^[0-9a-f]{32}\\.${tag.replaceAll('.', '\\.')}$`))
      for (const type of p.types) assert.equal(type, 'TXT')
      for (const id of ids) {
        assert.ok(!p.raw.includes(id), 'no peer id as text')
        assert.ok(
          !p.raw.includes(JSON.stringify(Buffer.from(peerIdFromString(id).toMultihash().bytes)).slice(1, -1)),
        )
      }
      for (const key of keys) assert.ok(!p.raw.includes(JSON.stringify(Buffer.from(key)).slice(1, -1)))
    }
  })

  it('a name no contact of theirs makes is never answered', async () => {
    const dave = await peers.start('Dave', { network: lan })
    const erin = await peers.start('Erin', { network: lan })
    const friend = await peers.start('Friend', { network: lan })
    const daveId = dave.messenger.whoami().peerId
    const daveAgreement = dave.messenger.account.identity.agreement.publicKey
    // Friend asked to add Dave; Erin only has his card: Dave has never heard of her.
    await friend.messenger.addContact(dave.messenger.card().link)
    const friendId = friend.messenger.whoami().peerId
    await eventually(() => dave.messenger.trustOf(friendId) === 'pending-in', 15_000, 'the request')
    const epoch = epochAt(Date.now())
    const erinAsks = `${rendezvousName(pairKeys(erin.messenger.account.identity, daveAgreement), daveId, epoch)}.${tag}`
    const friendAsks = `${rendezvousName(pairKeys(friend.messenger.account.identity, daveAgreement), daveId, epoch)}.${tag}`
    const answers: string[] = []
    const listen = (packet: multicastDNS.ResponsePacket) => {
      for (const a of packet.answers ?? []) answers.push(a.name)
    }
    observer.on('response', listen)
    try {
      // Both names in one packet: the answer to Friend's shows that Dave read it.
      await eventually(
        () => {
          observer.query({
            questions: [
              { name: erinAsks, type: 'TXT' },
              { name: friendAsks, type: 'TXT' },
            ],
          })
          return answers.includes(friendAsks)
        },
        15_000,
        'Dave answers the name of someone he knows',
      )
      assert.ok(!answers.includes(erinAsks), 'nobody answers a name no contact of theirs makes')
    } finally {
      observer.removeListener('response', listen)
    }
  })
})
