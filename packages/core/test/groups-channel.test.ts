/**
 * Sender keys per group (src/groups/channel.ts) and carrying (carry.ts), with real keys and the
 * real op log: every member reads every message once; a removed member reads nothing sent after
 * and what it sends is refused; a new member reads from its joining on, never back; a member
 * that was away gets what it missed from another member while the sender is gone.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { fromUtf8, utf8 } from '../src/bytes.js'
import { createCard } from '../src/card/card.js'
import { CarryStore } from '../src/groups/carry.js'
import { GroupChannel, type KeyHandout } from '../src/groups/channel.js'
import { GroupError } from '../src/groups/errors.js'
import { GroupLog } from '../src/groups/log.js'
import { contactIdFor } from '../src/messenger/ids.js'
import { type CardOwner, makeOwner } from './helpers/card-fixtures.js'

interface Member {
  readonly name: string
  readonly owner: CardOwner
  readonly card: Uint8Array
  readonly id: ReturnType<typeof contactIdFor>
  channel: GroupChannel
  readonly inbox: string[]
}

async function member(name: string): Promise<Member> {
  const owner = await makeOwner()
  const card = createCard(owner.identity, {
    name,
    deviceKey: owner.deviceKey,
    signedPreKey: owner.signedPreKey,
    addrs: ['/ip4/127.0.0.1/tcp/4001'],
  })
  return {
    name,
    owner,
    card,
    id: contactIdFor(owner.identity.signing.publicKey),
    channel: undefined!,
    inbox: [],
  }
}

describe('group sender keys and carrying', () => {
  let ann: Member
  let bo: Member
  let cy: Member
  let di: Member
  let log: GroupLog
  const everyone = () => [ann, bo, cy, di]
  const byId = (id: string) => everyone().find((m) => m.id === id)!

  /** Hands each key to its member, as the pairwise sessions would; `away` get nothing. */
  function deliverKeys(from: Member, handouts: KeyHandout[], away: Member[] = []): void {
    for (const h of handouts) {
      const to = byId(h.to)
      if (away.includes(to)) continue
      for (const r of to.channel.receiveKey(log.state(), from.id, h.distribution)) {
        if (r.kind === 'read') to.inbox.push(fromUtf8(r.plaintext))
      }
    }
  }

  function send(from: Member, text: string, away: Member[] = []) {
    const { message, handouts } = from.channel.encrypt(log.state(), utf8(text))
    deliverKeys(from, handouts, away)
    for (const to of log.state().members.keys()) {
      const m = byId(to)
      if (m === from || away.includes(m)) continue
      const r = m.channel.receive(log.state(), message)
      if (r.kind === 'read') m.inbox.push(fromUtf8(r.plaintext))
    }
    return message
  }

  /** Each member brings its keys in line with the group, as it does after every change. */
  function settle(away: Member[] = []): void {
    for (const m of everyone()) if (!away.includes(m)) deliverKeys(m, m.channel.keysFor(log.state()), away)
  }

  before(async () => {
    ;[ann, bo, cy, di] = await Promise.all([member('Ann'), member('Bo'), member('Cy'), member('Di')])
  })

  it('everyone reads everyone once, in order; a removed member reads nothing after and is refused', () => {
    log = GroupLog.start(ann.owner.identity, { name: 'Shop', card: ann.card })
    log.make(ann.owner.identity, { kind: 'add', cards: [bo.card, cy.card] })
    for (const m of everyone()) m.channel = new GroupChannel(log.id, m.id)
    settle()
    send(ann, 'a1')
    send(bo, 'b1')
    send(ann, 'a2')
    send(cy, 'c1')
    assert.deepEqual(bo.inbox, ['a1', 'a2', 'c1'])
    assert.deepEqual(cy.inbox, ['a1', 'b1', 'a2'])
    assert.deepEqual(ann.inbox, ['b1', 'c1'])

    // Cy is removed. Cy still holds Ann's and Bo's old chains, and hears the next message.
    const cyView = log.state()
    log.make(ann.owner.identity, { kind: 'remove', target: cy.owner.identity.signing.publicKey })
    settle([cy])
    const after = send(ann, 'after removal', [cy])
    const overheard = cy.channel.receive(cyView, after)
    assert.equal(overheard.kind, 'waiting', 'a rotated key: Cy has no chain that opens it')
    assert.deepEqual(bo.inbox.at(-1), 'after removal')
    // What Cy sends now is refused by those who remain, whatever key it uses.
    const { message: fromCy } = cy.channel.encrypt(cyView, utf8('still here?'))
    assert.throws(
      () => bo.channel.receive(log.state(), fromCy),
      (e) => GroupError.is(e, 'NotAllowed'),
    )
    assert.throws(
      () => bo.channel.receiveKey(log.state(), cy.id, new Uint8Array(73)),
      (e) => GroupError.is(e, 'NotAllowed'),
    )
    assert.ok(!bo.inbox.includes('still here?'))
  })

  it('a new member reads from its joining on, never back', () => {
    const before = send(bo, 'before Di')
    log.make(ann.owner.identity, { kind: 'add', cards: [di.card] })
    di.channel = new GroupChannel(log.id, di.id)
    settle([cy])
    const old = di.channel.receive(log.state(), before)
    assert.notEqual(old.kind, 'read')
    send(bo, 'welcome')
    send(ann, 'hi Di')
    assert.deepEqual(di.inbox, ['welcome', 'hi Di'])
  })

  it('a message that comes before its key waits for it', () => {
    const pair = GroupLog.start(ann.owner.identity, { name: 'Pair', card: ann.card })
    pair.make(ann.owner.identity, { kind: 'add', cards: [bo.card] })
    const sender = new GroupChannel(pair.id, ann.id)
    const reader = new GroupChannel(pair.id, bo.id)
    const first = sender.encrypt(pair.state(), utf8('early'))
    const second = sender.encrypt(pair.state(), utf8('later'))
    assert.equal(reader.receive(pair.state(), second.message).kind, 'waiting')
    assert.equal(reader.receive(pair.state(), first.message).kind, 'waiting')
    const [handout] = first.handouts
    assert.equal(handout?.to, bo.id)
    const released = reader.receiveKey(pair.state(), ann.id, handout!.distribution)
    assert.deepEqual(released.map((r) => (r.kind === 'read' ? fromUtf8(r.plaintext) : r.kind)).sort(), [
      'early',
      'later',
    ])
  })

  it('a key given again opens what the first handout did and nothing older, whichever comes first', () => {
    const trio = GroupLog.start(ann.owner.identity, { name: 'Trio', card: ann.card })
    trio.make(ann.owner.identity, { kind: 'add', cards: [bo.card] })
    const sender = new GroupChannel(trio.id, ann.id)
    const first = sender.encrypt(trio.state(), utf8('one'))
    const second = sender.encrypt(trio.state(), utf8('two'))
    const again = sender.handoutFor(bo.id)
    assert.ok(again !== undefined)
    // The second handout overtakes the first on the way; both messages still open.
    const reader = new GroupChannel(trio.id, bo.id)
    reader.receiveKey(trio.state(), ann.id, again.distribution)
    reader.receiveKey(trio.state(), ann.id, first.handouts[0]!.distribution)
    const read = [first.message, second.message].map((m) => reader.receive(trio.state(), m))
    assert.deepEqual(
      read.map((r) => (r.kind === 'read' ? fromUtf8(r.plaintext) : r.kind)),
      ['one', 'two'],
    )
    // A member added later is given it from where the chain is then: nothing older opens.
    trio.make(ann.owner.identity, { kind: 'add', cards: [cy.card] })
    const third = sender.encrypt(trio.state(), utf8('three'))
    const late = new GroupChannel(trio.id, cy.id)
    late.receiveKey(trio.state(), ann.id, sender.handoutFor(cy.id)!.distribution)
    assert.notEqual(late.receive(trio.state(), second.message).kind, 'read')
    assert.equal(late.receive(trio.state(), third.message).kind, 'read')
  })

  it('a member who was away gets the burst from another member while the sender is gone', () => {
    const burst = ['m1', 'm2', 'm3', 'm4', 'm5']
    const seen = di.inbox.length
    for (const text of burst) send(ann, text, [di])
    assert.equal(di.inbox.length, seen)
    // Ann leaves the network. Di meets Bo, who carried the burst.
    const lacking = bo.channel.missingFor(di.channel.marks())
    for (const m of lacking) {
      const r = di.channel.receive(log.state(), m)
      if (r.kind === 'read') di.inbox.push(fromUtf8(r.plaintext))
    }
    assert.deepEqual(di.inbox.slice(seen), burst)
    // Meeting again sends nothing twice.
    const again = bo.channel.missingFor(di.channel.marks())
    assert.deepEqual(again, [])
  })

  it('carrying is bounded by age and size, oldest first', () => {
    const store = new CarryStore({ maxAgeMs: 1000, maxBytes: 100 })
    const msg = (i: number, at: number, size = 30) => ({
      sender: 's',
      keyId: 1,
      iteration: i,
      bytes: new Uint8Array(size),
      at,
    })
    store.keep(msg(0, 0), 0)
    store.keep(msg(1, 10), 10)
    store.keep(msg(2, 20), 20)
    assert.equal(store.size, 3)
    store.keep(msg(3, 30), 30) // 120 bytes: the oldest goes
    assert.equal(store.size, 3)
    assert.equal(store.has(msg(0, 0)), false)
    store.prune(1015) // older than a second: 1 and 2
    assert.deepEqual(store.marks(), { s: { 1: 3 } })
    assert.deepEqual(
      store.missingFor({ s: { 1: 2 } }).map((m) => m.iteration),
      [3],
    )
    // A key the other member does not hold opens nothing there: not sent.
    assert.deepEqual(store.missingFor({ s: { 2: -1 } }), [])
  })
})
