/**
 * Display names follow the file-name filter's character rules (unsafe-chars.ts): no bidi marks
 * (LRM, RLM, ALM), no zero-width characters, no line or paragraph separators, besides the C0/C1
 * controls and bidi embeddings/overrides/isolates refused before. Names we set are refused with
 * MessengerError BadInput; cards that carry such a name (signed by the identity they name, so
 * only the name is wrong) are refused with CardError BadField, by addContact and by a real peer
 * receiving them in a contact request. A zero-width joiner inside an emoji sequence stays.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cardLink, decodeCard } from '../src/card/link.js'
import { sanitizeFileName } from '../src/files/names.js'
import { checkName, createAccount } from '../src/messenger/account.js'
import { MemoryStore } from '../src/store/memory.js'
import { forgeCard, honestBody, makeOwner } from './helpers/card-fixtures.js'
import { type TestPeer, testPeer } from './helpers/messenger-peer.js'

// Each hides, reorders or breaks the text around it.
const DISGUISES: [string, string][] = [
  ['RLM', 'Alice\u200f'],
  ['LRM', '\u200eAlice'],
  ['ALM', 'Ali\u061cce'],
  ['zero-width space', 'Ali\u200bce'],
  ['zero-width non-joiner', 'Ali\u200cce'],
  ['zero-width joiner between letters', 'Ali\u200dce'],
  ['word joiner', 'Ali\u2060ce'],
  ['byte order mark', 'Ali\ufeffce'],
  ['line separator', 'Alice\u2028Bank of China'],
  ['paragraph separator', 'Alice\u2029Bank of China'],
  ['right-to-left override', 'Alice\u202egnp.exe'],
  ['first-strong isolate', 'Alice\u2068'],
  ['newline', 'Alice\nBank'],
  ['escape', 'Alice\u001b[2J'],
  ['C1 CSI', 'Alice\u009b2J'],
]

const FINE = ['Alice', '王小明', 'Zoë 👩‍💻🐼', '🏳️‍🌈 Pride', '👩🏽‍💻 Dev', 'محمد']

describe('names we set', () => {
  it('refuses every disguising character, keeps ordinary names and emoji sequences', () => {
    for (const [what, name] of DISGUISES)
      assert.throws(() => checkName(name), { name: 'MessengerError', code: 'BadInput' }, what)
    for (const name of FINE) assert.equal(checkName(name), name)
  })

  it('the file-name filter removes the same characters', () => {
    for (const [what, name] of DISGUISES) {
      const safe = sanitizeFileName(`${name}.pdf`)
      assert.ok(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the filter removes
        !/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/.test(safe),
        what,
      )
    }
  })

  it('a new account and a rename refuse them too', async () => {
    await assert.rejects(createAccount(new MemoryStore(), 'Ali\u200bce'), { code: 'BadInput' })
    const peer = await testPeer('Alice')
    try {
      await assert.rejects(peer.messenger.setName('Alice\u200f'), { code: 'BadInput' })
      await assert.rejects(peer.messenger.setName('Alice\u2028Bank'), { code: 'BadInput' })
      assert.equal(peer.messenger.whoami().name, 'Alice')
      assert.equal((await peer.messenger.setName('Alice 👩‍💻')).name, 'Alice 👩‍💻')
    } finally {
      await peer.stop()
    }
  })
})

describe('names on cards we decode', () => {
  let bob: TestPeer
  before(async () => {
    bob = await testPeer('Bob')
  })
  after(async () => {
    await bob.stop()
  })

  it('a card whose name disguises itself is refused, by the decoder and by addContact', async () => {
    const mallory = await makeOwner()
    for (const [what, name] of DISGUISES) {
      const link = cardLink(forgeCard(mallory.identity, honestBody(mallory, { name })))
      assert.throws(() => decodeCard(link), { name: 'CardError', code: 'BadField' }, what)
      await assert.rejects(bob.messenger.addContact(link), { name: 'CardError', code: 'BadField' }, what)
    }
    assert.equal(bob.messenger.contactList().length, 0, 'no contact was made')
    // The same card with an honest name is fine.
    const honest = cardLink(forgeCard(mallory.identity, honestBody(mallory, { name: 'Mallory 🐼' })))
    assert.equal(decodeCard(honest).name, 'Mallory 🐼')
  })
})
