/**
 * Linking through a home node's relay (devices/linker.ts, join.ts; PROTOCOL 2b "Resuming"), on
 * real libp2p nodes on 127.0.0.1: Ann's laptop listens only through a home relay (a reservation,
 * as behind a NAT), the new device only dials. The relay's per-connection data limit is made
 * small here so that a history of a few MiB needs several relayed connections.
 *
 * - The history crosses in parts: the relay ends each connection, the new device continues on a
 *   new one after the last record it stored; every record arrives, once, byte for byte.
 * - A stranger who asks to continue the handover (a resume it cannot prove) is refused and
 *   counted; the handover goes on.
 * - When a single frame cannot fit through the relay at all, linking ends with LinkInterrupted
 *   and the new device's store holds no identity.
 * - The last frames lost (the new device's `stored`, or the laptop's answer): a resume that says
 *   `stored` is answered `stored` on the new stream, by a laptop that then takes the list, or
 *   took it already; the new device writes its account only on that answer.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesToHex, randomBytes } from '../src/bytes.js'
import { DeviceError } from '../src/devices/errors.js'
import { joinByLink } from '../src/devices/join.js'
import { decodeDeviceLink, linkCode, linkMac } from '../src/devices/link.js'
import { LinkFrame } from '../src/devices/link-wire.pb.js'
import { LINK_MAX_FRAME_BYTES, PROTOCOL_LINK } from '../src/devices/linker.js'
import { devicePeerId, generateDeviceKey } from '../src/identity/device.js'
import { createAccount } from '../src/messenger/account.js'
import { Keys } from '../src/messenger/keys.js'
import { openFramed } from '../src/net/framed-handler.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { key } from '../src/store/keys.js'
import { MemoryStore } from '../src/store/memory.js'
import { typeCodeInto } from './helpers/link-device.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'
import { startTestNode } from './net-helpers.js'

const RECORD_BYTES = 16 * 1024

describe('linking through a home relay', () => {
  const stops: (() => unknown)[] = []
  after(async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined)
  })

  /** A relay serving Ann's laptop, the laptop behind it with `records` bulk records, a dialler. */
  async function setup(limitBytes: number, records: number) {
    const owners = new Set<string>()
    const relay = await startTestNode({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
      homeRelay: {
        access: { isOwnerDevice: (p) => owners.has(p), isContact: () => false },
        limits: { connectionDataBytes: limitBytes },
      },
    })
    stops.push(() => relay.stop())
    const store = new MemoryStore()
    const account = await createAccount(store, 'Ann')
    owners.add(account.deviceKey.publicKey.toString())
    const bulk = new Map<string, string>()
    for (let i = 0; i < records; i++) {
      const k = key('hist', i)
      const v = randomBytes(RECORD_BYTES)
      bulk.set(bytesToHex(k), bytesToHex(v))
      await store.put(k, v)
    }
    const circuit = `${relay.getMultiaddrs()[0]!.toString()}/p2p-circuit`
    const laptop: TestPeer = await testPeer('Ann', store, { listen: [circuit], alsoDial: ['loopback'] })
    stops.push(() => laptop.stop())
    const dialler = async () => {
      const deviceKey = await generateDeviceKey()
      const node = await createJiayiNode({
        privateKey: deviceKey,
        network: nodeNetwork({ mdns: false }),
        listen: [],
        relayServer: false,
        alsoDial: ['loopback'],
      })
      stops.push(() => node.stop())
      return { deviceKey, node }
    }
    return { relay, laptop, bulk, circuit, dialler }
  }

  const typeCode = (laptop: TestPeer) => typeCodeInto(laptop.messenger)

  it('a history larger than one relayed connection carries crosses in parts, every record once; a stranger’s resume is refused', async () => {
    // 3.2 MiB of records through connections of 1 MiB each.
    const { laptop, bulk, circuit, dialler } = await setup(1024 * 1024, 200)
    const offer = laptop.messenger.linkDevice()
    assert.ok(
      decodeDeviceLink(offer.link).addrs.some((a) => a.startsWith(circuit.replace(/\/p2p-circuit$/, ''))),
      'the link carries the circuit through the relay',
    )
    const { deviceKey, node } = await dialler()
    const stranger = await dialler()
    const phoneStore = new MemoryStore()
    let resumes = 0
    let strangerAnswer: LinkFrame | undefined
    let strangerTried: Promise<void> | undefined
    const laptopId = laptop.messenger.whoami().peerId
    const account = await joinByLink({
      link: offer.link,
      store: phoneStore,
      node,
      deviceKey,
      name: 'phone',
      history: 'all',
      onCode: typeCode(laptop),
      onResume: () => {
        resumes++
      },
      onProgress: (done) => {
        // Mid-handover, someone else asks to continue it from the start.
        if (done === 0 || strangerTried !== undefined) return
        strangerTried = (async () => {
          const framed = await openFramed(
            stranger.node,
            [multiaddr(`${circuit}/p2p/${laptopId}`)],
            PROTOCOL_LINK,
            {
              maxFrameBytes: 1024,
              runOnLimitedConnection: true,
              signal: AbortSignal.timeout(10_000),
            },
          )
          await framed.write(
            LinkFrame.encode({
              resume: {
                mac: randomBytes(32) as Uint8Array<ArrayBuffer>,
                after: new Uint8Array(),
                done: 0,
                stored: false,
              },
            }),
          )
          const answer = await framed.read({ timeoutMs: 10_000 })
          strangerAnswer = answer === null ? undefined : LinkFrame.decode(answer)
        })()
      },
    })
    await strangerTried
    assert.equal(strangerAnswer?.refused, 'LinkUnknown', 'the stranger’s resume is refused')
    assert.equal(laptop.messenger.stats().refused[PROTOCOL_LINK]?.['not-allowed'], 1, 'and counted')
    assert.equal(account.name, 'Ann')
    assert.ok(resumes >= 2, `the relay ended connections and the handover went on (${resumes} resumes)`)
    let held = 0
    for await (const [k, v] of phoneStore.iterate({ prefix: key('hist') })) {
      assert.equal(bytesToHex(v), bulk.get(bytesToHex(k)), 'each record byte for byte')
      held++
    }
    assert.equal(held, bulk.size, 'every record, once')
    assert.ok((await phoneStore.get(Keys.account())) !== undefined)
    await eventually(
      () => laptop.messenger.ownDeviceList().devices.length === 2,
      10_000,
      'the laptop lists the phone',
    )
  })

  it('a frame that never fits through the relay ends the link with LinkInterrupted; nothing is kept', async () => {
    // Connections of 64 KiB, frames of up to 256 KiB: the first large frame never arrives.
    const { laptop, dialler } = await setup(64 * 1024, 40)
    const offer = laptop.messenger.linkDevice()
    const { deviceKey, node } = await dialler()
    const phoneStore = new MemoryStore()
    await assert.rejects(
      joinByLink({
        link: offer.link,
        store: phoneStore,
        node,
        deviceKey,
        name: 'phone',
        history: 'all',
        onCode: typeCode(laptop),
      }),
      (error: unknown) =>
        DeviceError.is(error, 'LinkInterrupted') && /无法继续/.test((error as Error).message),
    )
    assert.equal(await phoneStore.get(Keys.account()), undefined, 'the new device holds no identity')
    assert.equal(laptop.messenger.ownDeviceList().devices.length, 1, 'the laptop lists only itself')
  })

  it('the last frames lost: a resume that says stored is answered stored, before and after the laptop took the list', async () => {
    const { laptop, circuit, dialler } = await setup(4 * 1024 * 1024, 4)
    const laptopId = laptop.messenger.whoami().peerId
    /** The new device's side by hand, up to the new list; `stored` says whether it sends its `stored`. */
    const handOverTo = async (stored: boolean) => {
      const offer = laptop.messenger.linkDevice()
      const link = decodeDeviceLink(offer.link)
      const { deviceKey, node } = await dialler()
      const me = devicePeerId(deviceKey).toString()
      const mac = linkMac(link.secret, 'new', laptopId, me) as Uint8Array<ArrayBuffer>
      const open = () =>
        openFramed(node, [multiaddr(`${circuit}/p2p/${laptopId}`)], PROTOCOL_LINK, {
          maxFrameBytes: LINK_MAX_FRAME_BYTES,
          runOnLimitedConnection: true,
          signal: AbortSignal.timeout(10_000),
        })
      const framed = await open()
      await framed.write(LinkFrame.encode({ hello: { mac, name: 'phone', historyDays: -1 } }))
      const next = async () => LinkFrame.decode((await framed.read({ timeoutMs: 20_000 }))!)
      assert.ok((await next()).proof !== undefined)
      typeCode(laptop)(linkCode(link.secret, laptopId, me))
      assert.ok((await next()).account !== undefined)
      while ((await next()).deviceList === undefined);
      if (stored) {
        await framed.write(LinkFrame.encode({ stored: true }))
        await eventually(
          () => laptop.messenger.ownDeviceList().devices.some((d) => d.peerId === me),
          10_000,
          'the laptop took the list',
        )
      }
      // The stream breaks before the answer arrives (or before `stored` is sent).
      framed.abort(new Error('lost'))
      assert.equal(
        laptop.messenger.ownDeviceList().devices.some((d) => d.peerId === me),
        stored,
        'the laptop takes the list only once the new device said it stored everything',
      )
      const again = await open()
      await again.write(LinkFrame.encode({ resume: { mac, after: new Uint8Array(), done: 0, stored: true } }))
      const answer = LinkFrame.decode((await again.read({ timeoutMs: 20_000 }))!)
      assert.equal(answer.stored, true, 'the laptop answers stored on the new stream')
      assert.ok(
        laptop.messenger.ownDeviceList().devices.some((d) => d.peerId === me),
        'and lists the phone',
      )
    }
    await handOverTo(false)
    await handOverTo(true)
    assert.equal(laptop.messenger.ownDeviceList().devices.length, 3)
  })
})
