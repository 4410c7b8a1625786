/**
 * Sender keys as the product uses them: the distribution message travels sealed inside a pairwise
 * Double Ratchet session, and only then can the member read the group's messages.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  acceptSession,
  CryptoError,
  createSenderKey,
  decodePreKeyMessage,
  emptySenderKeyRecord,
  encodeDistribution,
  fromUtf8,
  generateIdentity,
  generateSignedPreKey,
  groupDecrypt,
  groupEncrypt,
  initiateSession,
  processDistribution,
  publicIdentity,
  senderKeyAssociatedData,
  sessionEncrypt,
  utf8,
} from '../src/index.js'

describe('sender keys over a pairwise session', () => {
  it('a member reads the group only after the distribution arrives through the session', () => {
    const alice = generateIdentity()
    const bob = generateIdentity()
    const bobSpk = generateSignedPreKey(bob, 1)
    const session = initiateSession(alice, {
      identity: publicIdentity(bob),
      signedPreKey: { id: bobSpk.id, publicKey: bobSpk.keyPair.publicKey },
    })
    const groupAd = senderKeyAssociatedData(utf8('group-1'), alice.signing.publicKey)
    let senderKey = createSenderKey()
    const early = groupEncrypt(senderKey, utf8('before bob joined'), groupAd)
    senderKey = early.state

    // The distribution is the plaintext of a ratchet message, so a relay sees only ciphertext.
    const distribution = encodeDistribution(senderKey)
    const { envelope } = sessionEncrypt(session, distribution, alice)
    assert.equal(envelope.type, 'prekey')
    const hay = Buffer.from(envelope.bytes)
    assert.equal(hay.indexOf(Buffer.from(distribution.subarray(9, 41))), -1, 'chain key visible on the wire')

    const decoded = decodePreKeyMessage(envelope.bytes)
    const opened = acceptSession(bob, decoded, { signedPreKey: bobSpk.keyPair })
    let record = processDistribution(emptySenderKeyRecord(), opened.plaintext)

    const message = groupEncrypt(senderKey, utf8('大家好 — hello group'), groupAd)
    senderKey = message.state
    const read = groupDecrypt(record, message.message, groupAd)
    record = read.record
    assert.equal(fromUtf8(read.plaintext), '大家好 — hello group')
    // Forward-only: the message sent before the distribution's iteration stays unreadable.
    assert.throws(
      () => groupDecrypt(record, early.message, groupAd),
      (e: unknown) => CryptoError.is(e),
    )
  })
})
