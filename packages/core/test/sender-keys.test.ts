/**
 * Sender keys (Signal's group construction): unit tests for every limit and error code, the
 * libsignal chain-key vector, a frozen vector of our own wire format, and fast-check properties
 * for delivery order, tampering, serialisation and forward secrecy.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bytesToHex, concatBytes, hexToBytes, type RandomSource, utf8 } from '../src/bytes.js'
import { CryptoError } from '../src/crypto/errors.js'
import { ed25519KeyPair, ed25519Sign, hkdfSha256, seal } from '../src/crypto/primitives.js'
import {
  messageKey,
  messageKeySeed,
  nextChainKey,
  type SenderChainKey,
} from '../src/crypto/sender-keys/chain.js'
import { MAX_ITERATION } from '../src/crypto/sender-keys/constants.js'
import {
  createSenderKey,
  decodeDistributionMessage,
  decodeSenderKeyRecord,
  decodeSenderKeyState,
  emptySenderKeyRecord,
  encodeDistribution,
  encodeSenderKeyRecord,
  encodeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  MAX_STATES,
  processDistribution,
  type SenderKeyRecord,
  type SenderKeyState,
  senderKeyAssociatedData,
} from '../src/crypto/sender-keys/index.js'
import { decodeSenderKeyMessage, encodeMessageHeader } from '../src/crypto/sender-keys/wire.js'
import { describeEachProvider } from './helpers/providers.js'

const GROUP = utf8('group:trade-fair-2025')
const ALICE = utf8('alice-identity-key')
const BOB = utf8('bob-identity-key')
const CAROL = utf8('carol-identity-key')
const AD_ALICE = senderKeyAssociatedData(GROUP, ALICE)

/** A deterministic RandomSource (bytes 1, 2, 3, ...): enough to pin formats byte for byte. */
function counterRandom(start = 1): RandomSource {
  let next = start
  return (length) => {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = next++ & 0xff
    return out
  }
}

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (error) {
    assert.ok(CryptoError.is(error), `expected a CryptoError, got ${String(error)}`)
    return error.code
  }
  assert.fail('expected a CryptoError, nothing was thrown')
}

function text(i: number): Uint8Array {
  return utf8(`message number ${i}`)
}

/** The sender state `steps` iterations later, as if that many messages had been sent. */
function advance(state: SenderKeyState, steps: number): SenderKeyState {
  let chain: SenderChainKey = state.chainKey
  for (let i = 0; i < steps; i++) chain = nextChainKey(chain)
  return { ...state, chainKey: chain }
}

function receiverFor(sender: SenderKeyState): SenderKeyRecord {
  return processDistribution(emptySenderKeyRecord(), encodeDistribution(sender))
}

/** One sender, `count` messages encrypted once and shared by the properties (signing is the cost). */
function makePool(count: number): { sender: SenderKeyState; messages: Uint8Array[] } {
  const sender = createSenderKey()
  let state = sender
  const messages: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const out = groupEncrypt(state, text(i), AD_ALICE)
    messages.push(out.message)
    state = out.state
  }
  return { sender, messages }
}

const POOL = makePool(40)

describe('sender keys: basics', () => {
  it('round trip: distribution, then messages in order, including an empty one', () => {
    let sender = createSenderKey()
    let record = receiverFor(sender)
    for (const plaintext of [utf8('hello group'), new Uint8Array(0), new Uint8Array(5000).fill(7)]) {
      const out = groupEncrypt(sender, plaintext, AD_ALICE)
      sender = out.state
      const got = groupDecrypt(record, out.message, AD_ALICE)
      assert.deepEqual(got.plaintext, plaintext)
      record = got.record
    }
    assert.equal(sender.chainKey.iteration, 3)
    assert.equal(record.states[0]?.chainKey.iteration, 3)
  })

  it('several senders in one group: each member reads every other member, and only as its sender', () => {
    const members = [ALICE, BOB, CAROL]
    let own = members.map(() => createSenderKey())
    // records[r][s]: what member r holds for sender s
    let records = members.map((_, r) =>
      members.map((__, s) => (r === s ? emptySenderKeyRecord() : receiverFor(own[s]!))),
    )
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < members.length; s++) {
        const ad = senderKeyAssociatedData(GROUP, members[s]!)
        const plaintext = utf8(`round ${round} from ${s}`)
        const out = groupEncrypt(own[s]!, plaintext, ad)
        own = own.map((st, i) => (i === s ? out.state : st))
        records = records.map((row, r) => {
          if (r === s) return row
          // Attributed to the wrong sender: the key id is unknown there, or the AD does not match.
          const other = (s + 1) % members.length === r ? (s + 2) % members.length : (s + 1) % members.length
          const wrongAd = senderKeyAssociatedData(GROUP, members[other]!)
          assert.equal(
            codeOf(() => groupDecrypt(row[s]!, out.message, wrongAd)),
            'DecryptFailed',
          )
          if (other !== r) {
            assert.equal(
              codeOf(() => groupDecrypt(row[other]!, out.message, ad)),
              'NoSenderKey',
            )
          }
          const got = groupDecrypt(row[s]!, out.message, ad)
          assert.deepEqual(got.plaintext, plaintext)
          return row.map((rec, i) => (i === s ? got.record : rec))
        })
      }
    }
  })

  it('a message for another group does not open (the group id is in the associated data)', () => {
    const { sender, messages } = POOL
    const otherGroup = senderKeyAssociatedData(utf8('group:other'), ALICE)
    const record = receiverFor(sender)
    assert.equal(
      codeOf(() => groupDecrypt(record, messages[0]!, otherGroup)),
      'DecryptFailed',
    )
    assert.deepEqual(groupDecrypt(record, messages[0]!, AD_ALICE).plaintext, text(0))
  })

  it('a receiver copy cannot send; an empty record knows no sender', () => {
    const record = receiverFor(POOL.sender)
    assert.equal(
      codeOf(() => groupEncrypt(record.states[0]!, utf8('x'), AD_ALICE)),
      'NoSenderKey',
    )
    assert.equal(
      codeOf(() => groupDecrypt(emptySenderKeyRecord(), POOL.messages[0]!, AD_ALICE)),
      'NoSenderKey',
    )
  })

  it('the chain stops at the last u32 iteration instead of wrapping', () => {
    const sender = createSenderKey()
    const last = { ...sender, chainKey: { iteration: MAX_ITERATION, seed: sender.chainKey.seed } }
    assert.equal(
      codeOf(() => groupEncrypt(last, utf8('x'), AD_ALICE)),
      'BadState',
    )
    const almost = { ...sender, chainKey: { iteration: MAX_ITERATION - 1, seed: sender.chainKey.seed } }
    const out = groupEncrypt(almost, utf8('x'), AD_ALICE)
    assert.equal(out.state.chainKey.iteration, MAX_ITERATION)
  })

  it('associated data is length-prefixed, so (group, sender) pairs never collide', () => {
    assert.notDeepEqual(
      senderKeyAssociatedData(utf8('ab'), utf8('c')),
      senderKeyAssociatedData(utf8('a'), utf8('bc')),
    )
    assert.throws(() => senderKeyAssociatedData(new Uint8Array(0), ALICE), { code: 'BadLength' })
    assert.throws(() => senderKeyAssociatedData(GROUP, new Uint8Array(256)), { code: 'BadLength' })
  })
})

describeEachProvider('sender keys: vectors', () => {
  it("libsignal's chain-key vector: our chain step is libsignal's (0x01 seed, 0x02 next chain)", () => {
    const url = new URL('../../../test/vectors/signal/libsignal-vectors.json', import.meta.url)
    const v = JSON.parse(readFileSync(url, 'utf8')).chain_key_derivation
    const chain = { iteration: 0, seed: hexToBytes(v.chain_key) }
    assert.equal(bytesToHex(nextChainKey(chain).seed), v.next_chain_key)
    // libsignal expands the same seed with its own info string; with it, we reproduce its keys.
    const keys = hkdfSha256(messageKeySeed(chain), undefined, utf8('WhisperMessageKeys'), 80)
    assert.equal(bytesToHex(keys.subarray(0, 32)), v.cipher_key)
    assert.equal(bytesToHex(keys.subarray(32, 64)), v.mac_key)
    assert.equal(bytesToHex(keys.subarray(64, 80)), v.iv)
  })

  it('frozen vector: fixed randomness gives these exact distribution, message and state bytes', () => {
    const random = counterRandom()
    const sender = createSenderKey(random)
    const distribution = encodeDistribution(sender)
    const out = groupEncrypt(sender, utf8('hi'), senderKeyAssociatedData(utf8('g'), utf8('a')), random)
    // Pinned on first implementation: a change here is a wire or storage format change.
    const frozen = {
      distribution:
        '01010203040000000005060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324f12ccf276e4fdacc02ce4f011a77262d057359e7ed0a4f4c9aa41d008c0c932f',
      message:
        '0101020304000000000000002a45464748494a4b4c4d4e4f505152535455565758595a5b5cb5e44e0fade392e513d782af9036ac2be9f35421b2c8ccb543948f6268569c1436cf7c0b475e9e9b4375c7d777d7eb8cb87db231c2634352e7f3df095268b837f74a8e57a3a1ae968d8c829dc4fe653e020c',
      state:
        '01010102030400000001e64c80ca17f1eb74ccc846e3dcd019e801c0afa3687028608eebaedb6b0ae91af12ccf276e4fdacc02ce4f011a77262d057359e7ed0a4f4c9aa41d008c0c932f25262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344',
    }
    const actual = {
      distribution: bytesToHex(distribution),
      message: bytesToHex(out.message),
      state: bytesToHex(encodeSenderKeyState(out.state)),
    }
    assert.deepEqual(actual, frozen)
    // And the pinned message opens under the pinned distribution.
    const record = processDistribution(emptySenderKeyRecord(), hexToBytes(frozen.distribution))
    const ad = senderKeyAssociatedData(utf8('g'), utf8('a'))
    assert.deepEqual(groupDecrypt(record, hexToBytes(frozen.message), ad).plaintext, utf8('hi'))
  })
})

describe('sender keys: limits', () => {
  it(`a jump of exactly MAX_SKIP (${MAX_SKIP}) is accepted; one more is TooFarAhead`, () => {
    const sender = createSenderKey()
    const record = receiverFor(sender)
    const tooFar = groupEncrypt(advance(sender, MAX_SKIP + 1), utf8('far'), AD_ALICE).message
    assert.equal(
      codeOf(() => groupDecrypt(record, tooFar, AD_ALICE)),
      'TooFarAhead',
    )
    const edge = groupEncrypt(advance(sender, MAX_SKIP), utf8('edge'), AD_ALICE).message
    const got = groupDecrypt(record, edge, AD_ALICE)
    assert.deepEqual(got.plaintext, utf8('edge'))
    assert.equal(got.record.states[0]!.skipped.length, MAX_SKIP)
    // Relative to the new position, MAX_SKIP + 1 ahead is now within reach.
    assert.deepEqual(groupDecrypt(got.record, tooFar, AD_ALICE).plaintext, utf8('far'))
  })

  it(`at most ${MAX_SKIPPED_KEYS} skipped keys per sender; the oldest go first and then read as Duplicate`, () => {
    const sender = createSenderKey()
    let record = receiverFor(sender)
    const at = (i: number) => groupEncrypt(advance(sender, i), text(i), AD_ALICE).message
    for (const i of [1000, 2001, 3002]) record = groupDecrypt(record, at(i), AD_ALICE).record
    const skipped = record.states[0]!.skipped
    assert.equal(skipped.length, MAX_SKIPPED_KEYS)
    assert.equal(skipped[0]!.iteration, 1001)
    assert.equal(
      codeOf(() => groupDecrypt(record, at(0), AD_ALICE)),
      'Duplicate',
    )
    assert.equal(
      codeOf(() => groupDecrypt(record, at(999), AD_ALICE)),
      'Duplicate',
    )
    assert.deepEqual(groupDecrypt(record, at(1001), AD_ALICE).plaintext, text(1001))
    assert.deepEqual(groupDecrypt(record, at(3001), AD_ALICE).plaintext, text(3001))
  })

  it('the skipped-key cap spans states: older states give up their keys first', () => {
    const first = createSenderKey()
    const second = createSenderKey()
    let record = receiverFor(first)
    record = groupDecrypt(
      record,
      groupEncrypt(advance(first, 1000), text(0), AD_ALICE).message,
      AD_ALICE,
    ).record
    record = processDistribution(record, encodeDistribution(second))
    for (const i of [1000, 2001]) {
      record = groupDecrypt(
        record,
        groupEncrypt(advance(second, i), text(i), AD_ALICE).message,
        AD_ALICE,
      ).record
    }
    const [newest, oldest] = record.states
    assert.equal(newest!.keyId, second.keyId)
    assert.equal(newest!.skipped.length, 2000)
    assert.equal(oldest!.skipped.length, 0)
  })

  it(`a ${MAX_STATES + 1}th key id evicts the oldest state; the other ${MAX_STATES} still decrypt`, () => {
    const keys = Array.from({ length: MAX_STATES + 1 }, () => createSenderKey())
    const messages = keys.map((k, i) => groupEncrypt(k, text(i), AD_ALICE).message)
    let record = emptySenderKeyRecord()
    for (const k of keys) record = processDistribution(record, encodeDistribution(k))
    assert.equal(record.states.length, MAX_STATES)
    assert.deepEqual(
      record.states.map((s) => s.keyId),
      keys
        .slice(1)
        .map((k) => k.keyId)
        .reverse(),
    )
    assert.equal(
      codeOf(() => groupDecrypt(record, messages[0]!, AD_ALICE)),
      'NoSenderKey',
    )
    for (let i = 1; i < keys.length; i++) {
      assert.deepEqual(groupDecrypt(record, messages[i]!, AD_ALICE).plaintext, text(i))
    }
  })

  it('a re-sent distribution for a known key id does not rewind the chain', () => {
    const { sender, messages } = POOL
    let record = receiverFor(sender)
    record = groupDecrypt(record, messages[0]!, AD_ALICE).record
    record = processDistribution(record, encodeDistribution(sender))
    assert.equal(
      codeOf(() => groupDecrypt(record, messages[0]!, AD_ALICE)),
      'Duplicate',
    )
    assert.deepEqual(groupDecrypt(record, messages[1]!, AD_ALICE).plaintext, text(1))
  })

  it('the same key id with a new signing key replaces the old state', () => {
    const a = createSenderKey()
    const b = { ...createSenderKey(), keyId: a.keyId }
    let record = receiverFor(a)
    record = processDistribution(record, encodeDistribution(b))
    assert.equal(record.states.length, 1)
    assert.equal(
      codeOf(() => groupDecrypt(record, groupEncrypt(a, text(0), AD_ALICE).message, AD_ALICE)),
      'BadSignature',
    )
    assert.deepEqual(
      groupDecrypt(record, groupEncrypt(b, text(0), AD_ALICE).message, AD_ALICE).plaintext,
      text(0),
    )
  })
})

describe('sender keys: authenticity and forward secrecy', () => {
  it('a member who knows the chain key but not the signing key cannot forge', () => {
    const { sender } = POOL
    const record = receiverFor(sender)
    // Mallory holds the same distribution, so she can derive every message key...
    const stolen = decodeDistributionMessage(encodeDistribution(sender))
    const key = messageKey(messageKeySeed({ iteration: stolen.iteration, seed: stolen.chainKey }))
    const plaintext = utf8('pay mallory')
    const header = encodeMessageHeader(stolen.keyId, stolen.iteration, 24 + plaintext.length + 16)
    const sealed = seal(key, plaintext, concatBytes(header, AD_ALICE))
    const signed = concatBytes(header, sealed)
    // ...but only her own signing key.
    const mallory = ed25519KeyPair()
    const forged = concatBytes(signed, ed25519Sign(mallory.secretKey, signed))
    assert.equal(
      codeOf(() => groupDecrypt(record, forged, AD_ALICE)),
      'BadSignature',
    )
    // And a state of her own under Alice's key id is just another sender's state with another key.
    const impostor = { ...createSenderKey(), keyId: sender.keyId }
    const fake = groupEncrypt(impostor, plaintext, AD_ALICE).message
    assert.equal(
      codeOf(() => groupDecrypt(record, fake, AD_ALICE)),
      'BadSignature',
    )
  })

  it('a distribution taken after message n cannot read messages 0..n (late joiners read no history)', () => {
    const { sender, messages } = POOL
    const later = receiverFor(advance(sender, 10))
    for (let i = 0; i < 10; i++)
      assert.equal(
        codeOf(() => groupDecrypt(later, messages[i]!, AD_ALICE)),
        'Duplicate',
      )
    assert.deepEqual(groupDecrypt(later, messages[10]!, AD_ALICE).plaintext, text(10))
  })

  it('property: a record stored after any delivery holds no key for any message already read', () => {
    const { sender, messages } = POOL
    // Every chain key and message-key seed the sender ever used, by iteration.
    const chains: SenderChainKey[] = [sender.chainKey]
    for (let i = 1; i <= messages.length; i++) chains.push(nextChainKey(chains[i - 1]!))
    const seeds = chains.map((c) => bytesToHex(messageKeySeed(c)))
    fc.assert(
      fc.property(fc.array(fc.nat(messages.length - 1), { minLength: 1, maxLength: 12 }), (order) => {
        let record = receiverFor(sender)
        const read = new Set<number>()
        for (const i of order) {
          if (read.has(i)) continue
          record = groupDecrypt(record, messages[i]!, AD_ALICE).record
          read.add(i)
        }
        const stored = bytesToHex(encodeSenderKeyRecord(record))
        const restored = decodeSenderKeyRecord(hexToBytes(stored))
        const next = record.states[0]!.chainKey.iteration
        for (const i of read) {
          assert.ok(!stored.includes(seeds[i]!), 'a used message key seed is still stored')
          assert.equal(
            codeOf(() => groupDecrypt(restored, messages[i]!, AD_ALICE)),
            'Duplicate',
          )
        }
        for (let i = 0; i < next; i++)
          assert.ok(!stored.includes(bytesToHex(chains[i]!.seed)), 'an old chain key is stored')
      }),
      { numRuns: 40 },
    )
  })
})

describe('sender keys: delivery properties', () => {
  // Each message is delivered 0..3 times (loss and duplication), in any order (reordering); the
  // pool is far smaller than MAX_SKIP, so everything delivered must open.
  const schedule = fc
    .array(fc.integer({ min: 0, max: 3 }), {
      minLength: POOL.messages.length,
      maxLength: POOL.messages.length,
    })
    .chain((copies) => {
      const deliveries = copies.flatMap((n, i) => Array.from({ length: n }, () => i))
      return fc.tuple(
        fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }),
        fc.array(fc.boolean(), { minLength: deliveries.length, maxLength: deliveries.length }),
      )
    })

  it('property: loss, duplication, reordering: each message opens exactly once, repeats are Duplicate', () => {
    fc.assert(
      fc.property(schedule, ([order]) => {
        let record = receiverFor(POOL.sender)
        const opened = new Set<number>()
        for (const i of order) {
          if (opened.has(i)) {
            const before = encodeSenderKeyRecord(record)
            assert.equal(
              codeOf(() => groupDecrypt(record, POOL.messages[i]!, AD_ALICE)),
              'Duplicate',
            )
            assert.deepEqual(encodeSenderKeyRecord(record), before)
            continue
          }
          const got = groupDecrypt(record, POOL.messages[i]!, AD_ALICE)
          assert.deepEqual(got.plaintext, text(i))
          record = got.record
          opened.add(i)
        }
        assert.equal(opened.size, new Set(order).size)
      }),
      { numRuns: 40 },
    )
  })

  it('property: serialise/restore at random points changes nothing (same results, same final bytes)', () => {
    fc.assert(
      fc.property(schedule, ([order, restoreAt]) => {
        let plain = receiverFor(POOL.sender)
        let stored = plain
        order.forEach((i, step) => {
          if (restoreAt[step]) {
            const bytes = encodeSenderKeyRecord(stored)
            stored = decodeSenderKeyRecord(bytes)
            assert.deepEqual(stored, plain)
            assert.deepEqual(encodeSenderKeyRecord(stored), bytes)
          }
          const a = attempt(() => groupDecrypt(plain, POOL.messages[i]!, AD_ALICE))
          const b = attempt(() => groupDecrypt(stored, POOL.messages[i]!, AD_ALICE))
          assert.deepEqual(a.outcome, b.outcome)
          if (a.record) plain = a.record
          if (b.record) stored = b.record
        })
        assert.deepEqual(encodeSenderKeyRecord(stored), encodeSenderKeyRecord(plain))
      }),
      { numRuns: 20 },
    )
  })

  it('property: any flipped bit is rejected and leaves the record byte-identical', () => {
    const { sender, messages } = POOL
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.nat(),
        (readFirst, target, bitSeed) => {
          let record = receiverFor(sender)
          for (let i = 0; i < readFirst; i++) record = groupDecrypt(record, messages[i]!, AD_ALICE).record
          const index = readFirst + target
          const original = messages[index]!
          const tampered = Uint8Array.from(original)
          const bit = bitSeed % (tampered.length * 8)
          tampered[bit >> 3]! ^= 1 << (bit & 7)
          const before = encodeSenderKeyRecord(record)
          const code = codeOf(() => groupDecrypt(record, tampered, AD_ALICE))
          assert.ok(['BadMessage', 'BadSignature', 'NoSenderKey'].includes(code), code)
          assert.deepEqual(encodeSenderKeyRecord(record), before)
          // The genuine message still opens: nothing was consumed by the failure.
          assert.deepEqual(groupDecrypt(record, original, AD_ALICE).plaintext, text(index))
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('sender keys: strict codecs', () => {
  const message = POOL.messages[3]!
  const distribution = encodeDistribution(POOL.sender)

  it('message: wrong version, truncation, trailing bytes and a bad length field are BadMessage', () => {
    const record = receiverFor(POOL.sender)
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      message.subarray(0, 50),
      message.subarray(0, message.length - 1),
      concatBytes(message, Uint8Array.of(0)),
      Uint8Array.from(message, (b, i) => (i === 0 ? 2 : b)),
      Uint8Array.from(message, (b, i) => (i === 12 ? b ^ 1 : b)),
    ]
    for (const bytes of cases) {
      assert.equal(
        codeOf(() => decodeSenderKeyMessage(bytes)),
        'BadMessage',
      )
      assert.equal(
        codeOf(() => groupDecrypt(record, bytes, AD_ALICE)),
        'BadMessage',
      )
    }
    const maxIteration = Uint8Array.from(message)
    maxIteration.set([0xff, 0xff, 0xff, 0xff], 5)
    assert.equal(
      codeOf(() => decodeSenderKeyMessage(maxIteration)),
      'BadMessage',
    )
  })

  it('distribution: exact length, known version, valid public key, else BadMessage', () => {
    const badKey = Uint8Array.from(distribution)
    badKey.fill(0xff, 41) // y = 2^255 - 1 is not a canonical field element
    for (const bytes of [
      distribution.subarray(0, 72),
      concatBytes(distribution, Uint8Array.of(0)),
      Uint8Array.from(distribution, (b, i) => (i === 0 ? 0 : b)),
      badKey,
    ]) {
      assert.equal(
        codeOf(() => processDistribution(emptySenderKeyRecord(), bytes)),
        'BadMessage',
      )
    }
    const d = decodeDistributionMessage(distribution)
    assert.equal(d.keyId, POOL.sender.keyId)
    assert.equal(d.iteration, 0)
    assert.deepEqual(d.signingPublicKey, POOL.sender.signingPublicKey)
  })

  it('own state: exact round trip; a mismatched key pair, wrong kind or trailing byte is BadState', () => {
    const state = groupEncrypt(createSenderKey(), utf8('x'), AD_ALICE).state
    const bytes = encodeSenderKeyState(state)
    assert.equal(bytes.length, 106)
    assert.deepEqual(decodeSenderKeyState(bytes), state)
    assert.deepEqual(encodeSenderKeyState(decodeSenderKeyState(bytes)), bytes)
    const otherSecret = Uint8Array.from(bytes)
    otherSecret[80]! ^= 1
    for (const bad of [
      otherSecret,
      concatBytes(bytes, Uint8Array.of(0)),
      Uint8Array.from(bytes, (b, i) => (i === 1 ? 2 : b)),
    ]) {
      assert.equal(
        codeOf(() => decodeSenderKeyState(bad)),
        'BadState',
      )
    }
    // A record is not a state and a state is not a record.
    assert.equal(
      codeOf(() => decodeSenderKeyRecord(bytes)),
      'BadState',
    )
    assert.equal(
      codeOf(() => decodeSenderKeyState(encodeSenderKeyRecord(receiverFor(state)))),
      'BadState',
    )
  })

  it('record: structural rules are enforced when decoding', () => {
    let record = receiverFor(POOL.sender)
    record = groupDecrypt(record, POOL.messages[5]!, AD_ALICE).record // skipped 0..4
    const bytes = encodeSenderKeyRecord(record)
    const headerEnd = 3 + 4 + 4 + 32 + 32 + 2 // first skipped entry starts here
    const swapped = Uint8Array.from(bytes)
    swapped.set(bytes.subarray(headerEnd + 36, headerEnd + 72), headerEnd)
    swapped.set(bytes.subarray(headerEnd, headerEnd + 36), headerEnd + 36)
    const twice = concatBytes(Uint8Array.of(1, 2, 2), bytes.subarray(3), bytes.subarray(3))
    const tooMany = Uint8Array.from(bytes, (b, i) => (i === 2 ? MAX_STATES + 1 : b))
    for (const bad of [
      swapped,
      twice,
      tooMany,
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.of(2, 2, 0),
    ]) {
      assert.equal(
        codeOf(() => decodeSenderKeyRecord(bad)),
        'BadState',
      )
    }
    assert.deepEqual(decodeSenderKeyRecord(Uint8Array.of(1, 2, 0)), emptySenderKeyRecord())
  })

  it("property: random and mutated bytes either decode canonically or throw the codec's code", () => {
    let record = receiverFor(POOL.sender)
    record = groupDecrypt(record, POOL.messages[3]!, AD_ALICE).record
    const seeds = [encodeSenderKeyRecord(record), encodeSenderKeyState(POOL.sender), message, distribution]
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([b, at, v]) => {
        const out = Uint8Array.from(b)
        out[at % out.length] = v
        return out
      }),
    )
    fc.assert(
      fc.property(input, (bytes) => {
        const r = attempt(() => decodeSenderKeyRecord(bytes))
        if (r.value) assert.deepEqual(encodeSenderKeyRecord(r.value), bytes)
        else assert.equal(r.outcome, 'BadState')
        const s = attempt(() => decodeSenderKeyState(bytes))
        if (s.value) assert.deepEqual(encodeSenderKeyState(s.value), bytes)
        else assert.equal(s.outcome, 'BadState')
        const m = attempt(() => decodeSenderKeyMessage(bytes))
        if (!m.value) assert.equal(m.outcome, 'BadMessage')
        const d = attempt(() => decodeDistributionMessage(bytes))
        if (!d.value) assert.equal(d.outcome, 'BadMessage')
      }),
      { numRuns: 3000 },
    )
  })
})

/** Runs `f`; the outcome is 'ok:<plaintext hex>' or the CryptoError code (anything else fails). */
function attempt<T>(f: () => T): { outcome: string; value?: T; record?: SenderKeyRecord } {
  try {
    const value = f()
    const maybe = value as { plaintext?: Uint8Array; record?: SenderKeyRecord }
    const outcome = maybe?.plaintext ? `ok:${bytesToHex(maybe.plaintext)}` : 'ok'
    return maybe?.record ? { outcome, value, record: maybe.record } : { outcome, value }
  } catch (error) {
    assert.ok(CryptoError.is(error), `expected a CryptoError, got ${String(error)}`)
    return { outcome: error.code }
  }
}
