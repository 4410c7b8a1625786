/**
 * X3DH (Signal, revision 1) and its post-quantum hybrid PQXDH (Signal, revision 3) with
 * ML-KEM-768, on X25519 and HKDF-SHA256.
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
 *   X3DH:  out = HKDF(F || DH1 || DH2 || DH3 [|| DH4])
 *   PQXDH: out = HKDF(F || DH1 || DH2 || DH3 [|| DH4] || SS)      SS = ML-KEM shared secret
 *   F = 32 bytes 0xFF, salt = 32 zero bytes, info = Jiayi's label for the variant.
 *
 * The 96 output bytes are SK || HKa || NHKb: the shared secret and the two initial header keys of
 * the header-encrypted Double Ratchet (its section 4 asks for "shared_hka" and "shared_nhkb").
 * AD = Encode(IK_A) || Encode(IK_B), where Encode is Ed25519 key || X25519 key of the identity.
 */
import { concatBytes, type RandomSource, randomBytes, utf8 } from '../bytes.js'
import type { IdentityKeyPair, PublicIdentity } from '../identity/identity.js'
import { CryptoError } from './errors.js'
import {
  hkdfSha256,
  KEY_BYTES,
  type KeyPair,
  mlKemDecapsulate,
  mlKemEncapsulate,
  x25519KeyPair,
  x25519Shared,
} from './primitives.js'

export const X3DH_INFO = utf8('Jiayi_X3DH_CURVE25519_SHA-256_v1')
export const PQXDH_INFO = utf8('Jiayi_PQXDH_CURVE25519_SHA-256_ML-KEM-768_v1')
const F = new Uint8Array(32).fill(0xff)

/**
 * The responder's public prekeys. Whoever builds this object must already have checked that the
 * identity vouches for them: the card's signature does so for the card's signed prekey, and
 * verifyPreKeyBundle() for keys fetched over the network.
 */
export interface PreKeyBundle {
  readonly identity: PublicIdentity
  readonly signedPreKey: { readonly id: number; readonly publicKey: Uint8Array }
  readonly oneTimePreKey?: { readonly id: number; readonly publicKey: Uint8Array } | undefined
  readonly kemPreKey?: { readonly id: number; readonly publicKey: Uint8Array } | undefined
}

/** What the initiator sends so that the responder can derive the same secrets. */
export interface X3dhInit {
  readonly ephemeralKey: Uint8Array
  readonly signedPreKeyId: number
  readonly oneTimePreKeyId?: number | undefined
  readonly kemPreKeyId?: number | undefined
  readonly kemCipherText?: Uint8Array | undefined
}

export interface X3dhSecrets {
  readonly sharedSecret: Uint8Array
  /** shared_hka: header key of the initiator's first chain. */
  readonly headerKeyInitiator: Uint8Array
  /** shared_nhkb: header key of the responder's first chain. */
  readonly headerKeyResponder: Uint8Array
  readonly associatedData: Uint8Array
  /** Whether ML-KEM took part (PQXDH) or not (X3DH). */
  readonly postQuantum: boolean
}

/** KDF(KM) of the specs: HKDF-SHA256 over F || KM with a zero salt. Exposed for the vector tests. */
export function x3dhKdf(keyMaterial: Uint8Array[], info: Uint8Array, length: number): Uint8Array {
  return hkdfSha256(concatBytes(F, ...keyMaterial), undefined, info, length)
}

export function associatedData(initiator: PublicIdentity, responder: PublicIdentity): Uint8Array {
  return concatBytes(
    initiator.signingKey,
    initiator.agreementKey,
    responder.signingKey,
    responder.agreementKey,
  )
}

function split(out: Uint8Array, ad: Uint8Array, postQuantum: boolean): X3dhSecrets {
  return {
    sharedSecret: out.slice(0, 32),
    headerKeyInitiator: out.slice(32, 64),
    headerKeyResponder: out.slice(64, 96),
    associatedData: ad,
    postQuantum,
  }
}

export function x3dhInitiate(
  self: IdentityKeyPair,
  bundle: PreKeyBundle,
  random: RandomSource = randomBytes,
): { secrets: X3dhSecrets; init: X3dhInit } {
  const ephemeral = x25519KeyPair(random(KEY_BYTES))
  const material = [
    x25519Shared(self.agreement.secretKey, bundle.signedPreKey.publicKey),
    x25519Shared(ephemeral.secretKey, bundle.identity.agreementKey),
    x25519Shared(ephemeral.secretKey, bundle.signedPreKey.publicKey),
  ]
  if (bundle.oneTimePreKey) material.push(x25519Shared(ephemeral.secretKey, bundle.oneTimePreKey.publicKey))
  let kem: { cipherText: Uint8Array; sharedSecret: Uint8Array } | undefined
  if (bundle.kemPreKey) {
    kem = mlKemEncapsulate(bundle.kemPreKey.publicKey, random(32))
    material.push(kem.sharedSecret)
  }
  const ad = associatedData(
    { signingKey: self.signing.publicKey, agreementKey: self.agreement.publicKey },
    bundle.identity,
  )
  const out = x3dhKdf(material, kem ? PQXDH_INFO : X3DH_INFO, 96)
  return {
    secrets: split(out, ad, kem !== undefined),
    init: {
      ephemeralKey: ephemeral.publicKey,
      signedPreKeyId: bundle.signedPreKey.id,
      oneTimePreKeyId: bundle.oneTimePreKey?.id,
      kemPreKeyId: bundle.kemPreKey?.id,
      kemCipherText: kem?.cipherText,
    },
  }
}

/** The responder's private prekeys named by an X3dhInit, looked up by the caller. */
export interface ResponderPreKeys {
  readonly signedPreKey: KeyPair
  readonly oneTimePreKey?: KeyPair | undefined
  readonly kemSecretKey?: Uint8Array | undefined
}

export function x3dhRespond(
  self: IdentityKeyPair,
  initiator: PublicIdentity,
  init: X3dhInit,
  prekeys: ResponderPreKeys,
): X3dhSecrets {
  if ((init.oneTimePreKeyId !== undefined) !== (prekeys.oneTimePreKey !== undefined)) {
    throw new CryptoError('UnknownPreKey', 'one-time prekey named by the message is not available')
  }
  const hasKem = init.kemPreKeyId !== undefined || init.kemCipherText !== undefined
  if (hasKem && (init.kemCipherText === undefined || prekeys.kemSecretKey === undefined)) {
    throw new CryptoError('UnknownPreKey', 'KEM prekey named by the message is not available')
  }
  const material = [
    x25519Shared(prekeys.signedPreKey.secretKey, initiator.agreementKey),
    x25519Shared(self.agreement.secretKey, init.ephemeralKey),
    x25519Shared(prekeys.signedPreKey.secretKey, init.ephemeralKey),
  ]
  if (prekeys.oneTimePreKey) material.push(x25519Shared(prekeys.oneTimePreKey.secretKey, init.ephemeralKey))
  if (hasKem) material.push(mlKemDecapsulate(init.kemCipherText!, prekeys.kemSecretKey!))
  const ad = associatedData(initiator, {
    signingKey: self.signing.publicKey,
    agreementKey: self.agreement.publicKey,
  })
  return split(x3dhKdf(material, hasKem ? PQXDH_INFO : X3DH_INFO, 96), ad, hasKem)
}
