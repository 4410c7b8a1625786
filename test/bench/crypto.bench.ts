/**
 * Crypto core benchmarks: ratchet.msgs_per_s, ratchet.dh_step_ms, x3dh.handshakes_per_s
 * (classic and with ML-KEM-768), each against a raw primitive measured in the same run.
 */
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
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { medianMs, opsPerSecond, report } from './report.js'

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
{
  const payload = randomBytes(200)
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const baseline = opsPerSecond(() => {
    const sealed = chacha20poly1305(key, nonce).encrypt(payload)
    chacha20poly1305(key, nonce).decrypt(sealed)
  })
  let { a, b } = establish()
  const value = opsPerSecond(() => {
    const out = sessionEncrypt(a, payload, alice)
    a = out.session
    b = sessionDecrypt(b, out.envelope.bytes).session
  })
  report({
    bench: 'ratchet.msgs_per_s',
    value,
    unit: 'msg/s',
    baseline: 'chacha20poly1305.seal_open_200B_per_s',
    baselineValue: baseline,
    goal: 'ratio >= 0.40',
  })
}

// ratchet.dh_step_ms: receiving a message that carries a new ratchet key (DH, keygen, DH, 2x KDF_RK).
{
  const a1 = x25519.keygen()
  const b1 = x25519.keygen()
  const baseline = medianMs(() => x25519.getSharedSecret(a1.secretKey, b1.publicKey), 101)
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
  })
}

// x3dh.handshakes_per_s: initiator and responder key agreement plus the first message, end to end.
{
  const a1 = x25519.keygen()
  const b1 = x25519.keygen()
  const baseline = opsPerSecond(() => x25519.getSharedSecret(a1.secretKey, b1.publicKey), 1000)
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
    })
  }
}
