import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesToHex } from '../src/bytes.js'
import { createCard, decodeCardBytes } from '../src/card/card.js'
import { devicePeerId, devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import {
  createDeviceList,
  type DeviceEntryInput,
  deviceName,
  isNewerDeviceList,
  listsDevice,
  MAX_DEVICES,
  nextDeviceList,
  verifyDeviceList,
} from '../src/identity/device-list.js'
import { SignedDeviceList } from '../src/identity/device-list.pb.js'
import { generateIdentity } from '../src/identity/identity.js'
import { ContactBook } from '../src/messenger/contact-book.js'
import { applyDeviceList, withDeviceList } from '../src/messenger/contact-devices.js'
import { contactIdFor } from '../src/messenger/ids.js'
import { contactDevices } from '../src/messenger/records.js'

async function device(
  name: string,
  linkedAt = 1_700_000_000,
): Promise<DeviceEntryInput & { peerId: string }> {
  const key = await generateDeviceKey()
  return { deviceKey: devicePublicKey(key), name, linkedAt, peerId: devicePeerId(key).toString() }
}

/** Bob's record of a contact whose card named `peerId`. */
function contactRecord(identity: ReturnType<typeof generateIdentity>, name: string, peerId: string) {
  return {
    id: contactIdFor(identity.signing.publicKey),
    name,
    identityKey: bytesToHex(identity.signing.publicKey),
    agreementKey: bytesToHex(identity.agreement.publicKey),
    peerId,
    addrs: [],
    state: 'accepted' as const,
    verified: false,
    card: '',
    addedAt: 1,
    updatedAt: 1,
  }
}

describe('device list', () => {
  it('names the devices an identity signed, and a newer version replaces an older one', async () => {
    const me = generateIdentity()
    const laptop = await device('Laptop')
    const phone = await device('手机')
    const first = verifyDeviceList(createDeviceList(me, 1, [laptop]), me.signing.publicKey)
    assert.equal(first.version, 1)
    assert.deepEqual(
      first.devices.map((d) => [d.peerId, d.name, d.linkedAt]),
      [[laptop.peerId, 'Laptop', 1_700_000_000]],
    )
    const second = verifyDeviceList(nextDeviceList(me, first, (ds) => [...ds, phone]))
    assert.equal(second.version, 2)
    assert.ok(listsDevice(second, phone.peerId))
    assert.equal(deviceName(second, phone.peerId), '手机')
    assert.ok(isNewerDeviceList(second, first))
    assert.ok(!isNewerDeviceList(first, second), 'an old list replayed does not replace the new one')
    assert.ok(!isNewerDeviceList(second, second))

    const removed = verifyDeviceList(
      nextDeviceList(me, second, (ds) => ds.filter((d) => d.peerId !== phone.peerId)),
    )
    assert.equal(removed.version, 3)
    assert.ok(!listsDevice(removed, phone.peerId))
  })

  it('refuses a list another identity signed, or a forged one, with a typed error', async () => {
    const me = generateIdentity()
    const mallory = generateIdentity()
    const laptop = await device('Laptop')
    const mine = createDeviceList(me, 1, [laptop])
    const theirs = verifyDeviceList(createDeviceList(mallory, 9, [laptop]))
    assert.throws(() => verifyDeviceList(theirs.bytes, me.signing.publicKey), {
      name: 'IdentityError',
      code: 'BadSignature',
    })
    assert.ok(
      !isNewerDeviceList(theirs, verifyDeviceList(mine)),
      'another identity’s list never replaces mine',
    )

    // Mallory adds her device to my list and keeps my signature.
    const outer = SignedDeviceList.decode(mine)
    const forged = SignedDeviceList.encode({
      ...outer,
      body: SignedDeviceList.decode(createDeviceList(mallory, 2, [laptop, await device('x')])).body,
    })
    assert.throws(() => verifyDeviceList(forged), { name: 'IdentityError', code: 'BadSignature' })
    assert.throws(() => verifyDeviceList(Uint8Array.of(1, 2, 3)), {
      name: 'IdentityError',
      code: 'BadEncoding',
    })
  })

  it('bounds what a list may hold: 1 to MAX_DEVICES distinct devices with short, clean names', async () => {
    const me = generateIdentity()
    const laptop = await device('Laptop')
    assert.throws(() => createDeviceList(me, 1, []), { code: 'BadEncoding' })
    assert.throws(() => createDeviceList(me, 1, [laptop, laptop]), { code: 'BadEncoding' })
    assert.throws(() => createDeviceList(me, 1, [{ ...laptop, name: 'x'.repeat(65) }]), {
      code: 'BadEncoding',
    })
    assert.throws(() => createDeviceList(me, 1, [{ ...laptop, name: 'evil\u202eexe' }]), {
      code: 'BadEncoding',
    })
    assert.throws(() => createDeviceList(me, 1, [{ ...laptop, deviceKey: new Uint8Array(31) }]), {
      code: 'BadKey',
    })
    const many = await Promise.all(Array.from({ length: MAX_DEVICES + 1 }, (_, i) => device(`d${i}`)))
    assert.throws(() => createDeviceList(me, 1, many), { code: 'BadEncoding' })
    const full = verifyDeviceList(createDeviceList(me, 1, many.slice(0, MAX_DEVICES)))
    assert.equal(full.devices.length, MAX_DEVICES)
    assert.ok(full.bytes.length < 1200, `a full list stays small (${full.bytes.length} bytes)`)
  })
})

describe("a contact's device list", () => {
  it('is kept when newer and signed by their identity; the contact book finds them by any device', async () => {
    const bo = generateIdentity()
    const laptop = await device('Laptop')
    const phone = await device('Phone')
    const contact = contactRecord(bo, 'Bo', laptop.peerId)
    assert.deepEqual(contactDevices(contact), [laptop.peerId])
    const v2 = createDeviceList(bo, 2, [laptop, phone])
    const updated = withDeviceList(contact, v2)
    assert.ok(updated)
    assert.deepEqual(contactDevices(updated), [laptop.peerId, phone.peerId])
    assert.equal(
      withDeviceList(updated, createDeviceList(bo, 1, [laptop])),
      undefined,
      'an older list changes nothing',
    )
    assert.equal(withDeviceList(updated, v2), undefined, 'the same list changes nothing')
    assert.throws(() => withDeviceList(updated, createDeviceList(generateIdentity(), 3, [laptop])), {
      code: 'BadSignature',
    })

    const book = new ContactBook()
    book.set(updated)
    assert.equal(book.byPeerId(phone.peerId)?.id, contact.id)
    const removed = withDeviceList(updated, createDeviceList(bo, 3, [laptop]))
    assert.ok(removed)
    book.set(removed)
    assert.equal(book.byPeerId(phone.peerId), undefined, 'a removed device no longer finds them')
    assert.equal(book.byPeerId(laptop.peerId)?.id, contact.id)
  })

  it("a list naming another contact's device does not take that device over", async () => {
    const contact = async (name: string) => {
      const identity = generateIdentity()
      const own = await device(name)
      return {
        identity,
        own,
        record: contactRecord(identity, name, own.peerId),
      }
    }
    const carol = await contact('Carol')
    const mallory = await contact('Mallory')
    // Mallory signs a list that names Carol's device as one of hers.
    const claim = withDeviceList(
      mallory.record,
      createDeviceList(mallory.identity, 1, [mallory.own, carol.own]),
    )!
    for (const order of [
      [carol.record, claim],
      [claim, carol.record],
    ]) {
      const book = new ContactBook()
      for (const r of order) book.set(r)
      assert.equal(book.byPeerId(carol.own.peerId)?.id, carol.record.id, "Carol's device stays Carol's")
      assert.equal(book.byPeerId(mallory.own.peerId)?.id, mallory.record.id)
    }
  })

  it('a removed first device (the one their card named) finds nobody; a bad list is dropped and counted', async () => {
    const bo = generateIdentity()
    const laptop = await device('Laptop')
    const phone = await device('Phone')
    const contact = contactRecord(bo, 'Bo', laptop.peerId)
    const book = new ContactBook()
    const onlyPhone = withDeviceList(contact, createDeviceList(bo, 2, [phone]))
    assert.ok(onlyPhone)
    book.set(onlyPhone)
    assert.equal(book.byPeerId(laptop.peerId), undefined, 'the laptop they removed is a stranger now')
    assert.equal(book.byPeerId(phone.peerId)?.id, contact.id)

    let bad = 0
    const forged = createDeviceList(generateIdentity(), 9, [laptop, phone])
    assert.equal(
      applyDeviceList(onlyPhone, forged, () => bad++),
      onlyPhone,
      'a forged list changes nothing',
    )
    assert.equal(
      applyDeviceList(onlyPhone, new Uint8Array([1, 2, 3]), () => bad++),
      onlyPhone,
    )
    assert.equal(bad, 2, 'each bad list is counted')
  })

  it('travels in the card of a person with several devices, checked against the card', async () => {
    const bo = generateIdentity()
    const laptopKey = await generateDeviceKey()
    const laptop = { deviceKey: devicePublicKey(laptopKey), name: 'Laptop', linkedAt: 1 }
    const phone = await device('Phone')
    const input = {
      name: 'Bo',
      deviceKey: devicePublicKey(laptopKey),
      signedPreKey: { id: 1, publicKey: new Uint8Array(32).fill(7) },
      addrs: ['/ip4/192.168.1.2/tcp/4001'],
    }
    const list = createDeviceList(bo, 2, [laptop, phone])
    const card = decodeCardBytes(createCard(bo, { ...input, deviceList: list }))
    assert.deepEqual(
      card.deviceList?.devices.map((d) => d.peerId),
      [devicePeerId(laptopKey).toString(), phone.peerId],
    )
    assert.throws(() => createCard(bo, { ...input, deviceList: createDeviceList(bo, 3, [phone]) }), {
      code: 'BadField',
    })
    assert.throws(
      () => createCard(bo, { ...input, deviceList: createDeviceList(generateIdentity(), 3, [laptop]) }),
      { code: 'BadField' },
    )
  })
})
