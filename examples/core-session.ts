// Two identities exchange cards, open a session, send and read a message (the README's example).
import * as J from '@jiayi/core'

const alice = J.generateIdentity()
const bob = J.generateIdentity()
const bobPreKey = J.generateSignedPreKey(bob, 1)
const bobLink = J.cardLink(
  J.createCard(bob, {
    name: 'Bob 小明',
    deviceKey: J.devicePublicKey(await J.generateDeviceKey()),
    signedPreKey: { id: bobPreKey.id, publicKey: bobPreKey.keyPair.publicKey },
    addrs: ['/ip4/192.168.1.20/tcp/4001'],
  }),
)
const card = J.decodeCard(bobLink) // throws CardError unless the identity's signature verifies
const aliceSession = J.initiateSession(alice, { identity: card.identity, signedPreKey: card.signedPreKey })
const { envelope } = J.sessionEncrypt(aliceSession, J.utf8('你好, Bob!'), alice)
const { plaintext } = J.acceptSession(bob, J.decodePreKeyMessage(envelope.bytes), {
  signedPreKey: bobPreKey.keyPair,
})
console.log(`${card.name} reads: ${J.fromUtf8(plaintext)}`)
