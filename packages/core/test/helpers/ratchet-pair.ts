/** Two freshly initialised ratchet states that share X3DH-like secrets, for ratchet tests. */
import { randomBytes } from '../../src/bytes.js'
import { x25519KeyPair } from '../../src/crypto/primitives.js'
import { initInitiator, initResponder, type RatchetState } from '../../src/crypto/ratchet/index.js'

export const AD = new TextEncoder().encode('alice-identity|bob-identity')

export function ratchetPair(): { alice: RatchetState; bob: RatchetState } {
  const sharedSecret = randomBytes(32)
  const hka = randomBytes(32)
  const nhkb = randomBytes(32)
  const bobRatchet = x25519KeyPair()
  return {
    alice: initInitiator({
      sharedSecret,
      remoteRatchetKey: bobRatchet.publicKey,
      headerKeySend: hka,
      nextHeaderKeyRecv: nhkb,
    }),
    bob: initResponder({
      sharedSecret,
      ratchetKeyPair: bobRatchet,
      headerKeyRecvNext: hka,
      nextHeaderKeySend: nhkb,
    }),
  }
}
