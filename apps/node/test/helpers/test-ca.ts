/**
 * A certificate authority made for one test run with the `openssl` command (Debian's), and a server
 * certificate it signs for the given names, as PEM files in `dir`; plus a second key that belongs
 * to no certificate (the wrong key). ECDSA P-256, valid for two days.
 */
import { execFileSync } from 'node:child_process'
import { createHash, createPublicKey } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface TestCertificates {
  readonly caCert: string
  readonly cert: string
  readonly key: string
  readonly wrongKey: string
  /** base64 SHA-256 of the server key's SubjectPublicKeyInfo (Chromium's --ignore-certificate-errors-spki-list). */
  readonly spkiHash: string
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })

export async function makeTestCertificates(dir: string, names: readonly string[]): Promise<TestCertificates> {
  const p = (f: string) => join(dir, f)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=Jiayi test CA',
  )
  openssl('req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${names[0]}`)
  const san = names.map((n) => (/^[0-9.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
  await writeFile(
    p('server.ext'),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  )
  openssl(
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.crt'),
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
  )
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('wrong.key'))
  const spki = createPublicKey(await readFile(p('server.key'), 'utf8')).export({
    type: 'spki',
    format: 'der',
  })
  return {
    caCert: p('ca.crt'),
    cert: p('server.crt'),
    key: p('server.key'),
    wrongKey: p('wrong.key'),
    spkiHash: createHash('sha256').update(spki).digest('base64'),
  }
}
