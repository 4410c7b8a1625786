/**
 * The contact card codec (src/card): round trip through every link form, the QR size goal, every
 * CardError code with its message, and a fuzz of ≥ 10,000 random and mutated links in which each
 * input either decodes to a card whose signature verifies or throws CardError — nothing else.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { base32upper } from 'multiformats/bases/base32'
import QRCode from 'qrcode'
import { concatBytes, fromUtf8, utf8 } from '../src/bytes.js'
import {
  CARD_VERSION,
  type ContactCard,
  createCard,
  decodeCardBytes,
  MAX_ADDRS,
  MAX_CARD_BYTES,
  MAX_NAME_BYTES,
} from '../src/card/card.js'
import { CardBody, SignedCard } from '../src/card/card-wire.pb.js'
import { CardError } from '../src/card/errors.js'
import {
  cardLink,
  cardQrText,
  cardWebLink,
  decodeCard,
  decodeCardPayload,
  encodeCardPayload,
  linkPayload,
  MAX_LINK_CHARS,
} from '../src/card/link.js'
import { isEd25519PublicKey } from '../src/crypto/primitives.js'
import { SignatureContext } from '../src/identity/contexts.js'
import { peerIdFromDeviceKey } from '../src/identity/device.js'
import { verifySignedBy } from '../src/identity/identity.js'
import * as core from '../src/index.js'
import {
  assertCardError,
  bodyOf,
  type CardOwner,
  certhash,
  forgeCard,
  honestBody,
  lanAddrs,
  makeOwner,
  ownerCard,
  plainCard,
  splitCard,
} from './helpers/card-fixtures.js'

const ORIGIN = 'http://127.0.0.1:5173'
const QR_ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]+$/
/** The message of decodeCard's catch-all: seeing it means some parser threw a non-CardError. */
const CATCH_ALL_MESSAGE = 'the card could not be decoded'

const CHINESE_20 = '我的朋友们都在北京大学读书学习中文很有意' // 20 characters, 60 UTF-8 bytes
const NAME_64_BYTES = `${'李'.repeat(20)}Jia!` // 60 + 4 = 64 UTF-8 bytes

let alice: CardOwner
let bob: CardOwner
let carol: CardOwner
let addrs3: string[]

before(async () => {
  ;[alice, bob, carol] = await Promise.all([makeOwner(7), makeOwner(0xfffffffe), makeOwner(0)])
  addrs3 = await lanAddrs('192.168.1.20')
})

function bytesOfLink(link: string): Uint8Array {
  return decodeCardPayload(linkPayload(link))
}

/** No lone surrogates (String.prototype.isWellFormed is ES2024, past this project's lib). */
function isWellFormed(text: string): boolean {
  return fromUtf8(utf8(text)) === text
}

/** A body field's byte length, for building names of an exact UTF-8 size. */
function utf8Length(text: string): number {
  return utf8(text).length
}

describe('card round trip', () => {
  it('gives back every field through jiayi:add/, the web link and the QR text', () => {
    const names = ['Alice', CHINESE_20, 'Zoë 👩‍💻🐼', `王小明 🎉 (Wang)`, NAME_64_BYTES]
    for (const name of names) {
      const withPeer = [
        `${addrs3[0]}/p2p/${alice.peerId}`,
        addrs3[1]!,
        `${addrs3[2]}/p2p/${alice.peerId}`,
        '/ip6/fe80::1c2d:3eff:fe4f:5a6b/tcp/4001',
      ]
      const bytes = ownerCard(alice, name, withPeer, 1_751_234_567)
      const expected = {
        version: CARD_VERSION,
        name,
        signingKey: alice.identity.signing.publicKey,
        agreementKey: alice.identity.agreement.publicKey,
        deviceKey: alice.deviceKey,
        peerId: alice.peerId,
        signedPreKeyId: 7,
        signedPreKey: alice.signedPreKey.publicKey,
        addrs: [...addrs3, '/ip6/fe80::1c2d:3eff:fe4f:5a6b/tcp/4001'],
        createdAt: 1_751_234_567,
      }
      const link = cardLink(bytes)
      assert.ok(link.startsWith('jiayi:add/'))
      const forms = [
        link,
        cardWebLink(bytes, ORIGIN),
        cardWebLink(bytes, `${ORIGIN}/`),
        cardQrText(bytes),
        link.toLowerCase(),
        cardWebLink(bytes, ORIGIN).toLowerCase(),
        `  \n\t${link}\r\n `,
        ` ${cardWebLink(bytes, 'https://jiayi.example')}\n`,
        `\u00a0${cardQrText(bytes)}\u3000`,
      ]
      for (const form of forms) {
        const card = decodeCard(form)
        assert.deepEqual(
          plainCard(card),
          expected,
          `round trip of ${JSON.stringify(name)} via ${form.slice(0, 30)}`,
        )
      }
      assert.deepEqual(plainCard(decodeCardBytes(bytes)), expected)
      // The public API exports the same functions.
      assert.deepEqual(plainCard(core.decodeCard(core.cardLink(bytes))), expected)
    }
  })

  it('the web link has the documented shape', () => {
    const bytes = ownerCard(alice, 'Alice', addrs3)
    assert.equal(cardWebLink(bytes, ORIGIN), `${ORIGIN}/#add=${encodeCardPayload(bytes)}`)
    assert.equal(cardWebLink(bytes, `${ORIGIN}//`), `${ORIGIN}/#add=${encodeCardPayload(bytes)}`)
    assert.equal(cardQrText(bytes), `JIAYI:ADD/${encodeCardPayload(bytes)}`)
  })

  it('peer id is the libp2p peer id of the device key', () => {
    const card = decodeCard(cardLink(ownerCard(bob, 'Bob', [])))
    assert.equal(card.peerId, bob.peerId)
    assert.equal(card.peerId, peerIdFromDeviceKey(bob.deviceKey).toString())
    assert.match(card.peerId, /^12D3KooW/)
    assert.deepEqual(card.addrs, [])
    assert.equal(card.signedPreKey.id, 0xfffffffe)
  })

  it('createdAt defaults to now, and the same input gives the same bytes', () => {
    const now = Math.floor(Date.now() / 1000)
    const card = decodeCard(
      cardLink(
        createCard(carol.identity, {
          name: 'Carol',
          deviceKey: carol.deviceKey,
          signedPreKey: carol.signedPreKey,
          addrs: [],
        }),
      ),
    )
    assert.ok(Math.abs(card.createdAt - now) <= 5, `createdAt ${card.createdAt} is not now (${now})`)
    assert.equal(card.signedPreKey.id, 0)
    assert.deepEqual(ownerCard(carol, 'Carol', addrs3), ownerCard(carol, 'Carol', addrs3))
  })

  it('round-trips random valid inputs (property)', async () => {
    const certs = await Promise.all(['a', 'b', 'c'].map(certhash))
    const addr = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `/ip4/${ip}/tcp/${port}`),
      fc
        .tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 }))
        .map(([ip, port]) => `/ip4/${ip}/tcp/${port}/ws`),
      fc
        .tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), fc.constantFrom(...certs))
        .map(([ip, port, c]) => `/ip4/${ip}/udp/${port}/webrtc-direct/certhash/${c}`),
    )
    const name = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .filter((s) => utf8Length(s) <= MAX_NAME_BYTES && isWellFormed(s) && !unsafeName(s))
    fc.assert(
      fc.property(
        name,
        fc.nat({ max: 0xffffffff }),
        fc.array(addr, { maxLength: MAX_ADDRS }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (n, preKeyId, as, createdAt) => {
          const owner = { ...alice, signedPreKey: { id: preKeyId, publicKey: alice.signedPreKey.publicKey } }
          const bytes = ownerCard(owner, n, as, createdAt)
          const card = decodeCard(cardQrText(bytes))
          assert.equal(card.name, n)
          assert.equal(card.signedPreKey.id, preKeyId)
          assert.deepEqual(card.addrs, as)
          assert.equal(card.createdAt, createdAt)
          assert.ok(bytes.length <= MAX_CARD_BYTES)
        },
      ),
      { numRuns: 150 },
    )
  })
})

// The characters the decoder refuses in names (C0/C1 controls, bidi marks, embeddings, overrides
// and isolates, zero-width characters, line and paragraph separators).
// biome-ignore lint/suspicious/noControlCharactersInRegex: mirrors the decoder's rule on purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/
// ...except a zero-width joiner between two emoji (👩‍💻), which the decoder allows.
const EMOJI_ZWJ =
  /(?<=[\p{Extended_Pictographic}\p{Emoji_Modifier}]\ufe0f?)\u200d(?=\p{Extended_Pictographic})/gu
const unsafeName = (name: string) => UNSAFE.test(name.replace(EMOJI_ZWJ, ''))

describe('browser peers: an address through a relay keeps the relay id', () => {
  it('round-trips /p2p/<relay>/p2p-circuit/webrtc and drops only our own trailing id', () => {
    const circuit = `/ip4/192.168.1.20/tcp/4002/ws/p2p/${bob.peerId}/p2p-circuit/webrtc`
    const bytes = ownerCard(alice, 'Alice', [`${circuit}/p2p/${alice.peerId}`], 1_751_234_567)
    assert.deepEqual(decodeCardBytes(bytes).addrs, [circuit])
  })

  it('selectCardAddrs keeps one circuit WebRTC address, the relay over WebSockets first', () => {
    const relay = bob.peerId
    const me = alice.peerId
    const listen = [
      `/ip4/192.168.1.20/tcp/4001/p2p/${relay}/p2p-circuit/webrtc/p2p/${me}`,
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${me}`,
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${relay}/p2p-circuit/p2p/${me}`,
      `/ip4/127.0.0.1/tcp/4002/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${me}`,
      `/webrtc/p2p/${me}`,
    ]
    assert.deepEqual(core.selectCardAddrs(listen), [
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${relay}/p2p-circuit/webrtc`,
    ])
    // A relay that also serves WebSockets over TLS (a node's --web-lan port): one address through
    // it for browsers on HTTPS pages, and one without TLS for Node peers.
    const tls = `/ip4/192.168.1.20/tcp/8443/tls/ws/p2p/${relay}/p2p-circuit/webrtc`
    assert.deepEqual(core.selectCardAddrs([...listen, `${tls}/p2p/${me}`]), [
      tls,
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${relay}/p2p-circuit/webrtc`,
    ])
    // A node's own WebSockets slot: plain ws before its web port's TLS address.
    assert.deepEqual(
      core.selectCardAddrs([
        `/ip4/192.168.1.20/tcp/8443/tls/ws/p2p/${me}`,
        `/ip4/192.168.1.20/tcp/4002/ws/p2p/${me}`,
      ]),
      ['/ip4/192.168.1.20/tcp/4002/ws'],
    )
    // Node peers' own listeners are unaffected.
    assert.deepEqual(core.selectCardAddrs([`/ip4/192.168.1.20/tcp/4001/p2p/${me}`]), [
      '/ip4/192.168.1.20/tcp/4001',
    ])
  })

  it("selectCardAddrs keeps the home node's plain TCP circuit, in the last place when the card is full", () => {
    const home = bob.peerId
    const me = alice.peerId
    const circuit = `/ip4/198.51.100.7/tcp/4001/p2p/${home}/p2p-circuit`
    const listen = [
      `${circuit}/p2p/${me}`,
      `/ip4/192.168.1.20/tcp/4001/p2p/${me}`,
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${me}`,
      `/ip4/192.168.1.20/udp/4003/webrtc-direct/p2p/${me}`,
    ]
    assert.deepEqual(core.selectCardAddrs(listen), [
      '/ip4/192.168.1.20/tcp/4001',
      '/ip4/192.168.1.20/tcp/4002/ws',
      circuit,
    ])
    // A plain circuit over anything but TCP is not a home node's: never on the card.
    assert.deepEqual(
      core.selectCardAddrs([`/ip4/192.168.1.20/tcp/4002/ws/p2p/${home}/p2p-circuit/p2p/${me}`]),
      [],
    )
  })

  it('selectCardAddrs keeps a port the router forwards (UPnP) after the LAN, before the circuit', () => {
    const home = bob.peerId
    const me = alice.peerId
    const circuit = `/ip4/198.51.100.7/tcp/4001/p2p/${home}/p2p-circuit`
    const lanAddrs = [
      `/ip4/192.168.1.20/tcp/4001/p2p/${me}`,
      `/ip4/192.168.1.20/tcp/4002/ws/p2p/${me}`,
      `/ip4/192.168.1.20/udp/4003/webrtc-direct/p2p/${me}`,
    ]
    const mapped = [`/ip4/88.0.0.11/tcp/4002/ws/p2p/${me}`, `/ip4/88.0.0.11/tcp/4001/p2p/${me}`]
    // TCP before WebSockets; the LAN's addresses give up the last place to it.
    assert.deepEqual(core.selectCardAddrs([...lanAddrs, ...mapped]), [
      '/ip4/192.168.1.20/tcp/4001',
      '/ip4/192.168.1.20/tcp/4002/ws',
      '/ip4/88.0.0.11/tcp/4001',
    ])
    assert.deepEqual(core.selectCardAddrs([...mapped, ...lanAddrs, `${circuit}/p2p/${me}`]), [
      '/ip4/192.168.1.20/tcp/4001',
      '/ip4/88.0.0.11/tcp/4001',
      circuit,
    ])
    // A host on a public IP (a VPS) has no LAN: its addresses are ranked as before.
    assert.deepEqual(core.selectCardAddrs(mapped), ['/ip4/88.0.0.11/tcp/4002/ws', '/ip4/88.0.0.11/tcp/4001'])
  })
})

describe('card size goal: QR version ≤ 15 at level M with 3 addresses', () => {
  it('measures link length and QR version', (t) => {
    const cases: [string, string][] = [
      ['name 5 ASCII chars', 'Alice'],
      ['name 20 Chinese chars', CHINESE_20],
      ['name 64 bytes (maximum)', NAME_64_BYTES],
    ]
    assert.equal(utf8Length(NAME_64_BYTES), MAX_NAME_BYTES)
    assert.equal([...CHINESE_20].length, 20)
    const rows: string[] = [
      `addresses: ${addrs3.join('  ')}`,
      '| name | card bytes | jiayi:add/ link chars | QR version (M) | web link chars | web link QR version (M) |',
      '|---|---|---|---|---|---|',
    ]
    for (const [label, name] of cases) {
      const bytes = ownerCard(alice, name, addrs3, 1_751_234_567)
      const qrText = cardQrText(bytes)
      const web = cardWebLink(bytes, ORIGIN)
      const qr = QRCode.create(qrText, { errorCorrectionLevel: 'M' })
      const webQr = QRCode.create(web, { errorCorrectionLevel: 'M' })
      assert.match(qrText, QR_ALPHANUMERIC, 'the QR text stays in the QR alphanumeric set')
      for (const segment of qr.segments) {
        assert.notEqual(segment.mode.id, 'Byte', 'the QR text needs no byte-mode segment')
      }
      assert.ok(
        qr.version <= 15,
        `${label}: QR version ${qr.version} exceeds 15 (link ${qrText.length} chars)`,
      )
      assert.equal(decodeCard(qrText).name, name)
      rows.push(
        `| ${label} | ${bytes.length} | ${cardLink(bytes).length} | ${qr.version} | ${web.length} | ${webQr.version} |`,
      )
    }
    for (const row of rows) {
      t.diagnostic(row)
      console.log(row)
    }
  })

  it('cardQrText uses only the QR alphanumeric set, for every card shape', () => {
    for (const name of ['a', 'Alice', CHINESE_20, NAME_64_BYTES, '👩‍💻']) {
      for (const as of [[], addrs3, ['/dns4/relay.jiayi.example/tcp/443/wss']]) {
        assert.match(cardQrText(ownerCard(bob, name, as)), QR_ALPHANUMERIC)
      }
    }
  })
})

describe('CardError codes', () => {
  it('BadLink: the text is not a Jiayi add link', () => {
    const payload = encodeCardPayload(ownerCard(alice, 'Alice', addrs3))
    const notLinks = [
      '',
      '   ',
      'hello world',
      'Add me on Jiayi!',
      'http://127.0.0.1:5173/',
      'https://jiayi.example/#chat=ABCD',
      `https://jiayi.example/?add=${payload}`,
      `jiayi:foo/${payload}`,
      `jiayi:${payload}`,
      `jiayi/add/${payload}`,
      `ftp://jiayi.example/#add=${payload}`,
      `javascript:alert(1)//#add=${payload}`,
      `#add=${payload}`,
      `http://exa mple.com/#add=${payload}`,
      payload,
    ]
    for (const text of notLinks) {
      assertCardError(() => decodeCard(text), 'BadLink', /not a Jiayi card link/)
    }
    for (const value of [undefined, null, 42, {}, new Uint8Array(4)]) {
      assertCardError(() => decodeCard(value as unknown as string), 'BadLink', /must be text/)
    }
  })

  it('TooLarge: huge links, payloads and binary cards', () => {
    assertCardError(() => decodeCard(`jiayi:add/${'A'.repeat(MAX_LINK_CHARS)}`), 'TooLarge', /too long/)
    assertCardError(() => decodeCard('x'.repeat(1_000_000)), 'TooLarge', /too long/)
    assertCardError(() => decodeCard(`${' '.repeat(MAX_LINK_CHARS)}jiayi:add/AA`), 'TooLarge')
    // A payload over the card limit in a link under the text limit.
    const overLimit = encodeCardPayload(new Uint8Array(MAX_CARD_BYTES + 1))
    assert.ok(`jiayi:add/${overLimit}`.length <= MAX_LINK_CHARS)
    assertCardError(() => decodeCard(`jiayi:add/${overLimit}`), 'TooLarge', /too large/)
    assertCardError(() => decodeCard(`${ORIGIN}/#add=${overLimit}`), 'TooLarge', /too large/)
    assertCardError(() => decodeCardBytes(new Uint8Array(MAX_CARD_BYTES + 1)), 'TooLarge', /larger than 1536/)
    // A signed card with a body padded past the limit is refused by size before anything else.
    const padded = forgeCard(alice.identity, honestBody(alice), {
      appendToBody: concatBytes(Uint8Array.of(0x7a, 0x8c, 0x0c), new Uint8Array(1548)),
    })
    assert.ok(padded.length > MAX_CARD_BYTES)
    assertCardError(() => decodeCardBytes(padded), 'TooLarge')
  })

  it('BadEncoding: not base32', () => {
    const link = cardLink(ownerCard(alice, 'Alice', addrs3))
    const payload = link.slice('jiayi:add/'.length)
    const at = Math.floor(payload.length / 2)
    for (const bad of [
      '1',
      '8',
      '0',
      '9',
      '=',
      '-',
      '_',
      '+',
      '/',
      ' ',
      'é',
      'ſ',
      'ı',
      'ß',
      '\u200b',
      '😀',
    ]) {
      const mutated = `jiayi:add/${payload.slice(0, at)}${bad}${payload.slice(at + 1)}`
      assertCardError(() => decodeCard(mutated), 'BadEncoding', /not base32/)
    }
    // Unicode upper-casing must not turn look-alikes into base32 ('ſ'→'S', 'ı'→'I', 'ß'→'SS',
    // 'ﬆ'→'ST'): the link would otherwise decode to the very card it imitates.
    for (const [ascii, lookAlike] of [
      ['S', 'ſ'],
      ['I', 'ı'],
      ['SS', 'ß'],
      ['ST', 'ﬆ'],
    ] as const) {
      assert.equal(lookAlike.toUpperCase(), ascii)
      let original = cardLink(ownerCard(alice, 'Alice', addrs3))
      for (let t = 1; !original.slice(10).includes(ascii); t++) {
        original = cardLink(ownerCard(alice, 'Alice', addrs3, 1_750_000_000 + t))
      }
      const imitation = `jiayi:add/${original.slice(10).toLowerCase().replace(ascii.toLowerCase(), lookAlike)}`
      assert.notEqual(imitation.toLowerCase(), original.toLowerCase())
      assertCardError(() => decodeCard(imitation), 'BadEncoding', /not base32/)
    }
    assertCardError(() => decodeCard('jiayi:add/'), 'BadEncoding', /not base32/)
    assertCardError(() => decodeCard(`${ORIGIN}/#add=`), 'BadEncoding', /not base32/)
    assertCardError(() => decodeCard(`${ORIGIN}/#add=${payload}&utm=x`), 'BadEncoding', /not base32/)
    assertCardError(() => decodeCard(`jiayi:add/${payload.slice(0, at)} ${payload.slice(at)}`), 'BadEncoding')
    assertCardError(() => decodeCard(`jiayi:add/${payload}=`), 'BadEncoding', /not base32/)
  })

  it('BadEncoding: trailing bits set, truncated payloads and structures', async () => {
    // Find a card whose base32 form has spare bits in its last character.
    let bytes = ownerCard(alice, 'A', addrs3)
    for (let n = 2; (bytes.length * 8) % 5 === 0; n++) bytes = ownerCard(alice, 'A'.repeat(n), addrs3)
    const link = cardLink(bytes)
    const spare = 5 * (link.length - 'jiayi:add/'.length) - 8 * bytes.length
    assert.ok(spare > 0 && spare < 5)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    const last = alphabet.indexOf(link.at(-1)!)
    assert.equal(last & ((1 << spare) - 1), 0, 'an honest encoder leaves the spare bits zero')
    const withTrailing = link.slice(0, -1) + alphabet[last | 1]
    assertCardError(() => decodeCard(withTrailing), 'BadEncoding', /damaged or cut short; copy it again/)
    assertCardError(
      () => decodeCard(withTrailing.toLowerCase()),
      'BadEncoding',
      /damaged or cut short; copy it again/,
    )

    // Base32 lengths that no byte string has (1, 3, 6 characters mod 8).
    assertCardError(() => decodeCard('jiayi:add/A'), 'BadEncoding', /cut short/)
    assertCardError(() => decodeCard('jiayi:add/AAA'), 'BadEncoding', /cut short/)
    // Truncated payloads and truncated binary cards.
    for (let cut = 1; cut <= 12; cut++) {
      assertCardError(() => decodeCard(link.slice(0, -cut)), 'BadEncoding')
      assertCardError(() => decodeCardBytes(bytes.subarray(0, bytes.length - cut)), 'BadEncoding')
    }
    assertCardError(() => decodeCard(link.slice(0, 'jiayi:add/'.length + 8)), 'BadEncoding')
    assertCardError(
      () => decodeCardBytes(Uint8Array.of(0x0a, 0x40, 1, 2, 3)),
      'BadEncoding',
      /not a valid structure/,
    )
    assertCardError(() => decodeCardBytes(Uint8Array.of(0x0f)), 'BadEncoding', /not a valid structure/)
  })

  it('BadEncoding: a signed but non-canonical protobuf', () => {
    const body = honestBody(alice)
    const sign = (rawBody: Uint8Array) => cardLink(forgeCard(alice.identity, {}, { rawBody }))
    // Control: the forger's honest output is accepted, so each case below fails ONLY canonicality.
    assert.equal(decodeCard(cardLink(forgeCard(alice.identity, body))).name, 'Mallory')
    assert.equal(decodeCard(sign(CardBody.encode(body))).name, 'Mallory')

    const { version, name, ...afterName } = body
    const { signedPrekeyId, signedPrekey, addrs, createdAt, ...beforePreKeyId } = body
    const cases: [string, Uint8Array][] = [
      ['an unknown varint field appended', concatBytes(CardBody.encode(body), Uint8Array.of(15 << 3, 1))],
      [
        'an unknown bytes field appended',
        concatBytes(CardBody.encode(body), Uint8Array.of((12 << 3) | 2, 1, 0xaa)),
      ],
      [
        'an unknown field in front',
        concatBytes(Uint8Array.of((13 << 3) | 5, 0, 0, 0, 0), CardBody.encode(body)),
      ],
      [
        'the name repeated (last one wins)',
        concatBytes(CardBody.encode(body), CardBody.encode({ name: 'Eve' })),
      ],
      [
        'fields out of order',
        concatBytes(CardBody.encode({ ...afterName, name }), CardBody.encode({ version })),
      ],
      ['an explicit field appended again', concatBytes(CardBody.encode(body), Uint8Array.of(6 << 3, 7))],
      [
        'a non-minimal varint',
        concatBytes(
          CardBody.encode(beforePreKeyId),
          Uint8Array.of(6 << 3, 0x81, 0x00), // signedPrekeyId = 1 in two bytes
          CardBody.encode({ signedPrekey, addrs, createdAt }),
        ),
      ],
      [
        'a non-minimal length',
        concatBytes(
          CardBody.encode({ version }),
          Uint8Array.of((2 << 3) | 2, 0x87, 0x00), // length 7 in two bytes
          utf8(name),
          CardBody.encode(afterName),
        ),
      ],
      [
        'an explicit zero (the default is omitted)',
        concatBytes(
          CardBody.encode(beforePreKeyId),
          Uint8Array.of(6 << 3, 0x00), // signedPrekeyId = 0 written out
          CardBody.encode({ signedPrekey, addrs, createdAt }),
        ),
      ],
      ['invalid UTF-8 in the name', invalidUtf8NameBody(body)],
    ]
    assert.equal(name, 'Mallory')
    assert.equal(signedPrekeyId, 7)
    for (const [what, raw] of cases) {
      try {
        assertCardError(() => decodeCard(sign(raw)), 'BadEncoding', /card body is not in canonical form/)
      } catch (error) {
        throw new Error(`${what}: ${(error as Error).message}`)
      }
    }
    // The outer structure must be canonical too.
    const honest = forgeCard(alice.identity, body)
    const { body: bodyBytes, signature } = splitCard(honest)
    const outerCases: Uint8Array[] = [
      concatBytes(honest, Uint8Array.of(3 << 3, 1)),
      concatBytes(
        SignedCard.encode({ signature: signature as Uint8Array<ArrayBuffer> }),
        SignedCard.encode({ body: bodyBytes as Uint8Array<ArrayBuffer> }),
      ),
      concatBytes(honest, SignedCard.encode({ signature: signature as Uint8Array<ArrayBuffer> })),
    ]
    for (const raw of outerCases) {
      assertCardError(() => decodeCard(cardLink(raw)), 'BadEncoding', /^card is not in canonical form/)
    }
  })

  it('BadVersion: a signed card of another version', () => {
    for (const version of [2, 3, 0xffffffff]) {
      const bytes = forgeCard(alice.identity, honestBody(alice, { version }))
      const error = assertCardError(
        () => decodeCard(cardLink(bytes)),
        'BadVersion',
        new RegExp(`version ${version}\\b`),
      )
      assert.match(error.message, /not supported/)
    }
    assertCardError(
      () => decodeCard(cardLink(forgeCard(alice.identity, honestBody(alice, { version: 0 })))),
      'BadVersion',
    )
  })

  it('BadField: every field out of bounds, in a card signed by the identity it names', async () => {
    const badPoint = nonPointKey()
    const nonCanonicalY = Uint8Array.from([0xed, ...new Array(30).fill(0xff), 0x7f]) // y = p
    assert.ok(!isEd25519PublicKey(badPoint) && !isEd25519PublicKey(nonCanonicalY))
    const ma = (text: string) => multiaddr(text).bytes as Uint8Array<ArrayBuffer>
    const key31 = new Uint8Array(31).fill(9)
    const cases: [string, Partial<CardBody>, RegExp][] = [
      ['empty name', { name: '' }, /name must be 1 to 64 UTF-8 bytes/],
      ['65-byte name', { name: 'x'.repeat(65) }, /name must be 1 to 64/],
      ['65-byte Chinese name', { name: `${'中'.repeat(21)}xx` }, /name must be 1 to 64/],
      ['BEL in the name', { name: 'Ali\u0007ce' }, /control, text-direction or invisible/],
      ['newline in the name', { name: 'Alice\nBank' }, /control, text-direction or invisible/],
      ['NUL in the name', { name: 'Alice\u0000' }, /control, text-direction or invisible/],
      ['DEL in the name', { name: 'Alice\u007f' }, /control, text-direction or invisible/],
      ['C1 control in the name', { name: 'Alice\u0085' }, /control, text-direction or invisible/],
      ['U+202E in the name', { name: 'Alice\u202egnp.exe' }, /control, text-direction or invisible/],
      ['U+202A in the name', { name: '\u202aAlice' }, /control, text-direction or invisible/],
      ['U+2067 in the name', { name: 'Alice\u2067' }, /control, text-direction or invisible/],
      ['RLM in the name', { name: 'Alice\u200f' }, /control, text-direction or invisible/],
      ['LRM in the name', { name: '\u200eAlice' }, /control, text-direction or invisible/],
      ['ALM in the name', { name: 'Alice\u061c' }, /control, text-direction or invisible/],
      ['zero-width space in the name', { name: 'Ali\u200bce' }, /control, text-direction or invisible/],
      ['zero-width joiner in the name', { name: 'Ali\u200dce' }, /control, text-direction or invisible/],
      ['word joiner in the name', { name: 'Ali\u2060ce' }, /control, text-direction or invisible/],
      ['BOM in the name', { name: '\ufeffAlice' }, /control, text-direction or invisible/],
      ['line separator in the name', { name: 'Alice\u2028Bank' }, /control, text-direction or invisible/],
      [
        'paragraph separator in the name',
        { name: 'Alice\u2029Bank' },
        /control, text-direction or invisible/,
      ],
      [
        '9 addresses',
        { addrs: Array.from({ length: 9 }, (_, i) => ma(`/ip4/10.0.0.${i}/tcp/4001`)) },
        /at most 8/,
      ],
      ['bad multiaddr bytes', { addrs: [Uint8Array.of(0xff, 0xff, 0xff, 0x0f)] }, /not a valid multiaddr/],
      [
        'truncated multiaddr',
        { addrs: [ma('/ip4/192.168.1.20/tcp/4001').slice(0, 4)] },
        /not a valid multiaddr/,
      ],
      [
        'empty multiaddr',
        { addrs: [ma('/ip4/1.2.3.4/tcp/1'), new Uint8Array(0) as Uint8Array<ArrayBuffer>] },
        /not a valid multiaddr/,
      ],
      [
        'a /p2p/ inside an address',
        { addrs: [ma(`/ip4/192.168.1.20/tcp/4001/p2p/${alice.peerId}`)] },
        /not a valid multiaddr/,
      ],
      ['a bare /p2p/ address', { addrs: [ma(`/p2p/${bob.peerId}`)] }, /not a valid multiaddr/],
      [
        'our own /p2p/ after a relay hop',
        { addrs: [ma(`/ip4/192.168.1.2/tcp/1/ws/p2p/${bob.peerId}/p2p-circuit/webrtc/p2p/${alice.peerId}`)] },
        /not a valid multiaddr/,
      ],
      [
        'a /p2p/ that is no relay hop',
        { addrs: [ma(`/ip4/192.168.1.2/tcp/1/ws/p2p/${bob.peerId}/webrtc`)] },
        /not a valid multiaddr/,
      ],
      [
        'an address over 128 bytes',
        { addrs: [ma(`/dns4/${'a'.repeat(130)}.example/tcp/443/wss`)] },
        /too long/,
      ],
      ['31-byte identity signing key', { identitySigningKey: key31 }, /identity signing key is invalid/],
      [
        '33-byte identity signing key',
        { identitySigningKey: new Uint8Array(33).fill(1) },
        /identity signing key/,
      ],
      ['missing identity signing key', { identitySigningKey: new Uint8Array(0) }, /identity signing key/],
      [
        'invalid Ed25519 point as identity key',
        { identitySigningKey: badPoint },
        /identity signing key is invalid/,
      ],
      [
        'non-canonical Ed25519 identity key',
        { identitySigningKey: nonCanonicalY },
        /identity signing key is invalid/,
      ],
      ['31-byte agreement key', { identityAgreementKey: key31 }, /agreement key must be 32 bytes/],
      ['31-byte signed prekey', { signedPrekey: key31 }, /signed prekey must be 32 bytes/],
      ['missing signed prekey', { signedPrekey: new Uint8Array(0) }, /signed prekey must be 32 bytes/],
      ['31-byte device key', { deviceKey: key31 }, /device key/],
      ['33-byte device key', { deviceKey: new Uint8Array(33).fill(2) }, /device key/],
      ['missing device key', { deviceKey: new Uint8Array(0) }, /device key/],
      ['invalid Ed25519 point as device key', { deviceKey: badPoint }, /device key is not a valid Ed25519/],
      ['creation time past 2^53', { createdAt: 2n ** 53n }, /creation time/],
      ['creation time 2^64-1', { createdAt: 2n ** 64n - 1n }, /creation time/],
    ]
    for (const [what, overrides, message] of cases) {
      const bytes = forgeCard(alice.identity, honestBody(alice, overrides))
      try {
        assertCardError(() => decodeCard(cardLink(bytes)), 'BadField', message)
      } catch (error) {
        throw new Error(`${what}: ${(error as Error).message}`)
      }
    }
    // Exactly at the limits is fine.
    const edge = honestBody(alice, {
      name: NAME_64_BYTES,
      addrs: Array.from({ length: 8 }, (_, i) => ma(`/ip4/10.0.0.${i}/tcp/4001`)),
      createdAt: BigInt(Number.MAX_SAFE_INTEGER),
    })
    const card = decodeCard(cardLink(forgeCard(alice.identity, edge)))
    assert.equal(card.addrs.length, 8)
    assert.equal(card.createdAt, Number.MAX_SAFE_INTEGER)
    // A signature of the wrong size.
    for (const size of [0, 63, 65]) {
      const bytes = forgeCard(alice.identity, honestBody(alice), { signature: new Uint8Array(size).fill(1) })
      assertCardError(() => decodeCardBytes(bytes), 'BadField', /signature must be 64 bytes/)
    }
    // createCard refuses to make such cards in the first place.
    const input = { deviceKey: alice.deviceKey, signedPreKey: alice.signedPreKey, addrs: [] }
    assertCardError(() => createCard(alice.identity, { ...input, name: '' }), 'BadField')
    assertCardError(() => createCard(alice.identity, { ...input, name: 'a\u202eb' }), 'BadField')
    assertCardError(() => createCard(alice.identity, { ...input, name: 'y'.repeat(65) }), 'BadField')
    // An address that is only the /p2p/ suffix would strip to an empty (meaningless) multiaddr.
    assertCardError(
      () => createCard(alice.identity, { ...input, name: 'A', addrs: [`/p2p/${alice.peerId}`] }),
      'BadField',
      /not a valid multiaddr/,
    )
  })

  it('BadSignature: tampered, re-signed and spliced cards', () => {
    const a = ownerCard(alice, 'Alice', addrs3, 1_751_000_000)
    const b = ownerCard(bob, 'Bob', ['/ip4/10.1.2.3/tcp/9999'], 1_752_000_000)
    const { body: aBody, signature: aSig } = splitCard(a)
    const wrap = (body: Uint8Array, signature: Uint8Array) =>
      cardLink(
        SignedCard.encode({
          body: body as Uint8Array<ArrayBuffer>,
          signature: signature as Uint8Array<ArrayBuffer>,
        }),
      )

    // One flipped bit anywhere in the signature.
    for (const bit of [0, 1, 7, 8, 100, 255, 256, 300, 504, 511]) {
      const sig = Uint8Array.from(aSig)
      sig[bit >> 3]! ^= 1 << (bit & 7)
      assertCardError(
        () => decodeCard(wrap(aBody, sig)),
        'BadSignature',
        /not signed by the identity it names/,
      )
    }
    // Alice's card re-signed by Bob; signed in another context; Bob's signature on Alice's body.
    assertCardError(
      () => decodeCard(cardLink(forgeCard(alice.identity, bodyOf(a), { signer: bob.identity }))),
      'BadSignature',
    )
    assertCardError(
      () =>
        decodeCard(
          cardLink(forgeCard(alice.identity, bodyOf(a), { context: SignatureContext.DeviceCertificate })),
        ),
      'BadSignature',
    )
    assertCardError(() => decodeCard(wrap(aBody, splitCard(b).signature)), 'BadSignature')
    // Every field swapped in from another card, keeping Alice's signature.
    const aFields = bodyOf(a)
    const bFields = bodyOf(b)
    const swappable = Object.keys(aFields).filter((k) => k !== 'version') as (keyof CardBody)[]
    assert.equal(swappable.length, 8)
    for (const field of swappable) {
      assert.notDeepEqual(aFields[field], bFields[field], `fixture cards differ in ${field}`)
      const mixed = CardBody.encode({ ...aFields, [field]: bFields[field] })
      assertCardError(() => decodeCard(wrap(mixed, aSig)), 'BadSignature', undefined)
    }
    // Every single-bit change of the body that still parses is caught by the signature.
    let caught = 0
    for (let bit = 0; bit < aBody.length * 8; bit += 3) {
      const body = Uint8Array.from(aBody)
      body[bit >> 3]! ^= 1 << (bit & 7)
      try {
        decodeCard(wrap(body, aSig))
        assert.fail(`a flipped body bit ${bit} was accepted`)
      } catch (error) {
        assert.ok(CardError.is(error))
        if (error.code === 'BadSignature') caught++
      }
    }
    assert.ok(caught > 100, `only ${caught} body flips reached the signature check`)
    // A small-order identity key is a valid encoding, but strict verification never accepts it.
    const smallOrder = new Uint8Array(32)
    smallOrder[0] = 1 // the identity point (y = 1)
    assert.ok(isEd25519PublicKey(smallOrder))
    const forged = forgeCard(
      alice.identity,
      honestBody(alice, { identitySigningKey: smallOrder as Uint8Array<ArrayBuffer> }),
      {
        signature: concatBytes(smallOrder, new Uint8Array(32)),
      },
    )
    assertCardError(() => decodeCardBytes(forged), 'BadSignature')
  })
})

/** A 32-byte string that is not the encoding of any Ed25519 point (found deterministically). */
function nonPointKey(): Uint8Array<ArrayBuffer> {
  for (let i = 2; i < 256; i++) {
    const candidate = new Uint8Array(32)
    candidate[0] = i
    if (!isEd25519PublicKey(candidate)) return candidate
  }
  throw new Error('no non-point found')
}

/** A signed body whose name field holds invalid UTF-8 (0xff is never valid). */
function invalidUtf8NameBody(body: CardBody): Uint8Array {
  const { version, name: _name, ...rest } = body
  return concatBytes(
    CardBody.encode({ version }),
    Uint8Array.of((2 << 3) | 2, 3, 0x41, 0xff, 0x42),
    CardBody.encode(rest),
  )
}

// ---------------------------------------------------------------------------------------------
// Fuzz: ≥ 10,000 random and mutated links.
// ---------------------------------------------------------------------------------------------

type Outcome = 'ok' | (typeof CardError.codes)[number]

class Tally {
  readonly counts = new Map<string, number>()
  total = 0
  add(group: string, outcome: Outcome): void {
    const key = `${group}:${outcome}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    this.total++
  }
  get(group: string, outcome: Outcome): number {
    return this.counts.get(`${group}:${outcome}`) ?? 0
  }
  group(group: string): number {
    let n = 0
    for (const [k, v] of this.counts) if (k.startsWith(`${group}:`)) n += v
    return n
  }
}

/**
 * Decodes `link`. Returns 'ok' for a card that re-verifies independently, or the CardError code.
 * Fails on anything else thrown — also from each stage called on its own, because decodeCard's
 * catch-all would otherwise hide a stray exception by converting it.
 * `source`: the card a mutation was made from; a mutated link that still decodes must be that
 * very card (case or whitespace changes only) — anything else would be a forgery.
 */
function classify(link: string, source?: Uint8Array): Outcome {
  let card: ContactCard
  try {
    card = decodeCard(link)
  } catch (error) {
    if (!CardError.is(error)) {
      assert.fail(
        `decodeCard threw a non-CardError: ${String(error)} for ${JSON.stringify(link.slice(0, 200))}`,
      )
    }
    assert.notEqual(error.message, CATCH_ALL_MESSAGE, `a stage threw a non-CardError: ${String(error.cause)}`)
    assert.ok(error.message.length > 10)
    assertStagesThrowOnlyCardErrors(link)
    return error.code
  }
  const bytes = bytesOfLink(link)
  assertSaneCard(card, bytes)
  if (source) {
    assert.deepEqual(bytes, source, `a mutated link decoded to a different card: ${JSON.stringify(link)}`)
  }
  return 'ok'
}

function assertStagesThrowOnlyCardErrors(link: string): void {
  const stage = <T>(what: string, fn: () => T): T | undefined => {
    try {
      return fn()
    } catch (error) {
      if (!CardError.is(error)) assert.fail(`${what} threw a non-CardError: ${String(error)}`)
      return undefined
    }
  }
  const payload = stage('linkPayload', () => linkPayload(link))
  if (payload === undefined) return
  const bytes = stage('decodeCardPayload', () => decodeCardPayload(payload))
  if (bytes === undefined) return
  stage('decodeCardBytes', () => decodeCardBytes(bytes))
}

/** The card re-verifies from its canonical bytes, and every field is within bounds. */
function assertSaneCard(card: ContactCard, bytes: Uint8Array): void {
  assert.deepEqual(
    plainCard(decodeCardBytes(bytes)),
    plainCard(card),
    'the canonical bytes decode to the same card',
  )
  const outer = SignedCard.decode(bytes)
  assert.deepEqual(SignedCard.encode(outer), bytes, 'canonical outer form')
  assert.deepEqual(CardBody.encode(CardBody.decode(outer.body)), outer.body, 'canonical body form')
  assert.ok(
    verifySignedBy(card.identity.signingKey, SignatureContext.Card, outer.body, outer.signature),
    'the signature re-verifies',
  )
  assert.equal(card.version, CARD_VERSION, 'version')
  const nameBytes = utf8(card.name).length
  assert.ok(nameBytes >= 1 && nameBytes <= MAX_NAME_BYTES, `name of ${nameBytes} bytes`)
  assert.ok(isWellFormed(card.name) && !unsafeName(card.name), `unsafe name ${JSON.stringify(card.name)}`)
  assert.ok(isEd25519PublicKey(card.identity.signingKey), 'identity signing key is a valid point')
  assert.equal(card.identity.agreementKey.length, 32, 'agreement key length')
  assert.equal(card.signedPreKey.publicKey.length, 32, 'signed prekey length')
  const id = card.signedPreKey.id
  assert.ok(Number.isInteger(id) && id >= 0 && id <= 0xffffffff, `signed prekey id ${id}`)
  assert.ok(isEd25519PublicKey(card.deviceKey), 'device key is a valid point')
  assert.equal(card.peerId, peerIdFromDeviceKey(card.deviceKey).toString(), 'peer id matches the device key')
  assert.ok(card.addrs.length <= MAX_ADDRS, `${card.addrs.length} addresses`)
  for (const addr of card.addrs) {
    assert.ok(addr.length > 1 && !addr.includes('/p2p/'), `address ${JSON.stringify(addr)}`)
    assert.equal(multiaddr(addr).toString(), addr, 'address text round-trips')
  }
  assert.ok(Number.isSafeInteger(card.createdAt) && card.createdAt >= 0, `createdAt ${card.createdAt}`)
  assert.equal(cardLink(bytes), `jiayi:add/${base32upper.baseEncode(bytes)}`)
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const PREFIXES = [
  'jiayi:add/',
  'JIAYI:ADD/',
  'Jiayi:Add/',
  `${ORIGIN}/#add=`,
  'https://jiayi.example/x?y=1#add=',
  '',
]
const JUNK_CHARS = [
  ...BASE32,
  ...BASE32.toLowerCase(),
  ...'01890 =#/:-_+%.!?',
  'ſ',
  'ı',
  'ß',
  'é',
  '\u00a0',
  '\u200b',
  '\u202e',
  '\n',
  '\t',
  '😀',
  '\ud800',
  '中',
]

const prefix = fc.constantFrom(...PREFIXES)
const junkChar = fc.oneof(
  fc.constantFrom(...JUNK_CHARS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

type StrOp =
  | { kind: 'sub' | 'ins'; at: number; ch: string }
  | { kind: 'del' | 'trunc' | 'case' | 'dup'; at: number; len: number }
  | { kind: 'swap'; at: number; to: number }
  | { kind: 'wrap'; before: string; after: string }

const strOp: fc.Arbitrary<StrOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom('sub' as const, 'ins' as const), at: fc.nat(), ch: junkChar }),
  fc.record({
    kind: fc.constantFrom('del' as const, 'trunc' as const, 'case' as const, 'dup' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({
    kind: fc.constant('wrap' as const),
    before: fc.constantFrom('', ' ', '\n', '\t', 'x', '\u00a0'),
    after: fc.constantFrom('', ' ', '\r\n', '#', 'x', '=', '\u3000'),
  }),
)

function applyStrOp(s: string, op: StrOp): string {
  if (op.kind === 'wrap') return op.before + s + op.after
  const at = op.at % (s.length + 1)
  switch (op.kind) {
    case 'sub':
      return s.slice(0, at) + op.ch + s.slice(at + 1)
    case 'ins':
      return s.slice(0, at) + op.ch + s.slice(at)
    case 'del':
      return s.slice(0, at) + s.slice(at + op.len)
    case 'trunc':
      return s.slice(0, Math.max(0, s.length - op.len))
    case 'case': {
      const part = s.slice(at, at + op.len)
      const flipped = part === part.toUpperCase() ? part.toLowerCase() : part.toUpperCase()
      return s.slice(0, at) + flipped + s.slice(at + op.len)
    }
    case 'dup':
      return s.slice(0, at + op.len) + s.slice(at, at + op.len) + s.slice(at + op.len)
    case 'swap': {
      const to = op.to % (s.length || 1)
      if (at >= s.length) return s
      const chars = [...s]
      if (at >= chars.length || to >= chars.length) return s
      ;[chars[at], chars[to]] = [chars[to]!, chars[at]!]
      return chars.join('')
    }
  }
}

type ByteOp =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set' | 'ins'; at: number; value: number }
  | { kind: 'del' | 'trunc'; at: number; len: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('set' as const, 'ins' as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x42), fc.nat({ max: 255 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('del' as const, 'trunc' as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ maxLength: 8 }),
    }),
  },
)

function applyByteOp(b: Uint8Array, op: ByteOp): Uint8Array {
  const at = op.at % (b.length + 1)
  switch (op.kind) {
    case 'flip': {
      if (b.length === 0) return b
      const out = Uint8Array.from(b)
      out[at % b.length]! ^= 1 << op.bit
      return out
    }
    case 'set': {
      if (b.length === 0) return b
      const out = Uint8Array.from(b)
      out[at % b.length] = op.value
      return out
    }
    case 'ins':
      return concatBytes(b.subarray(0, at), Uint8Array.of(op.value), b.subarray(at))
    case 'del':
      return concatBytes(b.subarray(0, at), b.subarray(at + op.len))
    case 'trunc':
      return b.slice(0, Math.max(0, b.length - op.len))
    case 'splice':
      return concatBytes(b.subarray(0, at), op.bytes, b.subarray(at))
  }
}

describe('card codec fuzz: every input decodes to a verified card or throws CardError', () => {
  const tally = new Tally()
  let pool: { owner: CardOwner; bytes: Uint8Array; link: string }[] = []

  before(async () => {
    const owners = [alice, bob, carol]
    const shapes: [string, string[]][] = [
      ['Alice', addrs3],
      [CHINESE_20, addrs3],
      [NAME_64_BYTES, [...addrs3, '/ip6/fe80::1/tcp/4001', '/dns4/relay.jiayi.example/tcp/443/wss']],
      ['Bo', []],
      ['👩‍💻 Zoë', [addrs3[2]!]],
      ['Carol', Array.from({ length: 8 }, (_, i) => `/ip4/10.0.0.${i}/udp/${4000 + i}/quic-v1`)],
    ]
    pool = shapes.map(([name, as], i) => {
      const owner = owners[i % owners.length]!
      const bytes = ownerCard(owner, name, as, 1_750_000_000 + i)
      const link = [cardLink, cardQrText, (x: Uint8Array) => cardWebLink(x, ORIGIN)][i % 3]!(bytes)
      return { owner, bytes, link }
    })
    for (const { link } of pool) assert.equal(classify(link), 'ok')
  })

  const cardIndex = () => fc.nat({ max: 5 })

  it('random strings', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.tuple(prefix, fc.string({ unit: junkChar, maxLength: 300 })).map(([p, s]) => p + s),
      fc
        .tuple(prefix, fc.string({ unit: fc.constantFrom(...BASE32), minLength: 1, maxLength: 700 }))
        .map(([p, s]) => p + s),
      fc
        .tuple(prefix, fc.string({ unit: fc.constantFrom(...BASE32), minLength: 2400, maxLength: 3200 }))
        .map(([p, s]) => p + s),
    )
    fc.assert(
      fc.property(text, (t) => {
        tally.add('strings', classify(t))
      }),
      { numRuns: 2000 },
    )
  })

  it('random bytes, base32-encoded into links', () => {
    const wellFormedOuter = fc
      .record({
        body: fc.uint8Array({ maxLength: 400 }),
        signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      })
      .map((o) => SignedCard.encode(o as SignedCard))
    const bytes = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 600 }),
      wellFormedOuter,
      fc.uint8Array({ minLength: 1537, maxLength: 1600 }),
    )
    fc.assert(
      fc.property(prefix, bytes, fc.boolean(), (p, b, lower) => {
        const payload = base32upper.baseEncode(b)
        tally.add('bytes', classify((p || 'jiayi:add/') + (lower ? payload.toLowerCase() : payload)))
      }),
      { numRuns: 2000 },
    )
  })

  it('mutated valid links (character substitutions, insertions, deletions, truncations, case)', () => {
    fc.assert(
      fc.property(cardIndex(), fc.array(strOp, { minLength: 1, maxLength: 4 }), (i, ops) => {
        const { bytes, link } = pool[i]!
        tally.add('link-mutations', classify(ops.reduce(applyStrOp, link), bytes))
      }),
      { numRuns: 3000 },
    )
  })

  it('mutated valid cards (bit flips, byte insertions/deletions, truncations)', () => {
    fc.assert(
      fc.property(
        cardIndex(),
        fc.array(byteOp, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (i, ops, web) => {
          const { bytes } = pool[i]!
          const mutated = ops.reduce(applyByteOp, bytes)
          if (mutated.length === 0) return
          const link = web ? cardWebLink(mutated, ORIGIN) : cardLink(mutated)
          const outcome = classify(link, equalArrays(mutated, bytes) ? undefined : bytes)
          if (!equalArrays(mutated, bytes)) assert.notEqual(outcome, 'ok', 'a changed card must never verify')
          tally.add('byte-mutations', outcome)
        },
      ),
      { numRuns: 2500 },
    )
  })

  it('mutated card bodies, re-signed by the identity (reaches every field check)', () => {
    fc.assert(
      fc.property(cardIndex(), fc.array(byteOp, { minLength: 1, maxLength: 3 }), (i, ops) => {
        const { owner, bytes } = pool[i]!
        const body = ops.reduce(applyByteOp, splitCard(bytes).body)
        if (body.length === 0) return
        tally.add('resigned-mutations', classify(cardLink(forgeCard(owner.identity, {}, { rawBody: body }))))
      }),
      { numRuns: 1000 },
    )
  })

  it('random card structures signed by the identity they name', () => {
    const maybe = <T>(valid: T, random: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, random)
    const key = (valid: Uint8Array) =>
      maybe(
        valid as Uint8Array<ArrayBuffer>,
        fc.uint8Array({ maxLength: 34 }) as fc.Arbitrary<Uint8Array<ArrayBuffer>>,
      )
    const addr = fc.oneof(
      fc.constantFrom(...pool.flatMap((p) => bodyOf(p.bytes).addrs)),
      fc.uint8Array({ maxLength: 140 }) as fc.Arbitrary<Uint8Array<ArrayBuffer>>,
    )
    const structure = fc.tuple(cardIndex(), fc.nat({ max: 1 })).chain(([i, which]) => {
      const owner = pool[i]!.owner
      const valid = honestBody(owner)
      const fields = fc.record({
        version: maybe(1, fc.nat({ max: 0xffffffff })),
        name: maybe(
          'Alice',
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 40 }),
            fc.string({ unit: 'binary', maxLength: 70 }),
          ),
        ),
        identitySigningKey: key(owner.identity.signing.publicKey),
        identityAgreementKey: key(owner.identity.agreement.publicKey),
        deviceKey: key(owner.deviceKey),
        signedPrekeyId: fc.nat({ max: 0xffffffff }),
        signedPrekey: key(owner.signedPreKey.publicKey),
        addrs: maybe(valid.addrs, fc.array(addr, { maxLength: 10 })),
        createdAt: maybe(1_750_000_000n, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      })
      return fields.map((body) => ({ owner, body: body as CardBody, which }))
    })
    fc.assert(
      fc.property(structure, ({ owner, body, which }) => {
        const bytes = forgeCard(owner.identity, body)
        const link = which === 0 ? cardLink(bytes) : cardQrText(bytes)
        tally.add('random-structures', classify(link))
      }),
      { numRuns: 1000 },
    )
  })

  it('covered at least 10,000 cases and reached every layer of the decoder', (t) => {
    const groups = [
      'strings',
      'bytes',
      'link-mutations',
      'byte-mutations',
      'resigned-mutations',
      'random-structures',
    ]
    for (const g of groups) t.diagnostic(`${g}: ${tally.group(g)} cases`)
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...tally.counts].sort()))}`)
    assert.ok(tally.total >= 10_000, `only ${tally.total} fuzz cases ran`)
    // The mutations reach the signature check, and the re-signed ones reach the field checks.
    assert.ok(tally.get('link-mutations', 'BadSignature') > 100)
    assert.ok(tally.get('link-mutations', 'ok') > 0, 'case changes and whitespace keep a link valid')
    assert.ok(tally.get('byte-mutations', 'BadSignature') > 100)
    assert.ok(tally.get('byte-mutations', 'BadEncoding') > 100)
    assert.ok(tally.get('resigned-mutations', 'BadField') > 20)
    assert.ok(tally.get('resigned-mutations', 'ok') > 20)
    assert.ok(tally.get('random-structures', 'ok') > 20)
    assert.ok(tally.get('random-structures', 'BadField') > 100)
    assert.ok(tally.get('random-structures', 'BadVersion') > 20)
    assert.ok(tally.get('strings', 'BadLink') > 100)
    assert.ok(tally.get('strings', 'TooLarge') > 10)
    assert.ok(tally.get('bytes', 'TooLarge') > 10)
  })
})

function equalArrays(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
