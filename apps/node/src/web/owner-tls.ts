/**
 * The certificate a home node's owner gives it (`jiayi start --serve --tls-cert FILE --tls-key
 * FILE`), e.g. from their domain's certificate authority: PEM files, the certificate file possibly
 * followed by its chain. Read once at start; every way they can be wrong is a `Certificate` error
 * that names the file and what is wrong with it (never the key's bytes), in English and Chinese.
 *
 * The names the certificate holds (its subject alternative names) are where phones reach the home
 * node: its HTTPS server answers only to them, and announces its WSS relay address under them.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { CliError } from '../cli/errors.js'

export interface OwnerTls {
  /** PEM: the certificate and any chain after it, as the file holds them. */
  readonly cert: string
  readonly key: string
  /** DNS names (possibly `*.example.org`) and IP addresses of the certificate, lower-case. */
  readonly names: readonly string[]
  /** SHA-256 of the leaf certificate, colon-separated upper-case hex (what browsers show). */
  readonly fingerprint: string
  /** When it expires (ms since the epoch). */
  readonly notAfter: number
}

function certError(message: string, chinese: string, cause?: unknown): CliError {
  return new CliError('Certificate', `${message} (${chinese})`, cause === undefined ? {} : { cause })
}

async function readPem(option: string, path: string, what: string, whatZh: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw certError(`${option} ${path}: no such file`, `找不到${whatZh}文件`, error)
    if (code === 'EISDIR')
      throw certError(`${option} ${path}: a directory, not a ${what} file`, `这是目录，不是${whatZh}文件`)
    throw certError(`${option} ${path}: cannot be read (${code ?? 'error'})`, `无法读取${whatZh}文件`, error)
  }
}

/** The certificate's DNS names and IP addresses, from its subject alternative names. */
export function certificateNames(x509: X509Certificate): string[] {
  const names: string[] = []
  for (const part of (x509.subjectAltName ?? '').split(/,\s*/)) {
    const dns = /^DNS:(.+)$/.exec(part)
    const ip = /^IP Address:(.+)$/.exec(part)
    if (dns) names.push(dns[1]!.toLowerCase())
    else if (ip) names.push(ip[1]!.toLowerCase())
  }
  return names
}

export async function loadOwnerTls(certPath: string, keyPath: string): Promise<OwnerTls> {
  const [cert, key] = await Promise.all([
    readPem('--tls-cert', certPath, 'certificate', '证书'),
    readPem('--tls-key', keyPath, 'key', '私钥'),
  ])
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (error) {
    throw certError(
      `--tls-cert ${certPath}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
      '不是 PEM 格式的证书',
      error,
    )
  }
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key)
  } catch (error) {
    throw certError(
      `--tls-key ${keyPath}: not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
      '不是未加密的 PEM 私钥',
      error,
    )
  }
  if (!x509.checkPrivateKey(privateKey))
    throw certError(
      `--tls-key ${keyPath} is not the key of the certificate in ${certPath}`,
      '私钥与证书不匹配',
    )
  const names = certificateNames(x509)
  if (names.length === 0)
    throw certError(
      `--tls-cert ${certPath}: the certificate names no host (no subject alternative names); browsers refuse it`,
      '证书没有写明任何主机名',
    )
  return {
    cert,
    key,
    names,
    fingerprint: x509.fingerprint256,
    notAfter: Date.parse(x509.validTo),
  }
}

/** Whether `host` (a Host header's name, lower-case, no port) is one the certificate names. */
export function namedBy(names: readonly string[], host: string): boolean {
  for (const n of names) {
    if (n === host) return true
    // A wildcard stands for exactly one label, as browsers match it.
    if (n.startsWith('*.') && host.endsWith(n.slice(1))) {
      const label = host.slice(0, host.length - n.length + 1)
      if (label !== '' && !label.includes('.')) return true
    }
  }
  return false
}
