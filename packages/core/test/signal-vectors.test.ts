/**
 * libsignal's own values (test/vectors/signal): our chain-key and X3DH constructions, run with
 * libsignal's inputs and info strings, reproduce them exactly. (The fingerprint vector is in
 * safety-number.test.ts.)
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { bytesToHex, hexToBytes, utf8 } from '../src/bytes.js'
import { hkdfSha256, x25519KeyPair, x25519PublicKey, x25519Shared } from '../src/crypto/primitives.js'
import { kdfChain } from '../src/crypto/ratchet/kdf.js'
import { X3DH_INFO, x3dhInitiate, x3dhKdf, x3dhRespond } from '../src/crypto/x3dh.js'
import { describeEachProvider } from './helpers/providers.js'
import { readSharedVector } from './helpers/shared-vectors.js'

interface Vectors {
  chain_key_derivation: Record<string, string>
  x3dh_without_one_time_prekey: Record<string, string>
}
const vectors = readSharedVector<Vectors>('signal/libsignal-vectors.json')

/** libsignal serialises X25519 public keys with a 0x05 type byte. */
function stripType(hex: string): Uint8Array {
  const bytes = hexToBytes(hex)
  assert.equal(bytes[0], 0x05)
  return bytes.subarray(1)
}

describeEachProvider('libsignal vectors', () => {
  it('chain key derivation: KDF_CK with 0x01/0x02 and the message-key HKDF', () => {
    const v = vectors.chain_key_derivation
    const step = kdfChain(hexToBytes(v.chain_key!))
    assert.equal(bytesToHex(step.chainKey), v.next_chain_key)
    const keys = hkdfSha256(step.messageKey, undefined, utf8('WhisperMessageKeys'), 80)
    assert.equal(bytesToHex(keys.subarray(0, 32)), v.cipher_key)
    assert.equal(bytesToHex(keys.subarray(32, 64)), v.mac_key)
    assert.equal(bytesToHex(keys.subarray(64, 80)), v.iv)
  })

  it('X3DH without a one-time prekey: both sides reproduce the root and chain keys', () => {
    const v = vectors.x3dh_without_one_time_prekey
    const aliceIdentity = hexToBytes(v.alice_identity_private!)
    const aliceBase = hexToBytes(v.alice_base_private!)
    const bobIdentity = hexToBytes(v.bob_identity_private!)
    const bobSignedPreKey = hexToBytes(v.bob_signed_prekey_private!)
    // The private keys belong to the public keys libsignal lists.
    assert.equal(bytesToHex(x25519PublicKey(aliceIdentity)), bytesToHex(stripType(v.alice_identity_public!)))
    assert.equal(
      bytesToHex(x25519PublicKey(bobSignedPreKey)),
      bytesToHex(stripType(v.bob_signed_prekey_public!)),
    )

    const info = utf8('WhisperText')
    const aliceSide = x3dhKdf(
      [
        x25519Shared(aliceIdentity, stripType(v.bob_signed_prekey_public!)),
        x25519Shared(aliceBase, stripType(v.bob_identity_public!)),
        x25519Shared(aliceBase, stripType(v.bob_signed_prekey_public!)),
      ],
      info,
      96,
    )
    const bobSide = x3dhKdf(
      [
        x25519Shared(bobSignedPreKey, stripType(v.alice_identity_public!)),
        x25519Shared(bobIdentity, stripType(v.alice_base_public!)),
        x25519Shared(bobSignedPreKey, stripType(v.alice_base_public!)),
      ],
      info,
      96,
    )
    for (const out of [aliceSide, bobSide]) {
      assert.equal(bytesToHex(out.subarray(0, 32)), v.root_key)
      assert.equal(bytesToHex(out.subarray(32, 64)), v.chain_key)
    }
  })

  it('x3dhInitiate / x3dhRespond use exactly that construction (DH order, F prefix, zero salt)', () => {
    const v = vectors.x3dh_without_one_time_prekey
    const alice = {
      signing: { secretKey: new Uint8Array(32), publicKey: new Uint8Array(32).fill(1) },
      agreement: x25519KeyPair(hexToBytes(v.alice_identity_private!)),
    }
    const bob = {
      signing: { secretKey: new Uint8Array(32), publicKey: new Uint8Array(32).fill(2) },
      agreement: x25519KeyPair(hexToBytes(v.bob_identity_private!)),
    }
    const spk = x25519KeyPair(hexToBytes(v.bob_signed_prekey_private!))
    const bundle = {
      identity: { signingKey: bob.signing.publicKey, agreementKey: bob.agreement.publicKey },
      signedPreKey: { id: 7, publicKey: spk.publicKey },
    }
    // The ephemeral key comes from the random source: feed it libsignal's base key.
    const { secrets, init } = x3dhInitiate(alice, bundle, () => hexToBytes(v.alice_base_private!))
    assert.equal(bytesToHex(init.ephemeralKey), bytesToHex(stripType(v.alice_base_public!)))
    const expected = x3dhKdf(
      [
        x25519Shared(alice.agreement.secretKey, spk.publicKey),
        x25519Shared(hexToBytes(v.alice_base_private!), bob.agreement.publicKey),
        x25519Shared(hexToBytes(v.alice_base_private!), spk.publicKey),
      ],
      X3DH_INFO,
      96,
    )
    assert.equal(bytesToHex(secrets.sharedSecret), bytesToHex(expected.subarray(0, 32)))
    const responder = x3dhRespond(
      bob,
      { signingKey: alice.signing.publicKey, agreementKey: alice.agreement.publicKey },
      init,
      { signedPreKey: spk },
    )
    assert.equal(bytesToHex(responder.sharedSecret), bytesToHex(secrets.sharedSecret))
  })
})
