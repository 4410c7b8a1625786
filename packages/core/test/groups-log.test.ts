/**
 * The group op log (src/groups): who may change a group, that concurrent changes by two admins
 * converge (a property test over random delivery orders), and that forged, replayed or
 * non-admin ops change nothing. Also the invite link: round trip, expiry, forgery.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { createCard } from '../src/card/card.js'
import { GroupError } from '../src/groups/errors.js'
import { SignedGroupOp } from '../src/groups/group-wire.pb.js'
import {
  checkInviteFresh,
  decodeInviteLink,
  inviteLink,
  inviteQrText,
  makeInvite,
} from '../src/groups/invite.js'
import { GroupLog } from '../src/groups/log.js'
import { decodeOp, type GroupOp, signOp } from '../src/groups/ops.js'
import type { GroupState } from '../src/groups/state.js'
import { contactIdFor } from '../src/messenger/ids.js'
import { type CardOwner, makeOwner } from './helpers/card-fixtures.js'

interface Person {
  readonly owner: CardOwner
  readonly card: Uint8Array
  readonly id: ReturnType<typeof contactIdFor>
}

async function person(name: string): Promise<Person> {
  const owner = await makeOwner()
  const card = createCard(owner.identity, {
    name,
    deviceKey: owner.deviceKey,
    signedPreKey: owner.signedPreKey,
    addrs: ['/ip4/127.0.0.1/tcp/4001'],
  })
  return { owner, card, id: contactIdFor(owner.identity.signing.publicKey) }
}

function roles(state: GroupState): Record<string, string> {
  return Object.fromEntries([...state.members.values()].map((m) => [m.card.name, m.role]))
}

/** A state's observable part, for comparing two members' views. */
function view(state: GroupState) {
  return {
    name: state.name,
    owner: state.owner,
    members: [...state.members.values()].map((m) => [m.id, m.role]).sort(),
    settings: [state.joinApproval, state.adminsOnly],
    revoked: [...state.revokedInvites].sort(),
    changes: state.changes.map((c) => c.op),
  }
}

function copyOf(log: GroupLog): GroupLog {
  const copy = GroupLog.fromCreate(log.create.bytes)
  for (const op of log.ordered().slice(1)) copy.add(op.bytes)
  return copy
}

describe('group op log', () => {
  let ann: Person
  let bo: Person
  let cy: Person
  let di: Person
  before(async () => {
    ;[ann, bo, cy, di] = await Promise.all([person('Ann'), person('Bo'), person('Cy'), person('Di')])
  })

  it('the creator owns the group; admins add, rename and remove; the owner promotes and hands on', () => {
    const log = GroupLog.start(ann.owner.identity, { name: 'Shop', card: ann.card })
    assert.equal(log.id.length, 32)
    log.make(ann.owner.identity, { kind: 'add', cards: [bo.card, cy.card] })
    assert.deepEqual(roles(log.state()), { Ann: 'owner', Bo: 'member', Cy: 'member' })

    assert.throws(() => log.make(bo.owner.identity, { kind: 'rename', name: 'Mine' }), { code: 'NotAllowed' })
    log.make(ann.owner.identity, { kind: 'promote', target: bo.owner.identity.signing.publicKey })
    log.make(bo.owner.identity, { kind: 'rename', name: '店 2' })
    assert.equal(log.state().name, '店 2')
    // An admin may not remove the owner or promote anyone.
    assert.throws(
      () => log.make(bo.owner.identity, { kind: 'remove', target: ann.owner.identity.signing.publicKey }),
      {
        code: 'NotAllowed',
      },
    )
    assert.throws(
      () => log.make(bo.owner.identity, { kind: 'promote', target: cy.owner.identity.signing.publicKey }),
      {
        code: 'NotAllowed',
      },
    )
    // The owner cannot leave before handing ownership on.
    assert.throws(() => log.make(ann.owner.identity, { kind: 'leave' }), /hands ownership on/)
    log.make(ann.owner.identity, { kind: 'transfer', target: bo.owner.identity.signing.publicKey })
    assert.deepEqual(roles(log.state()), { Ann: 'admin', Bo: 'owner', Cy: 'member' })
    log.make(ann.owner.identity, { kind: 'leave' })
    log.make(bo.owner.identity, { kind: 'remove', target: cy.owner.identity.signing.publicKey })
    assert.deepEqual(roles(log.state()), { Bo: 'owner' })
    assert.deepEqual(
      log.state().changes.map((c) => c.kind),
      ['create', 'add', 'promote', 'rename', 'transfer', 'leave', 'remove'],
    )
    // A copy made from the ops alone agrees.
    assert.deepEqual(view(copyOf(log).state()), view(log.state()))
  })

  it('with join approval off any member adds; with it on only admins', () => {
    const log = GroupLog.start(ann.owner.identity, { name: 'Open', card: ann.card, joinApproval: false })
    log.make(ann.owner.identity, { kind: 'add', cards: [bo.card] })
    log.make(bo.owner.identity, { kind: 'add', cards: [cy.card] })
    log.make(ann.owner.identity, { kind: 'settings', joinApproval: true, adminsOnly: true })
    assert.throws(() => log.make(bo.owner.identity, { kind: 'add', cards: [di.card] }), /only admins add/)
    assert.equal(log.state().adminsOnly, true)
    assert.throws(() => log.make(ann.owner.identity, { kind: 'add', cards: [bo.card] }), /already a member/)
  })

  it("a non-admin, non-member or removed member's op changes nothing, and is reported as ineffective", () => {
    const log = GroupLog.start(ann.owner.identity, { name: 'Shop', card: ann.card })
    log.make(ann.owner.identity, { kind: 'add', cards: [bo.card] })
    const heads = log.heads()
    const lamport = 1 + Math.max(...log.ordered().map((o) => o.lamport))
    // Signed by people who may not: a plain member renaming, a stranger adding themselves.
    const rename = signOp(
      bo.owner.identity,
      { kind: 'rename', name: 'Hijacked' },
      { groupId: log.id, parents: heads, lamport },
    )
    const selfAdd = signOp(
      di.owner.identity,
      { kind: 'add', cards: [di.card] },
      { groupId: log.id, parents: heads, lamport },
    )
    assert.equal(log.add(rename.bytes), 'added')
    assert.equal(log.add(selfAdd.bytes), 'added')
    const state = log.state()
    assert.equal(state.name, 'Shop')
    assert.equal(state.members.has(di.id), false)
    assert.deepEqual([...state.ineffective].sort(), [rename.id, selfAdd.id].sort())
    // Replayed: known, nothing changes.
    assert.equal(log.add(rename.bytes), 'known')
    assert.deepEqual(view(log.state()), view(state))
  })

  it('forged, malformed and misplaced ops are refused with typed errors', () => {
    const log = GroupLog.start(ann.owner.identity, { name: 'Shop', card: ann.card })
    const op = signOp(
      ann.owner.identity,
      { kind: 'rename', name: 'X' },
      { groupId: log.id, parents: log.heads(), lamport: 1 },
    )
    const signed = SignedGroupOp.decode(op.bytes)
    const forged = SignedGroupOp.encode({
      ...signed,
      signature: signed.signature.map((b, i) => (i === 0 ? b ^ 1 : b)),
    })
    assert.throws(
      () => log.add(forged),
      (e) => GroupError.is(e, 'BadSignature'),
    )
    assert.throws(
      () => log.add(op.bytes.subarray(0, 20)),
      (e) => GroupError.is(e),
    )
    const other = GroupLog.start(bo.owner.identity, { name: 'Other', card: bo.card })
    assert.throws(
      () => other.add(op.bytes),
      (e) => GroupError.is(e, 'WrongGroup'),
    )
    // A wrong Lamport number (claims to sort before its parent's children) is refused.
    const late = signOp(
      ann.owner.identity,
      { kind: 'rename', name: 'Y' },
      { groupId: log.id, parents: log.heads(), lamport: 7 },
    )
    assert.throws(() => log.add(late.bytes), /Lamport/)
    // A create op carrying someone else's card.
    assert.throws(
      () =>
        signOp(
          ann.owner.identity,
          { kind: 'create', name: 'Z', card: bo.card },
          { groupId: undefined, parents: [], lamport: 0 },
        ),
      (e) => GroupError.is(e, 'BadField'),
    )
    // Fuzz: any byte string is a GroupOp or a GroupError, never anything else.
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(op.bytes.length - 1),
        fc.integer({ min: 1, max: 255 }),
        (junk, at, x) => {
          for (const bytes of [junk, op.bytes.map((b, i) => (i === at ? b ^ x : b))]) {
            try {
              decodeOp(bytes)
            } catch (error) {
              assert.ok(GroupError.is(error), String(error))
            }
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('an op waits for missing parents and applies once they come', () => {
    const log = GroupLog.start(ann.owner.identity, { name: 'Shop', card: ann.card })
    const a = log.make(ann.owner.identity, { kind: 'add', cards: [bo.card] })
    const b = log.make(ann.owner.identity, { kind: 'rename', name: 'Later' })
    const fresh = GroupLog.fromCreate(log.create.bytes)
    assert.equal(fresh.add(b.bytes), 'waiting')
    assert.deepEqual(fresh.missing(), [a.id])
    assert.equal(fresh.state().name, 'Shop')
    assert.equal(fresh.add(a.bytes), 'added')
    assert.equal(fresh.state().name, 'Later')
    assert.deepEqual(
      fresh.missingFrom([a.id]).map((o) => o.id),
      [b.id],
    )
  })

  it('two admins changing the group on two sides of a partition converge in any delivery order (property)', () => {
    const base = GroupLog.start(ann.owner.identity, { name: 'Base', card: ann.card })
    base.make(ann.owner.identity, { kind: 'add', cards: [bo.card, cy.card] })
    base.make(ann.owner.identity, { kind: 'promote', target: bo.owner.identity.signing.publicKey })
    // Partition: Ann and Bo each make changes seeing only their own side.
    const left = copyOf(base)
    const right = copyOf(base)
    const ops: GroupOp[] = [
      left.make(ann.owner.identity, { kind: 'rename', name: 'Left' }),
      left.make(ann.owner.identity, { kind: 'demote', target: bo.owner.identity.signing.publicKey }),
      left.make(ann.owner.identity, { kind: 'add', cards: [di.card] }),
      right.make(bo.owner.identity, { kind: 'rename', name: 'Right' }),
      right.make(bo.owner.identity, { kind: 'remove', target: cy.owner.identity.signing.publicKey }),
      right.make(bo.owner.identity, { kind: 'settings', joinApproval: false, adminsOnly: true }),
    ]
    const all = [...base.ordered().slice(1), ...ops]
    const expected = (() => {
      const log = GroupLog.fromCreate(base.create.bytes)
      for (const op of all) log.add(op.bytes)
      return view(log.state())
    })()
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), (order) => {
        // Decoded ops: the bytes' checks are the fuzz test's business; this one is the order's.
        const log = GroupLog.fromCreate(base.create)
        for (const op of order) log.add(op)
        assert.deepEqual(view(log.state()), expected)
      }),
      { numRuns: 150 },
    )
    // The healed state is a real merge: each side's concurrent changes are judged in one order.
    const healed = GroupLog.fromCreate(base.create.bytes)
    for (const op of all) healed.add(op.bytes)
    const state = healed.state()
    assert.ok(['Left', 'Right'].includes(state.name))
    assert.equal(state.members.has(di.id), true)
    // Ann's demotion of Bo and Bo's removal of Cy were concurrent: whichever the order puts
    // first decides. After the demotion Bo is no admin, and his removal changes nothing.
    const demote = ops[1]!
    const remove = ops[4]!
    const order = healed.ordered().map((o) => o.id)
    if (order.indexOf(demote.id) < order.indexOf(remove.id)) {
      assert.equal(state.members.has(cy.id), true)
      assert.ok(state.ineffective.has(remove.id))
    } else {
      assert.equal(state.members.has(cy.id), false)
      assert.equal(state.members.get(bo.id)?.role, 'member')
    }
  })
})

describe('group invites', () => {
  let ann: Person
  let bo: Person
  before(async () => {
    ;[ann, bo] = await Promise.all([person('Ann'), person('Bo')])
  })

  it('round-trips as a link and as QR text; expiry and forgery are refused clearly', () => {
    const log = GroupLog.start(ann.owner.identity, { name: '展会', card: ann.card })
    const invite = makeInvite(ann.owner.identity, {
      groupId: log.id,
      groupName: '展会',
      adminCard: ann.card,
      expiresAt: Date.now() + 60_000,
    })
    const back = decodeInviteLink(inviteLink(invite))
    assert.equal(back.groupId, log.id)
    assert.equal(back.groupName, '展会')
    assert.equal(back.adminId, ann.id)
    assert.equal(decodeInviteLink(inviteQrText(invite)).id, invite.id)
    checkInviteFresh(back)
    assert.throws(
      () => checkInviteFresh(back, invite.expiresAt),
      (e) => GroupError.is(e, 'Expired'),
    )
    // Signed by Bo but naming Ann's card, as if Ann had made it: refused.
    assert.throws(
      () =>
        makeInvite(bo.owner.identity, { groupId: log.id, groupName: 'x', adminCard: ann.card, expiresAt: 1 }),
      (e) => GroupError.is(e, 'BadSignature'),
    )
    // A damaged link: a character changed.
    const link = inviteLink(invite)
    const damaged = link.slice(0, -5) + (link.at(-5) === 'A' ? 'B' : 'A') + link.slice(-4)
    assert.throws(
      () => decodeInviteLink(damaged),
      (e) => GroupError.is(e),
    )
    assert.throws(
      () => decodeInviteLink('jiayi:group/!!'),
      (e) => GroupError.is(e, 'BadEncoding'),
    )
    assert.throws(
      () => decodeInviteLink('jiayi:add/AAAA'),
      (e) => GroupError.is(e, 'BadEncoding'),
    )
  })
})
