/**
 * Crypto core benchmarks, under each crypto provider in the same run (`provider`: "node" is
 * node:crypto, what Node runs; "noble" is @noble, what browsers run):
 *
 * - ratchet.msgs_per_s, ratchet.dh_step_ms, x3dh.handshakes_per_s (classic and with ML-KEM-768),
 *   each against a raw primitive of the same provider measured in the same run;
 * - crypto.<primitive>_per_s: one primitive at Jiayi's sizes under node:crypto's provider against
 *   @noble's as the baseline. Where the node provider keeps @noble's code, `nativeCandidate` is
 *   what node:crypto itself measured for the same work (why it is not used).
 */

import { createHash } from 'node:crypto'
import {
  acceptSession,
  decodePreKeyMessage,
  generateIdentity,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  initiateSession,
  type PreKeyBundle,
  publicIdentity,
  randomBytes,
  type Session,
  sessionDecrypt,
  sessionEncrypt,
  utf8,
} from '@jiayi/core'
import {
  type CryptoProvider,
  nobleProvider,
  nodeCryptoProvider,
  setCryptoProvider,
} from '@jiayi/core/node-crypto'
import { compareOpsPerSecond, medianMs, opsPerSecond, report } from './report.js'

const PROVIDERS: readonly CryptoProvider[] = [nodeCryptoProvider, nobleProvider]

const alice = generateIdentity()
const bob = generateIdentity()
const spk = generateSignedPreKey(bob, 1)
const kem = generateKemPreKey(bob, 2)
const [otk] = generateOneTimePreKeys(10, 1)
const bundle: PreKeyBundle = {
  identity: publicIdentity(bob),
  signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicKey },
  oneTimePreKey: { id: otk!.id, publicKey: otk!.keyPair.publicKey },
}

function establish(): { a: Session; b: Session } {
  const first = sessionEncrypt(initiateSession(alice, bundle), utf8('hello'), alice)
  const accepted = acceptSession(bob, decodePreKeyMessage(first.envelope.bytes), {
    signedPreKey: spk.keyPair,
    oneTimePreKey: otk!.keyPair,
  })
  const reply = sessionEncrypt(accepted.session, utf8('hi'), bob)
  return { a: sessionDecrypt(first.session, reply.envelope.bytes).session, b: reply.session }
}

// ratchet.msgs_per_s: one 200-byte message encrypted and decrypted inside one chain.
function ratchetRate(p: CryptoProvider): void {
  const payload = randomBytes(200)
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const out = new Uint8Array(216)
  const baseline = opsPerSecond(() => {
    p.chacha20Poly1305Seal(key, nonce, EMPTY, payload, out)
    p.chacha20Poly1305Open(key, nonce, EMPTY, out)
  })
  let { a, b } = establish()
  const value = opsPerSecond(() => {
    const m = sessionEncrypt(a, payload, alice)
    a = m.session
    b = sessionDecrypt(b, m.envelope.bytes).session
  })
  report({
    bench: 'ratchet.msgs_per_s',
    value,
    unit: 'msg/s',
    baseline: 'chacha20poly1305.seal_open_200B_per_s',
    baselineValue: baseline,
    goal: 'ratio >= 0.40',
    provider: p.name,
  })
}

// ratchet.dh_step_ms: receiving a message that carries a new ratchet key (DH, keygen, DH, 2x KDF_RK).
function dhStep(p: CryptoProvider): void {
  const a1 = randomBytes(32)
  const b1 = p.x25519PublicKey(randomBytes(32))
  const baseline = medianMs(() => p.x25519Shared(a1, b1), 101)
  let { a, b } = establish()
  const times: number[] = []
  for (let i = 0; i < 101; i++) {
    // Each reply turns the conversation around, so each decrypt below takes one DH ratchet step.
    const m = sessionEncrypt(a, utf8('ping'), alice)
    a = m.session
    const t = performance.now()
    b = sessionDecrypt(b, m.envelope.bytes).session
    times.push(performance.now() - t)
    const r = sessionEncrypt(b, utf8('pong'), bob)
    b = r.session
    a = sessionDecrypt(a, r.envelope.bytes).session
  }
  times.sort((x, y) => x - y)
  report({
    bench: 'ratchet.dh_step_ms',
    value: times[50]!,
    unit: 'ms',
    baseline: 'x25519.shared_ms',
    baselineValue: baseline,
    goal: 'ratio <= 2.5',
    provider: p.name,
  })
}

// x3dh.handshakes_per_s: initiator and responder key agreement plus the first message, end to end.
function handshakes(p: CryptoProvider): void {
  const a1 = randomBytes(32)
  const b1 = p.x25519PublicKey(randomBytes(32))
  const baseline = opsPerSecond(() => p.x25519Shared(a1, b1), 1000)
  for (const withKem of [false, true]) {
    const b: PreKeyBundle = withKem
      ? { ...bundle, kemPreKey: { id: kem.id, publicKey: kem.publicKey } }
      : bundle
    const value = opsPerSecond(() => {
      const first = sessionEncrypt(initiateSession(alice, b), utf8('hello'), alice)
      acceptSession(bob, decodePreKeyMessage(first.envelope.bytes), {
        signedPreKey: spk.keyPair,
        oneTimePreKey: otk!.keyPair,
        kemSecretKey: withKem ? kem.secretKey : undefined,
      })
    }, 2000)
    report({
      bench: withKem ? 'x3dh.mlkem_handshakes_per_s' : 'x3dh.handshakes_per_s',
      value,
      unit: 'handshakes/s',
      baseline: 'x25519.shared_per_s',
      baselineValue: baseline,
      mlkem: withKem,
      provider: p.name,
    })
  }
}

const EMPTY = new Uint8Array(0)

for (const p of PROVIDERS) {
  setCryptoProvider(p)
  ratchetRate(p)
  dhStep(p)
  handshakes(p)
}
setCryptoProvider(nodeCryptoProvider)

/** What node:crypto itself does for work the node provider leaves to @noble, against @noble. */
function nativeCandidate(native: () => unknown, noble: () => unknown) {
  const { a, b } = compareOpsPerSecond(native, noble)
  return { nativeCandidate: a, nativeCandidateRatio: a / b }
}

// crypto.ratchet_msgs_per_s, crypto.ratchet_turns_per_s, crypto.x3dh_handshakes_per_s: sessions
// under node:crypto's provider against @noble's, in alternating rounds (both give the same
// bytes, so one session serves both). The per-provider lines above are measured one provider
// after the other while the load moves: compare providers with these.
{
  const payload = randomBytes(200)
  let { a, b } = establish()
  const message = () => {
    const m = sessionEncrypt(a, payload, alice)
    a = m.session
    b = sessionDecrypt(b, m.envelope.bytes).session
  }
  const turn = () => {
    // A reply turns the conversation around: each message below takes one DH ratchet step.
    const m = sessionEncrypt(a, utf8('ping'), alice)
    a = m.session
    b = sessionDecrypt(b, m.envelope.bytes).session
    const r = sessionEncrypt(b, utf8('pong'), bob)
    b = r.session
    a = sessionDecrypt(a, r.envelope.bytes).session
  }
  const under = (p: CryptoProvider, fn: () => void) => () => {
    setCryptoProvider(p)
    fn()
  }
  const handshake = () => {
    const first = sessionEncrypt(initiateSession(alice, bundle), utf8('hello'), alice)
    acceptSession(bob, decodePreKeyMessage(first.envelope.bytes), {
      signedPreKey: spk.keyPair,
      oneTimePreKey: otk!.keyPair,
    })
  }
  for (const [bench, fn, unit, what] of [
    ['crypto.x3dh_handshakes_per_s', handshake, 'handshakes/s', 'X3DH both sides and the first message'],
    [
      'crypto.ratchet_msgs_per_s',
      message,
      'msg/s',
      'a 200-byte message encrypted and decrypted in one chain',
    ],
    ['crypto.ratchet_turns_per_s', turn, 'turns/s', 'two messages each taking a DH ratchet step'],
  ] as const) {
    const r = compareOpsPerSecond(under(nodeCryptoProvider, fn), under(nobleProvider, fn), 9, 300)
    report({
      bench,
      value: r.a,
      unit,
      baseline: bench.replace('crypto.', 'noble.'),
      baselineValue: r.b,
      provider: 'node',
      baselineProvider: 'noble',
      what,
    })
  }
  setCryptoProvider(nodeCryptoProvider)
}

// crypto.<primitive>_per_s: node:crypto's provider against @noble's, at the sizes Jiayi uses.
{
  const key = randomBytes(32)
  const secret = randomBytes(32)
  const msg200 = randomBytes(200)
  const ad = randomBytes(40)
  const nonce12 = randomBytes(12)
  const nonce24 = randomBytes(24)
  const out = new Uint8Array(216)
  const xPublic = nobleProvider.x25519PublicKey(randomBytes(32))
  const edPublic = nobleProvider.ed25519PublicKey(secret)
  const signature = nobleProvider.ed25519Sign(secret, msg200)
  const sealed = new Uint8Array(216)
  nobleProvider.chacha20Poly1305Seal(key, nonce12, ad, msg200, sealed)
  const xsealed = new Uint8Array(216)
  nobleProvider.xchacha20Poly1305Seal(key, nonce24, ad, msg200, xsealed)

  const cases: ReadonlyArray<{
    name: string
    what: string
    run: (p: CryptoProvider) => unknown
    native?: () => unknown
  }> = [
    {
      name: 'sha256_32B',
      what: 'SHA-256 of 32 bytes (a contact id)',
      run: (p) => p.sha256(key),
      native: () => createHash('sha256').update(key).digest(),
    },
    { name: 'sha256_200B', what: 'SHA-256 of 200 bytes', run: (p) => p.sha256(msg200) },
    {
      name: 'sha512_64B',
      what: 'SHA-512 of 64 bytes (safety numbers)',
      run: (p) => p.sha512(msg200.subarray(0, 64)),
    },
    {
      name: 'kdf_ck',
      what: 'KDF_CK: two HMAC-SHA256 of 1 byte under one chain key',
      run: (p) => {
        const keyed = p.hmacSha256With(key)
        keyed(msg200.subarray(0, 1))
        keyed(msg200.subarray(1, 2))
      },
    },
    {
      name: 'hkdf_96B',
      what: 'HKDF-SHA256, 32-byte ikm and salt, 96 bytes out (KDF_RK)',
      run: (p) => p.hkdfSha256(key, secret, ad, 96),
    },
    {
      name: 'chacha20poly1305_200B',
      what: 'ChaCha20-Poly1305 seal + open of 200 bytes (a ratchet body)',
      run: (p) => {
        p.chacha20Poly1305Seal(key, nonce12, ad, msg200, out)
        p.chacha20Poly1305Open(key, nonce12, ad, sealed)
      },
    },
    {
      name: 'xchacha20poly1305_200B',
      what: 'XChaCha20-Poly1305 seal + open of 200 bytes (a store record)',
      run: (p) => {
        p.xchacha20Poly1305Seal(key, nonce24, ad, msg200, out)
        p.xchacha20Poly1305Open(key, nonce24, ad, xsealed)
      },
    },
    { name: 'x25519_shared', what: 'X25519 shared secret', run: (p) => p.x25519Shared(secret, xPublic) },
    {
      name: 'x25519_public',
      what: 'X25519 public key',
      run: (p) => p.x25519PublicKey(secret),
    },
    {
      name: 'ed25519_public',
      what: 'Ed25519 public key',
      run: (p) => p.ed25519PublicKey(secret),
    },
    {
      name: 'ed25519_sign',
      what: 'Ed25519 signature of 200 bytes',
      run: (p) => p.ed25519Sign(secret, msg200),
    },
    {
      name: 'ed25519_verify',
      what: 'Ed25519 strict verification of 200 bytes',
      run: (p) => p.ed25519Verify(edPublic, msg200, signature),
    },
  ]
  for (const c of cases) {
    const { a: value, b: baseline } = compareOpsPerSecond(
      () => c.run(nodeCryptoProvider),
      () => c.run(nobleProvider),
    )
    report({
      bench: `crypto.${c.name}_per_s`,
      value,
      unit: 'ops/s',
      baseline: `noble.${c.name}_per_s`,
      baselineValue: baseline,
      provider: 'node',
      baselineProvider: 'noble',
      what: c.what,
      ...(c.native === undefined ? {} : nativeCandidate(c.native, () => c.run(nobleProvider))),
    })
  }
}
