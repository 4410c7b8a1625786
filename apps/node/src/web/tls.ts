/**
 * The web server's TLS certificate for `--web-lan`: browsers give the camera (to scan a QR code)
 * only to a secure context, and a phone reaches this node by its LAN address, not by 127.0.0.1.
 * A self-signed ECDSA P-256 certificate naming localhost, 127.0.0.1 and this machine's private
 * IPv4 addresses, made at `jiayi init` (or the first start that needs it) and kept sealed in the
 * home's store. It is made again when it nears its end or the machine's LAN addresses changed.
 * Its SHA-256 fingerprint is printed, so a person can check what their phone shows.
 */
import 'reflect-metadata'
import { createHash, webcrypto } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import { type Store, storeKey } from '@jiayi/core'
import * as x509 from '@peculiar/x509'

const RECORD_KEY = () => storeKey('node', 'web-tls-certificate')
const DAY_MS = 86_400_000
const LIFETIME_MS = 397 * DAY_MS
const RENEW_BEFORE_MS = 30 * DAY_MS

export interface WebCertificate {
  readonly key: string
  readonly cert: string
  /** SHA-256 of the DER certificate, as colon-separated upper-case hex (what browsers show). */
  readonly fingerprint: string
  readonly names: readonly string[]
  readonly notAfter: number
}

interface Record extends WebCertificate {
  readonly version: 1
}

/** This machine's private IPv4 addresses (no loopback), for the certificate and the LAN URL. */
export function lanAddresses(): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address)
  }
  return out.sort()
}

function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join('\n')
}

export async function generateWebCertificate(
  ips: readonly string[],
  now = Date.now(),
): Promise<WebCertificate> {
  const crypto = webcrypto
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const notBefore = new Date(now - 60_000)
  const notAfter = new Date(now + LIFETIME_MS)
  const names = ['localhost', '127.0.0.1', ...ips]
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex'),
      name: 'CN=jiayi',
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          ...['127.0.0.1', ...ips].map((value) => ({ type: 'ip' as const, value })),
        ]),
      ],
    },
    crypto,
  )
  const der = new Uint8Array(cert.rawData)
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  return {
    key: pem('PRIVATE KEY', pkcs8),
    cert: cert.toString('pem'),
    fingerprint: fingerprintOf(der),
    names,
    notAfter: notAfter.getTime(),
  }
}

export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/.{2}/g)?.join(':') ?? ''
}

function parse(bytes: Uint8Array): Record | undefined {
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Record>
    if (
      r.version === 1 &&
      typeof r.key === 'string' &&
      typeof r.cert === 'string' &&
      typeof r.fingerprint === 'string' &&
      Array.isArray(r.names) &&
      typeof r.notAfter === 'number'
    )
      return r as Record
  } catch {
    // Unreadable: made again.
  }
  return undefined
}

/** The kept certificate, or a new one when there is none, it nears its end, or an IP is missing. */
export async function loadOrCreateWebCertificate(
  store: Store,
  ips: readonly string[] = lanAddresses(),
  now = Date.now(),
): Promise<{ certificate: WebCertificate; created: boolean }> {
  const bytes = await store.get(RECORD_KEY())
  const kept = bytes === undefined ? undefined : parse(bytes)
  if (
    kept !== undefined &&
    kept.notAfter - now > RENEW_BEFORE_MS &&
    ips.every((ip) => kept.names.includes(ip))
  ) {
    const { version: _, ...certificate } = kept
    return { certificate, created: false }
  }
  const certificate = await generateWebCertificate(ips, now)
  const record: Record = { version: 1, ...certificate }
  await store.put(RECORD_KEY(), new TextEncoder().encode(JSON.stringify(record)))
  return { certificate, created: true }
}
