/** X3DH / PQXDH key agreement and whole sessions built on it. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bytesToHex, fromUtf8, utf8 } from '../src/bytes.js'
import { CryptoError } from '../src/crypto/errors.js'
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type KemPreKey,
  type OneTimePreKey,
  type SignedPreKey,
  verifyKemPreKey,
  verifySignedPreKey,
} from '../src/crypto/prekeys.js'
import {
  acceptSession,
  decodePreKeyMessage,
  deserializeSession,
  initiateSession,
  isSameSession,
  type Session,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from '../src/crypto/session.js'
import { type PreKeyBundle, x3dhInitiate, x3dhRespond } from '../src/crypto/x3dh.js'
import { generateIdentity, type IdentityKeyPair, publicIdentity } from '../src/identity/identity.js'

interface Responder {
  identity: IdentityKeyPair
  spk: SignedPreKey
  otks: OneTimePreKey[]
  kem: KemPreKey
}

function responder(): Responder {
  const identity = generateIdentity()
  return {
    identity,
    spk: generateSignedPreKey(identity, 1),
    otks: generateOneTimePreKeys(100, 3),
    kem: generateKemPreKey(identity, 9),
  }
}

function bundle(r: Responder, opts: { otk?: boolean; kem?: boolean }): PreKeyBundle {
  return {
    identity: publicIdentity(r.identity),
    signedPreKey: { id: r.spk.id, publicKey: r.spk.keyPair.publicKey },
    oneTimePreKey: opts.otk ? { id: r.otks[0]!.id, publicKey: r.otks[0]!.keyPair.publicKey } : undefined,
    kemPreKey: opts.kem ? { id: r.kem.id, publicKey: r.kem.publicKey } : undefined,
  }
}

function lookup(
  r: Responder,
  init: { oneTimePreKeyId?: number | undefined; kemPreKeyId?: number | undefined },
) {
  return {
    signedPreKey: r.spk.keyPair,
    oneTimePreKey: r.otks.find((k) => k.id === init.oneTimePreKeyId)?.keyPair,
    kemSecretKey: init.kemPreKeyId === r.kem.id ? r.kem.secretKey : undefined,
  }
}

const isCode = (codes: string[]) => (e: unknown) => CryptoError.is(e) && codes.includes(e.code)

describe('X3DH and PQXDH', () => {
  for (const otk of [false, true]) {
    for (const kem of [false, true]) {
      it(`both sides agree (one-time prekey: ${otk}, ML-KEM: ${kem})`, () => {
        const alice = generateIdentity()
        const bob = responder()
        const { secrets, init } = x3dhInitiate(alice, bundle(bob, { otk, kem }))
        const theirs = x3dhRespond(bob.identity, publicIdentity(alice), init, lookup(bob, init))
        assert.equal(bytesToHex(theirs.sharedSecret), bytesToHex(secrets.sharedSecret))
        assert.equal(bytesToHex(theirs.headerKeyInitiator), bytesToHex(secrets.headerKeyInitiator))
        assert.equal(bytesToHex(theirs.headerKeyResponder), bytesToHex(secrets.headerKeyResponder))
        assert.equal(bytesToHex(theirs.associatedData), bytesToHex(secrets.associatedData))
        assert.equal(secrets.postQuantum, kem)
        assert.equal(theirs.postQuantum, kem)
        assert.equal(secrets.associatedData.length, 128)
      })
    }
  }

  it('X3DH and PQXDH of the same keys give unrelated secrets (distinct info strings and inputs)', () => {
    const alice = generateIdentity()
    const bob = responder()
    const fixed = () => new Uint8Array(32).fill(7)
    const classic = x3dhInitiate(alice, bundle(bob, {}), fixed)
    const hybrid = x3dhInitiate(alice, bundle(bob, { kem: true }), fixed)
    assert.notEqual(bytesToHex(classic.secrets.sharedSecret), bytesToHex(hybrid.secrets.sharedSecret))
  })

  it('a prekey the responder does not hold is UnknownPreKey; a wrong one yields different keys', () => {
    const alice = generateIdentity()
    const bob = responder()
    const { secrets, init } = x3dhInitiate(alice, bundle(bob, { otk: true }))
    assert.throws(
      () => x3dhRespond(bob.identity, publicIdentity(alice), init, { signedPreKey: bob.spk.keyPair }),
      isCode(['UnknownPreKey']),
    )
    const wrong = x3dhRespond(bob.identity, publicIdentity(alice), init, {
      signedPreKey: bob.spk.keyPair,
      oneTimePreKey: bob.otks[1]!.keyPair,
    })
    assert.notEqual(bytesToHex(wrong.sharedSecret), bytesToHex(secrets.sharedSecret))
  })

  it('a tampered ML-KEM ciphertext gives a different secret (implicit rejection)', () => {
    const alice = generateIdentity()
    const bob = responder()
    const { secrets, init } = x3dhInitiate(alice, bundle(bob, { kem: true }))
    const ct = init.kemCipherText!.slice()
    ct[10]! ^= 1
    const theirs = x3dhRespond(
      bob.identity,
      publicIdentity(alice),
      { ...init, kemCipherText: ct },
      lookup(bob, init),
    )
    assert.notEqual(bytesToHex(theirs.sharedSecret), bytesToHex(secrets.sharedSecret))
  })

  it('prekey signatures verify for their identity only, and bind the id', () => {
    const bob = responder()
    const other = generateIdentity()
    const signing = bob.identity.signing.publicKey
    assert.ok(verifySignedPreKey(signing, bob.spk.id, bob.spk.keyPair.publicKey, bob.spk.signature))
    assert.ok(
      !verifySignedPreKey(other.signing.publicKey, bob.spk.id, bob.spk.keyPair.publicKey, bob.spk.signature),
    )
    assert.ok(!verifySignedPreKey(signing, bob.spk.id + 1, bob.spk.keyPair.publicKey, bob.spk.signature))
    assert.ok(verifyKemPreKey(signing, bob.kem.id, bob.kem.publicKey, bob.kem.signature))
    // A signed-prekey signature is not a KEM-prekey signature (distinct contexts).
    assert.ok(!verifyKemPreKey(signing, bob.spk.id, bob.spk.keyPair.publicKey, bob.spk.signature))
  })
})

describe('sessions', () => {
  function open(opts: { otk?: boolean; kem?: boolean } = {}) {
    const alice = generateIdentity()
    const bob = responder()
    return { alice, bob, aliceSession: initiateSession(alice, bundle(bob, opts)) }
  }

  it('prekey messages until the first reply, then plain messages; any prekey message can start it', () => {
    const { alice, bob, aliceSession } = open({ otk: true, kem: true })
    let a: Session = aliceSession
    const envelopes = []
    for (const text of ['one', 'two', 'three']) {
      const out = sessionEncrypt(a, utf8(text), alice)
      a = out.session
      assert.equal(out.envelope.type, 'prekey')
      envelopes.push(out.envelope.bytes)
    }
    // The second message arrives first and starts Bob's session.
    const second = decodePreKeyMessage(envelopes[1]!)
    const started = acceptSession(bob.identity, second, lookup(bob, second.init))
    assert.equal(fromUtf8(started.plaintext), 'two')
    assert.ok(started.session.postQuantum)
    let b = started.session
    for (const i of [0, 2]) {
      const decoded = decodePreKeyMessage(envelopes[i]!)
      assert.ok(isSameSession(b, decoded))
      const out = sessionDecrypt(b, decoded.message)
      b = out.session
      assert.equal(fromUtf8(out.plaintext), ['one', 'two', 'three'][i])
    }
    const reply = sessionEncrypt(b, utf8('回复 🙂'), bob.identity)
    assert.equal(reply.envelope.type, 'message')
    const got = sessionDecrypt(a, reply.envelope.bytes)
    assert.equal(fromUtf8(got.plaintext), '回复 🙂')
    a = got.session
    assert.equal(a.pendingInit, undefined)
    assert.equal(sessionEncrypt(a, utf8('now plain'), alice).envelope.type, 'message')
  })

  it('a session survives serialisation at any point, pending X3DH included', () => {
    const { alice, bob, aliceSession } = open({ otk: true, kem: true })
    let a = deserializeSession(serializeSession(aliceSession))
    assert.ok(a.pendingInit?.kemCipherText)
    const first = sessionEncrypt(a, utf8('hi'), alice)
    a = deserializeSession(serializeSession(first.session))
    const decoded = decodePreKeyMessage(first.envelope.bytes)
    let b = deserializeSession(
      serializeSession(acceptSession(bob.identity, decoded, lookup(bob, decoded.init)).session),
    )
    const reply = sessionEncrypt(b, utf8('hello'), bob.identity)
    b = reply.session
    assert.equal(fromUtf8(sessionDecrypt(a, reply.envelope.bytes).plaintext), 'hello')
    assert.equal(
      bytesToHex(serializeSession(deserializeSession(serializeSession(b)))),
      bytesToHex(serializeSession(b)),
    )
  })

  it('the wrong identity cannot take over a session: AD binds both identities', () => {
    const { alice, bob, aliceSession } = open()
    const first = sessionEncrypt(aliceSession, utf8('hi'), alice)
    const decoded = decodePreKeyMessage(first.envelope.bytes)
    const mallory = generateIdentity()
    // Mallory swaps in her identity keys: X3DH gives Bob different secrets and decryption fails.
    const forged = { ...decoded, initiator: publicIdentity(mallory) }
    assert.throws(
      () => acceptSession(bob.identity, forged, lookup(bob, decoded.init)),
      isCode(['DecryptFailed']),
    )
  })

  it('malformed prekey messages are BadMessage, never anything else', () => {
    const { alice, aliceSession } = open({ kem: true })
    const valid = sessionEncrypt(aliceSession, utf8('x'), alice).envelope.bytes
    fc.assert(
      fc.property(fc.nat(), fc.nat({ max: 40 }), fc.uint8Array({ maxLength: 64 }), (pos, cut, junk) => {
        const candidates = [
          junk,
          valid.subarray(0, Math.max(0, valid.length - 1 - cut)),
          Uint8Array.from([...valid.subarray(0, pos % valid.length), ...junk]),
        ]
        for (const bytes of candidates) {
          try {
            decodePreKeyMessage(bytes)
          } catch (e) {
            assert.ok(isCode(['BadMessage'])(e), `unexpected ${String(e)}`)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
