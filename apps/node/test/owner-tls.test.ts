/**
 * A home node's HTTPS with its owner's certificate (web/owner-tls.ts, web/home-https.ts), without
 * a browser: certificates made by a test CA (openssl); the server in this process on 127.0.0.1.
 *
 * - The files: every way they can be wrong is a `Certificate` error naming the file, in English
 *   and Chinese; the CLI refuses to start with them (exit 1) and with half of the pair.
 * - The server: a client that trusts the CA gets the app, the service worker and its WSS relay
 *   address as it reached it; a client that does not trust it, plain HTTP, another Host name and
 *   any other WebSocket path are refused.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CliError } from '../src/cli/errors.js'
import { nullLog } from '../src/cli/log.js'
import { type HomeHttps, parseHost, startHomeHttps } from '../src/web/home-https.js'
import { loadOwnerTls, namedBy } from '../src/web/owner-tls.js'
import { cleanup, jiayi, tempHome } from './helpers/cli.js'
import { makeTestCertificates, type TestCertificates } from './helpers/test-ca.js'

let dir: string
let certs: TestCertificates

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jiayi-tls-'))
  certs = await makeTestCertificates(dir, ['localhost', '127.0.0.1'])
})
after(async () => {
  await cleanup()
  await rm(dir, { recursive: true, force: true })
})

async function certificateError(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => assert.fail('expected a Certificate error'),
    (e: unknown) => e,
  )
  assert.ok(CliError.is(error, 'Certificate'), String(error))
  return error.message
}

describe('the owner certificate files', () => {
  test('a certificate and its key load, with the names the certificate holds', async () => {
    const tls = await loadOwnerTls(certs.cert, certs.key)
    assert.deepEqual(tls.names, ['localhost', '127.0.0.1'])
    assert.match(tls.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    assert.ok(tls.notAfter > Date.now())
  })

  test('missing, a directory, not PEM, or the wrong key: a Certificate error naming the file', async () => {
    const missing = join(dir, 'nope.pem')
    let m = await certificateError(loadOwnerTls(missing, certs.key))
    assert.ok(m.includes(`--tls-cert ${missing}: no such file`) && m.includes('找不到证书文件'), m)
    m = await certificateError(loadOwnerTls(certs.cert, missing))
    assert.ok(m.includes(`--tls-key ${missing}: no such file`) && m.includes('找不到私钥文件'), m)
    m = await certificateError(loadOwnerTls(dir, certs.key))
    assert.ok(m.includes('a directory') && m.includes('不是证书文件'), m)
    const junk = join(dir, 'junk.pem')
    await writeFile(junk, 'not a certificate\n')
    m = await certificateError(loadOwnerTls(junk, certs.key))
    assert.ok(m.includes('not a PEM certificate') && m.includes('不是 PEM 格式的证书'), m)
    m = await certificateError(loadOwnerTls(certs.cert, junk))
    assert.ok(m.includes('not an unencrypted PEM private key') && m.includes('私钥'), m)
    // The key file given as the certificate: PEM, but not a certificate.
    await certificateError(loadOwnerTls(certs.key, certs.key))
    m = await certificateError(loadOwnerTls(certs.cert, certs.wrongKey))
    assert.ok(m.includes('is not the key of the certificate') && m.includes('私钥与证书不匹配'), m)
    // Nothing of the key's bytes in any message.
    const keyBody = (await readFile(certs.wrongKey, 'utf8')).split('\n')[1]!
    assert.ok(!m.includes(keyBody.slice(0, 16)))
  })

  test('`start --serve` refuses the wrong key, and half of the pair', async () => {
    const home = await tempHome()
    const serve = ['start', '--serve', '--listen', '/ip4/127.0.0.1/tcp/0', '--https-port', '1']
    let r = await jiayi(home, [...serve, '--tls-cert', certs.cert, '--tls-key', certs.wrongKey])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /is not the key of the certificate/)
    assert.match(r.stderr, /私钥与证书不匹配/)
    r = await jiayi(home, ['--json', ...serve, '--tls-cert', certs.cert])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr + r.stdout, /--tls-cert and --tls-key go together/)
  })

  test('Host names match the certificate as browsers match them', () => {
    const names = ['home.example.org', '*.example.net', '10.0.0.1']
    assert.ok(namedBy(names, 'home.example.org'))
    assert.ok(namedBy(names, 'a.example.net'))
    assert.ok(!namedBy(names, 'example.net'))
    assert.ok(!namedBy(names, 'a.b.example.net'))
    assert.ok(!namedBy(names, '.example.net'))
    assert.ok(!namedBy(names, 'evil.example.org'))
    assert.ok(namedBy(names, '10.0.0.1'))
    assert.deepEqual(parseHost('Home.Example.org:8443'), { name: 'home.example.org', port: 8443 })
    assert.deepEqual(parseHost('home.example.org'), { name: 'home.example.org', port: 443 })
    assert.deepEqual(parseHost('[::1]:9'), { name: '::1', port: 9 })
    assert.equal(parseHost('a b'), undefined)
    assert.equal(parseHost('x:99999'), undefined)
  })
})

interface Answer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

describe('the HTTPS server', () => {
  let server: HomeHttps
  let ca: string
  let dist: string
  const peerId = '12D3KooWtestpeerid'

  before(async () => {
    ca = await readFile(certs.caCert, 'utf8')
    dist = join(dir, 'dist')
    await mkdir(dist)
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>Jiayi</title>')
    await writeFile(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {})')
    server = await startHomeHttps({
      dist,
      host: '127.0.0.1',
      port: 0,
      tls: await loadOwnerTls(certs.cert, certs.key),
      peerId,
      // No libp2p listener behind it here: the upgrade tests only reach the refusals.
      relayTarget: () => undefined,
      log: nullLog,
    })
  })
  after(() => server?.close())

  const get = (path: string, host = `localhost:${server.port}`, trust = true) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path,
          servername: 'localhost',
          headers: { host },
          ...(trust ? { ca } : {}),
        },
        (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
        },
      )
      req.on('error', reject)
      req.end()
    })

  test('a client that trusts the certificate gets the app, the service worker and the relay address', async () => {
    const page = await get('/')
    assert.equal(page.status, 200)
    assert.match(page.body, /<title>Jiayi<\/title>/)
    assert.match(String(page.headers['strict-transport-security']), /max-age=/)
    assert.match(String(page.headers['content-security-policy']), /connect-src 'self'/)
    const sw = await get('/sw.js')
    assert.equal(sw.status, 200)
    assert.match(String(sw.headers['content-type']), /^text\/javascript/)
    const relays = JSON.parse((await get('/jiayi-relays.json')).body) as { relays: string[] }
    assert.deepEqual(relays.relays, [`/dns/localhost/tcp/${server.port}/tls/ws/p2p/${peerId}`])
    const byIp = JSON.parse((await get('/jiayi-relays.json', `127.0.0.1:${server.port}`)).body) as {
      relays: string[]
    }
    assert.deepEqual(byIp.relays, [`/ip4/127.0.0.1/tcp/${server.port}/tls/ws/p2p/${peerId}`])
    assert.equal((await get('/api/ws')).status, 404)
  })

  test('attacker: no trust, plain HTTP, another name, another WebSocket path: refused', async () => {
    await assert.rejects(get('/', undefined, false), (e: NodeJS.ErrnoException) =>
      /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/.test(String(e.code)),
    )
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/' }, (res) =>
        resolve(`answered ${res.statusCode}`),
      )
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
      req.end()
    })
    assert.ok(!plain.startsWith('answered'), plain)
    assert.equal((await get('/', `evil.example:${server.port}`)).status, 421)
    assert.equal((await get('/jiayi-relays.json', 'rebound.example')).status, 421)
    const upgrade = (path: string, host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: server.port,
          path,
          servername: 'localhost',
          ca,
          headers: {
            host,
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          },
        })
        req.on('response', (res) => resolve(String(res.statusCode)))
        req.on('upgrade', () => resolve('upgraded'))
        req.on('error', reject)
        req.end()
      })
    assert.equal(await upgrade('/api/ws', `localhost:${server.port}`), '404')
    assert.equal(await upgrade('/', `evil.example:${server.port}`), '421')
  })
})
