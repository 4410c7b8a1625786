/**
 * The WebRTC-Direct certificate. Its SHA-256 (the /certhash/ in our webrtc-direct address) is on
 * the card, so the same certificate must come back on every start; otherwise a card printed
 * yesterday stops working for browsers today. @libp2p/webrtc only keeps one across restarts
 * through a libp2p keychain, which Jiayi does not run, and does not export its generator, so it
 * is made here the way @libp2p/webrtc makes it (an ECDSA P-256 key, a self-signed X.509
 * certificate from @peculiar/x509, certhash = base64url multihash of SHA-256 over the DER) and
 * kept sealed in the store (the private key never touches the disk in the clear).
 *
 * Lifetime: 365 days, replaced at start when fewer than 30 days remain (the card's certhash then
 * changes once a year; contacts learn the new address through the address-update message).
 * With a caller-supplied certificate @libp2p/webrtc does not renew it while running.
 */
import 'reflect-metadata'
import { createHash, webcrypto } from 'node:crypto'
import { type Store, storeKey } from '@jiayi/core'
import type { NodeNetworkInit } from '@jiayi/core/node'
import * as x509 from '@peculiar/x509'

type TransportCertificate = NonNullable<NodeNetworkInit['webrtcDirectCertificate']>

const RECORD_KEY = () => storeKey('node', 'webrtc-direct-certificate')
const DAY_MS = 86_400_000
export const CERT_LIFETIME_MS = 365 * DAY_MS
export const CERT_RENEW_BEFORE_MS = 30 * DAY_MS

interface CertificateRecord extends TransportCertificate {
  readonly version: 1
  /** ms since the epoch */
  readonly notAfter: number
}

const crypto = webcrypto

function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`].join('\n')
}

export async function generateWebrtcCertificate(now = Date.now()): Promise<CertificateRecord> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const notBefore = new Date(now)
  notBefore.setMilliseconds(0)
  const notAfter = new Date(notBefore.getTime() + CERT_LIFETIME_MS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex'),
      name: 'CN=jiayi',
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    },
    crypto,
  )
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  return {
    version: 1,
    privateKey: pem('PRIVATE KEY', pkcs8),
    pem: cert.toString('pem'),
    certhash: certhashOf(new Uint8Array(cert.rawData)),
    notAfter: notAfter.getTime(),
  }
}

/** The multibase (base64url, 'u') of the SHA-256 multihash (0x12 0x20 ‖ digest) of the DER certificate. */
export function certhashOf(der: Uint8Array): string {
  const digest = createHash('sha256').update(der).digest()
  return `u${Buffer.concat([Buffer.from([0x12, 0x20]), digest]).toString('base64url')}`
}

function parse(bytes: Uint8Array): CertificateRecord | undefined {
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<CertificateRecord>
    if (
      r.version === 1 &&
      typeof r.privateKey === 'string' &&
      typeof r.pem === 'string' &&
      typeof r.certhash === 'string' &&
      typeof r.notAfter === 'number'
    )
      return r as CertificateRecord
  } catch {
    // Unreadable: replaced below.
  }
  return undefined
}

/** The certificate kept in `store`, or a new one (stored) if there is none or it is about to expire. */
export async function loadOrCreateWebrtcCertificate(
  store: Store,
  now = Date.now(),
): Promise<{ certificate: TransportCertificate; created: boolean }> {
  const bytes = await store.get(RECORD_KEY())
  const kept = bytes === undefined ? undefined : parse(bytes)
  if (kept !== undefined && kept.notAfter - now > CERT_RENEW_BEFORE_MS) {
    return {
      certificate: { privateKey: kept.privateKey, pem: kept.pem, certhash: kept.certhash },
      created: false,
    }
  }
  const fresh = await generateWebrtcCertificate(now)
  await store.put(RECORD_KEY(), new TextEncoder().encode(JSON.stringify(fresh)))
  return {
    certificate: { privateKey: fresh.privateKey, pem: fresh.pem, certhash: fresh.certhash },
    created: true,
  }
}
