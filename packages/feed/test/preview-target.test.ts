/**
 * Where a link preview may be fetched from (preview-target.ts), as a table: scheme, port,
 * credentials, literal addresses of every private kind (IPv4, IPv6, IPv4-mapped), local names,
 * and what a host name resolved to.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkPreviewUrl, checkResolved, PreviewError, previewPort } from '../src/preview-target.js'

const REFUSED: [string, string][] = [
  ['ftp://example.com/file', 'BadScheme'],
  ['file:///etc/passwd', 'BadScheme'],
  ['javascript:alert(1)', 'BadScheme'],
  ['gopher://example.com/', 'BadScheme'],
  ['http://example.com:8080/', 'BadPort'],
  ['https://example.com:8443/', 'BadPort'],
  ['http://example.com:22/', 'BadPort'],
  ['http://user:secret@example.com/', 'Credentials'],
  ['http://127.0.0.1/', 'PrivateAddress'],
  ['http://127.1.2.3/', 'PrivateAddress'],
  ['http://0.0.0.0/', 'PrivateAddress'],
  ['http://10.0.0.1/', 'PrivateAddress'],
  ['http://172.16.5.4/', 'PrivateAddress'],
  ['http://192.168.1.1/', 'PrivateAddress'],
  ['http://100.64.0.1/', 'PrivateAddress'],
  ['http://169.254.169.254/latest/meta-data/', 'PrivateAddress'],
  ['http://[::1]/', 'PrivateAddress'],
  ['http://[fe80::1]/', 'PrivateAddress'],
  ['http://[fd00::2]/', 'PrivateAddress'],
  ['http://[::ffff:127.0.0.1]/', 'PrivateAddress'],
  ['http://[::ffff:a00:1]/', 'PrivateAddress'],
  ['http://2130706433/', 'PrivateAddress'], // the URL parser reads it as 127.0.0.1
  ['http://0x7f.1/', 'PrivateAddress'],
  ['http://localhost/', 'PrivateAddress'],
  ['http://LOCALHOST./', 'PrivateAddress'],
  ['http://app.localhost/', 'PrivateAddress'],
  ['http://printer.local/', 'PrivateAddress'],
  ['http://router/', 'PrivateAddress'],
  ['http://nas.home.arpa/', 'PrivateAddress'],
  ['not a url', 'BadUrl'],
]

const ALLOWED = [
  'http://example.com/',
  'https://example.com/page?q=1',
  'http://example.com:80/',
  'https://example.com:443/',
  'http://93.184.216.34/',
  'https://[2606:4700:4700::1111]/',
  'https://shop.example.cn/茶',
]

describe('checkPreviewUrl', () => {
  it('refuses every row with its code', () => {
    for (const [url, code] of REFUSED) {
      assert.throws(() => checkPreviewUrl(url), { name: 'PreviewError', code }, url)
    }
  })

  it('allows public http(s) on ports 80 and 443', () => {
    for (const url of ALLOWED) {
      const u = checkPreviewUrl(url)
      assert.ok([80, 443].includes(previewPort(u)), url)
    }
  })
})

describe('checkResolved', () => {
  it('needs every address to be public', () => {
    assert.equal(checkResolved(['93.184.216.34', '2606:2800:220:1::1']), '93.184.216.34')
    for (const set of [['93.184.216.34', '127.0.0.1'], ['10.0.0.7'], ['::ffff:192.168.0.1'], ['fd00::1']])
      assert.throws(
        () => checkResolved(set),
        (e) => PreviewError.is(e, 'PrivateAddress'),
        set.join(' '),
      )
    assert.throws(
      () => checkResolved([]),
      (e) => PreviewError.is(e, 'NoAddress'),
    )
  })
})
