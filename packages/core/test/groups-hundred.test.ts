/**
 * A group of 100 members, every peer real (libp2p on 127.0.0.1, its own messenger) and in this
 * one process: every message reaches all the other 99 exactly once. The members are the
 * creator's contacts and strangers to each other, so a member's message goes over member
 * sessions made from the cards the group carries. 500 members are in the benchmark
 * (test/bench/groups.bench.ts), not here.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { Messenger } from '../src/messenger/messenger.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const MEMBERS = 100
/** Peers started, and contacts made, this many at a time. */
const BATCH = 10
const started = performance.now()
/** Phase times on stderr: where a slow run spent its time. */
const log = (what: string) =>
  process.stderr.write(`# ${Math.round(performance.now() - started)} ms: ${what}\n`)

/** Resolves once every one of `peers` has received the group message `text`; counts per peer. */
function receivedBy(
  peers: readonly Messenger[],
  groupId: string,
  text: string,
): Promise<Map<Messenger, number>> {
  const counts = new Map<Messenger, number>(peers.map((m) => [m, 0]))
  let missing = peers.length
  const offs: (() => void)[] = []
  return new Promise((resolve) => {
    for (const m of peers) {
      offs.push(
        m.events.on('group-message', (e) => {
          if (e.groupId !== groupId || e.message.text !== text || e.message.direction !== 'in') return
          const n = counts.get(m)! + 1
          counts.set(m, n)
          if (n === 1 && --missing === 0) {
            for (const off of offs) off()
            resolve(counts)
          }
        }),
      )
    }
  })
}

describe(`a group of ${MEMBERS} members`, () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('every message reaches all other members once, from the creator and from a member who is no one’s contact', async () => {
    for (let i = 0; i < MEMBERS; i += BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(BATCH, MEMBERS - i) }, (_, j) => testPeer(`Member ${i + j}`)),
      )
      peers.push(...batch)
    }
    log(`${MEMBERS} peers started`)
    const creator = peers[0]!.messenger
    const others = peers.slice(1).map((p) => p.messenger)
    const ids: string[] = []
    for (let i = 0; i < others.length; i += BATCH) {
      const made = await Promise.all(
        others.slice(i, i + BATCH).map(async (m) => {
          const atCreator = (await creator.addContact(m.card().link)).id
          await m.addContact(creator.card().link)
          return atCreator
        }),
      )
      ids.push(...made)
    }
    await eventually(
      () =>
        ids.every((id) => creator.contact(id).state === 'accepted') &&
        others.every((m) => m.contactList()[0]?.state === 'accepted'),
      60_000,
      'the creator and its contacts accepted on both sides',
    )
    log('contacts made')

    // Each member's wait starts at its first group event; nothing is polled (100 group views
    // every few milliseconds would starve the peers).
    const formed = others.map(
      (m) =>
        new Promise<void>((resolve) => {
          const off = m.events.on('group', (e) => {
            try {
              if (m.groups.get(e.groupId).members.length !== MEMBERS) return
            } catch {
              return
            }
            off()
            resolve()
          })
        }),
    )
    const group = await creator.groups.create('Trade fair 展会', ids)
    await Promise.all(formed)
    log('the group reached every member')

    const fromCreator = receivedBy(others, group.id, 'Welcome, everyone 欢迎')
    await creator.groups.send(group.id, 'Welcome, everyone 欢迎')
    await fromCreator
    log('the creator’s message reached every member')

    const sender = others[Math.min(41, others.length - 1)]!
    const rest = [creator, ...others.filter((m) => m !== sender)]
    const fromMember = receivedBy(rest, group.id, 'Stand 42 has samples')
    await sender.groups.send(group.id, 'Stand 42 has samples')
    await fromMember
    log('a member’s message reached every member')
    // Exactly once each, also after any late duplicate carried by another member.
    await new Promise((r) => setTimeout(r, 500))
    for (const m of rest) {
      const texts = (await m.groups.messages(group.id, { peek: true })).map((x) => x.text)
      assert.equal(texts.filter((t) => t === 'Stand 42 has samples').length, 1)
      assert.equal(texts.filter((t) => t === 'Welcome, everyone 欢迎').length, 1)
    }
    // The sender is a contact of the creator only: members made no contact of each other.
    assert.equal(sender.contactList().length, 1)
  })
})
