/**
 * The header-encrypted Double Ratchet: model-based property tests (loss, duplication, reordering,
 * save/restore), tampering, forward secrecy, post-compromise security and the skip limits.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bytesToHex, equalBytes, utf8 } from '../src/bytes.js'
import { CryptoError } from '../src/crypto/errors.js'
import {
  canEncrypt,
  countSkipped,
  deserializeRatchetState,
  MAX_RETIRED_CHAINS,
  MAX_SKIP,
  MAX_SKIPPED_CHAINS,
  MAX_SKIPPED_KEYS,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
  serializeRatchetState,
} from '../src/crypto/ratchet/index.js'
import { ReceiverModel, type Sent } from './helpers/ratchet-model.js'
import { AD, ratchetPair } from './helpers/ratchet-pair.js'

type Side = 'a' | 'b'
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a')

type Command =
  | { kind: 'send'; from: Side }
  | { kind: 'deliver'; to: Side; pick: number; duplicate: boolean }
  | { kind: 'drop'; to: Side; pick: number }
  | { kind: 'restore'; who: Side }

const side = fc.constantFrom<Side>('a', 'b')
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('send' as const), from: side }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      to: side,
      pick: fc.nat(),
      duplicate: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), to: side, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), who: side }) },
)

interface InFlight {
  readonly bytes: Uint8Array
  readonly meta: Sent
  readonly text: string
}

interface Party {
  state: RatchetState
  epoch: number
  lastDh: Uint8Array | undefined
  readonly model: ReceiverModel
  readonly inbox: InFlight[]
  readonly received: Set<string>
}

function expectRejected(fn: () => unknown, codes: string[]): void {
  assert.throws(fn, (e: unknown) => CryptoError.is(e) && codes.includes(e.code))
}

function run(commands: Command[]): void {
  const pair = ratchetPair()
  const party = (state: RatchetState): Party => ({
    state,
    epoch: -1,
    lastDh: undefined,
    model: new ReceiverModel(),
    inbox: [],
    received: new Set(),
  })
  const parties: Record<Side, Party> = { a: party(pair.alice), b: party(pair.bob) }
  let counter = 0

  const deliver = (to: Side, index: number, duplicate: boolean) => {
    const p = parties[to]
    const msg = p.inbox[index]!
    if (!duplicate) p.inbox.splice(index, 1)
    const expectOk = p.model.receive(msg.meta)
    if (expectOk) {
      const out = ratchetDecrypt(p.state, msg.bytes, AD)
      assert.equal(new TextDecoder().decode(out.plaintext), msg.text)
      assert.ok(!p.received.has(msg.text), 'a message decrypted twice')
      p.received.add(msg.text)
      p.state = out.state
    } else {
      const before = bytesToHex(serializeRatchetState(p.state))
      // A duplicate in a chain we still know is 'Duplicate'; once a whole chain is evicted its
      // header key is gone too, and the message is indistinguishable from garbage.
      expectRejected(() => ratchetDecrypt(p.state, msg.bytes, AD), ['Duplicate', 'DecryptFailed'])
      assert.equal(bytesToHex(serializeRatchetState(p.state)), before, 'a rejected message changed the state')
    }
  }

  for (const c of commands) {
    if (c.kind === 'send') {
      const p = parties[c.from]
      if (!canEncrypt(p.state)) continue
      if (p.lastDh === undefined || !equalBytes(p.lastDh, p.state.dhSelf.publicKey)) {
        p.epoch++
        p.lastDh = p.state.dhSelf.publicKey
      }
      const meta: Sent = { epoch: p.epoch, n: p.state.send!.n, pn: p.state.prevSendCount }
      const text = `${c.from}:${counter++}:${'中文🙂'.repeat(counter % 3)}`
      const out = ratchetEncrypt(p.state, utf8(text), AD)
      p.state = out.state
      parties[other(c.from)].inbox.push({ bytes: out.message, meta, text })
    } else if (c.kind === 'deliver' || c.kind === 'drop') {
      const p = parties[c.to]
      if (p.inbox.length === 0) continue
      const index = c.pick % p.inbox.length
      if (c.kind === 'drop') p.inbox.splice(index, 1)
      else deliver(c.to, index, c.duplicate)
    } else {
      const p = parties[c.who]
      p.state = deserializeRatchetState(serializeRatchetState(p.state))
    }
  }
  // Whatever is still in flight arrives at the end, oldest first.
  for (const s of ['a', 'b'] as const) while (parties[s].inbox.length > 0) deliver(s, 0, false)
}

describe('Double Ratchet with header encryption', () => {
  it('random interleavings with loss, duplication, reordering and save/restore: each message decrypts exactly once', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 120 }), (commands) => run(commands)),
      { numRuns: 150 },
    )
  })

  it('a flipped bit anywhere in a message is rejected and leaves the state byte-identical', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 }), fc.nat(), fc.boolean(), (warmup, bitPick, fromAlice) => {
        let { alice, bob } = ratchetPair()
        // Reach a state where both sides have sent, so either direction can be tested.
        const first = ratchetEncrypt(alice, utf8('hello'), AD)
        alice = first.state
        bob = ratchetDecrypt(bob, first.message, AD).state
        for (let i = 0; i < warmup; i++) {
          const m = ratchetEncrypt(bob, utf8(`w${i}`), AD)
          bob = m.state
          alice = ratchetDecrypt(alice, m.message, AD).state
        }
        const [sender, receiver] = fromAlice ? [alice, bob] : [bob, alice]
        const { message } = ratchetEncrypt(sender, utf8('the message under test'), AD)
        const bit = bitPick % (message.length * 8)
        const tampered = message.slice()
        tampered[bit >> 3]! ^= 1 << (bit & 7)
        const before = bytesToHex(serializeRatchetState(receiver))
        expectRejected(() => ratchetDecrypt(receiver, tampered, AD), ['DecryptFailed', 'BadMessage'])
        assert.equal(bytesToHex(serializeRatchetState(receiver)), before)
        // The genuine message still decrypts afterwards.
        assert.equal(
          new TextDecoder().decode(ratchetDecrypt(receiver, message, AD).plaintext),
          'the message under test',
        )
      }),
      { numRuns: 300 },
    )
  })

  it('a different associated data (identities) is rejected', () => {
    const { alice, bob } = ratchetPair()
    const { message } = ratchetEncrypt(alice, utf8('x'), AD)
    expectRejected(() => ratchetDecrypt(bob, message, utf8('someone else')), ['DecryptFailed'])
  })

  it('forward secrecy: a state taken now cannot decrypt messages it already decrypted', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (directions) => {
        let { alice, bob } = ratchetPair()
        const first = ratchetEncrypt(alice, utf8('first'), AD)
        alice = first.state
        bob = ratchetDecrypt(bob, first.message, AD).state
        const seenByBob: Uint8Array[] = [first.message]
        const seenByAlice: Uint8Array[] = []
        for (const aliceSends of directions) {
          if (aliceSends) {
            const m = ratchetEncrypt(alice, utf8('a'), AD)
            alice = m.state
            bob = ratchetDecrypt(bob, m.message, AD).state
            seenByBob.push(m.message)
          } else {
            const m = ratchetEncrypt(bob, utf8('b'), AD)
            bob = m.state
            alice = ratchetDecrypt(alice, m.message, AD).state
            seenByAlice.push(m.message)
          }
        }
        const stolenBob = deserializeRatchetState(serializeRatchetState(bob))
        const stolenAlice = deserializeRatchetState(serializeRatchetState(alice))
        for (const m of seenByBob)
          expectRejected(() => ratchetDecrypt(stolenBob, m, AD), ['Duplicate', 'DecryptFailed'])
        for (const m of seenByAlice) {
          expectRejected(() => ratchetDecrypt(stolenAlice, m, AD), ['Duplicate', 'DecryptFailed'])
        }
      }),
      { numRuns: 60 },
    )
  })

  it('post-compromise security: after one full DH round trip a stolen state reads nothing new', () => {
    let { alice, bob } = ratchetPair()
    const hello = ratchetEncrypt(alice, utf8('hello'), AD)
    alice = hello.state
    bob = ratchetDecrypt(bob, hello.message, AD).state

    const stolen = deserializeRatchetState(serializeRatchetState(alice))
    // Right after the theft the attacker can read Bob's next chain: the compromise is real.
    const early = ratchetEncrypt(bob, utf8('before healing'), AD)
    bob = early.state
    assert.equal(
      new TextDecoder().decode(ratchetDecrypt(stolen, early.message, AD).plaintext),
      'before healing',
    )
    alice = ratchetDecrypt(alice, early.message, AD).state

    // Round trip: Alice answers with a fresh ratchet key, Bob answers that.
    const a2 = ratchetEncrypt(alice, utf8('a2'), AD)
    alice = a2.state
    bob = ratchetDecrypt(bob, a2.message, AD).state
    const b2 = ratchetEncrypt(bob, utf8('after healing'), AD)
    bob = b2.state
    assert.equal(new TextDecoder().decode(ratchetDecrypt(alice, b2.message, AD).plaintext), 'after healing')
    expectRejected(() => ratchetDecrypt(stolen, b2.message, AD), ['DecryptFailed'])
    // Also a stolen state that tries to follow along from the early message gets nothing.
    const follower = ratchetDecrypt(stolen, early.message, AD).state
    expectRejected(() => ratchetDecrypt(follower, b2.message, AD), ['DecryptFailed'])
  })

  it(`skipping exactly ${MAX_SKIP} keys works; one more is rejected as TooFarAhead with the state unchanged`, () => {
    let { alice, bob } = ratchetPair()
    const messages: Uint8Array[] = []
    for (let i = 0; i <= MAX_SKIP + 1; i++) {
      const m = ratchetEncrypt(alice, utf8(`m${i}`), AD)
      alice = m.state
      messages.push(m.message)
    }
    const before = bytesToHex(serializeRatchetState(bob))
    expectRejected(() => ratchetDecrypt(bob, messages[MAX_SKIP + 1]!, AD), ['TooFarAhead'])
    assert.equal(bytesToHex(serializeRatchetState(bob)), before)
    const out = ratchetDecrypt(bob, messages[MAX_SKIP]!, AD)
    assert.equal(new TextDecoder().decode(out.plaintext), `m${MAX_SKIP}`)
    assert.equal(countSkipped(out.state), MAX_SKIP)
    bob = out.state
    assert.equal(new TextDecoder().decode(ratchetDecrypt(bob, messages[0]!, AD).plaintext), 'm0')
  })

  it(`keeps at most ${MAX_SKIPPED_KEYS} skipped keys and ${MAX_SKIPPED_CHAINS} chains, evicting the oldest`, () => {
    let { alice, bob } = ratchetPair()
    const firstOfChain: Uint8Array[] = []
    // Chains 1..7 from Alice: in each, message 0 is held back and message `skip` is delivered.
    for (let chain = 0; chain < MAX_SKIPPED_CHAINS + 2; chain++) {
      const skip = chain < 2 ? 999 : 1
      const held = ratchetEncrypt(alice, utf8(`c${chain}m0`), AD)
      alice = held.state
      firstOfChain.push(held.message)
      let last: Uint8Array = held.message
      for (let i = 1; i <= skip; i++) {
        const m = ratchetEncrypt(alice, utf8(`c${chain}m${i}`), AD)
        alice = m.state
        last = m.message
      }
      bob = ratchetDecrypt(bob, last, AD).state
      assert.ok(countSkipped(bob) <= MAX_SKIPPED_KEYS)
      assert.ok(bob.skipped.length <= MAX_SKIPPED_CHAINS)
      // Bob replies so that Alice's next chain uses a new ratchet key.
      const reply = ratchetEncrypt(bob, utf8('ok'), AD)
      bob = reply.state
      alice = ratchetDecrypt(alice, reply.message, AD).state
    }
    // The oldest chains' keys are gone; the newest five chains' held-back messages still open.
    expectRejected(() => ratchetDecrypt(bob, firstOfChain[0]!, AD), ['DecryptFailed'])
    expectRejected(() => ratchetDecrypt(bob, firstOfChain[1]!, AD), ['DecryptFailed'])
    for (let chain = 2; chain < firstOfChain.length; chain++) {
      const out = ratchetDecrypt(bob, firstOfChain[chain]!, AD)
      assert.equal(new TextDecoder().decode(out.plaintext), `c${chain}m0`)
      bob = out.state
    }
  })

  it(`a resent message of a chain the peer has left is a duplicate (for ${MAX_RETIRED_CHAINS} chains), not a failure`, () => {
    // A sender resends what was not acknowledged; meanwhile the conversation turned around and the
    // receiver left the chain the message came in on. Acknowledged as a duplicate, the sender
    // stops; refused as undecryptable, it would mark a delivered message failed.
    let { alice, bob } = ratchetPair()
    const send = (from: RatchetState, text: string) => ratchetEncrypt(from, utf8(text), AD)
    const first = send(alice, 'first')
    alice = first.state
    bob = ratchetDecrypt(bob, first.message, AD).state
    const turns = (n: number) => {
      for (let i = 0; i < n; i++) {
        const reply = send(bob, `reply ${i}`)
        bob = reply.state
        alice = ratchetDecrypt(alice, reply.message, AD).state
        const next = send(alice, `next ${i}`)
        alice = next.state
        bob = ratchetDecrypt(bob, next.message, AD).state
      }
    }
    turns(1)
    const before = bytesToHex(serializeRatchetState(bob))
    expectRejected(() => ratchetDecrypt(bob, first.message, AD), ['Duplicate'])
    assert.equal(bytesToHex(serializeRatchetState(bob)), before, 'the state is unchanged')
    // The retired header keys survive saving and restoring the state.
    bob = deserializeRatchetState(serializeRatchetState(bob))
    expectRejected(() => ratchetDecrypt(bob, first.message, AD), ['Duplicate'])
    turns(MAX_RETIRED_CHAINS - 1)
    expectRejected(() => ratchetDecrypt(bob, first.message, AD), ['Duplicate'])
    turns(1)
    expectRejected(() => ratchetDecrypt(bob, first.message, AD), ['DecryptFailed'])
    assert.equal(bob.retiredHeaderKeys?.length, MAX_RETIRED_CHAINS, 'bounded')
    // A message that never belonged to this session is still a failure, not a duplicate.
    const stranger = ratchetPair()
    expectRejected(() => ratchetDecrypt(bob, send(stranger.alice, 'x').message, AD), ['DecryptFailed'])
  })

  it('the responder cannot send before it has received, and says so', () => {
    const { bob } = ratchetPair()
    expectRejected(() => ratchetEncrypt(bob, utf8('too early'), AD), ['NoSession'])
  })

  it('malformed state bytes are refused with BadState', () => {
    const { alice } = ratchetPair()
    const bytes = serializeRatchetState(alice)
    expectRejected(() => deserializeRatchetState(bytes.subarray(0, bytes.length - 3)), ['BadState'])
    expectRejected(() => deserializeRatchetState(Uint8Array.of(0x08, 0x02)), ['BadState'])
    expectRejected(() => deserializeRatchetState(new Uint8Array(0)), ['BadState'])
  })

  it('truncated and oversized garbage messages are rejected without touching the state', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (garbage) => {
        const { alice, bob } = ratchetPair()
        const first = ratchetEncrypt(alice, utf8('x'), AD)
        const state = ratchetDecrypt(bob, first.message, AD).state
        const before = bytesToHex(serializeRatchetState(state))
        expectRejected(() => ratchetDecrypt(state, garbage, AD), ['BadMessage', 'DecryptFailed'])
        assert.equal(bytesToHex(serializeRatchetState(state)), before)
      }),
      { numRuns: 100 },
    )
  })
})
