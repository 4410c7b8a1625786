/**
 * Linking against restarts of the EXISTING device, through separate `jiayi` processes on
 * 127.0.0.1. Cy's laptop holds history enough for several batches; the new device is paused
 * (SIGSTOP) before the code is typed, so the laptop can send no more than one yamux window and is
 * certainly in the middle of the transfer when it is killed (kill -9). Then the laptop is killed
 * once the new device holds every record, before it can take the new list. Each time the new
 * device fails cleanly: no identity, and `init --link` runs again on the same home; the restarted
 * laptop does not list it. Then a new link works. The laptop keeps when it last heard from its other device
 * across its own restart.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  cleanup,
  eventually,
  jiayi,
  jiayiJson,
  LineProcess,
  stablePortArgs,
  tempHome,
} from './helpers/cli.js'
import { sendMany } from './helpers/control.js'
import { befriend, TestPeer } from './helpers/peers.js'

interface DeviceView {
  readonly id: string
  readonly current: boolean
  readonly lastSeen: string | null
}

let cy: TestPeer

before(async () => {
  const dee = await TestPeer.create('Dee', stablePortArgs(), { timeoutMs: 60_000 })
  cy = await TestPeer.create('Cy', stablePortArgs(), { timeoutMs: 60_000 })
  const { bAtA: deeAtCy } = await befriend(cy, dee)
  await dee.stop()
  // About 1.8 MB of messages: seven handover batches of 256 KiB, where one yamux window is 256 KiB.
  const texts = Array.from({ length: 120 }, (_, i) => `${i} ${'历史'.repeat(2_500)}`)
  const { error } = await sendMany(cy.control, deeAtCy, texts, { window: 16 })
  assert.equal(error, undefined)
})

after(async () => {
  await cy?.stop()
  await cleanup()
})

async function devicesOf(peer: TestPeer): Promise<DeviceView[]> {
  return jiayiJson<DeviceView[]>(peer.home, ['devices'])
}

/**
 * Starts a link from Cy's laptop to the new device's `home`, and kills the laptop (kill -9)
 * where `at` says: in the middle of the records, or once the new device holds them all (the
 * laptop has sent, or is about to send, the new list, and has not taken it itself).
 */
async function killLaptopWhileLinking(home: string, at: 'records' | 'list'): Promise<void> {
  const offer = new LineProcess(cy.home, ['devices', 'link'])
  const l = String((await offer.waitFor((x) => typeof x.link === 'string')).link)
  const n = new LineProcess(home, ['init', '--link', l, '--name', 'Tablet'])
  const shown = String((await n.waitFor((x) => x.event === 'code')).code)
  await offer.waitFor((x) => x.event === 'code')
  if (at === 'records') {
    // The new device reads nothing more until it is continued: the laptop stalls within a window.
    n.child.kill('SIGSTOP')
    offer.type(shown)
    const progress = await offer.waitFor((x) => x.event === 'progress' && Number(x.done) > 0, 30_000)
    assert.ok(Number(progress.done) < Number(progress.total), 'the laptop is in the middle of the transfer')
    await cy.kill()
    n.child.kill('SIGCONT')
  } else {
    offer.type(shown)
    await n.waitFor((x) => x.event === 'progress' && x.done === x.total && Number(x.total) > 0, 30_000)
    // Stopped first, so that it cannot take the new list between the line and the kill.
    cy.proc.child.kill('SIGSTOP')
    await cy.kill()
  }
  assert.equal(await n.exited, 1, `the new device fails: ${n.stderr}`)
  assert.match(n.stderr, /linking broke off|链接中断/)
  assert.ok(
    n.lines.every((x) => typeof x.peerId !== 'string'),
    'the new device printed no identity',
  )
  assert.notEqual(await offer.exited, 0)
  assert.notEqual((await jiayi(home, ['whoami'])).code, 0, 'the new device holds no identity')
  await cy.restart()
  assert.deepEqual(
    (await devicesOf(cy)).map((d) => d.id),
    [cy.peerId],
    'the restarted laptop lists only itself',
  )
}

test('kill -9 of the existing device mid-transfer: nothing half-linked, a new link works; lastSeen survives a restart', {
  timeout: 180_000,
}, async () => {
  const home = await tempHome()
  await killLaptopWhileLinking(home, 'records')
  await killLaptopWhileLinking(home, 'list')

  // A new link on the same home of the new device.
  const again = new LineProcess(cy.home, ['devices', 'link'])
  const l2 = String((await again.waitFor((x) => typeof x.link === 'string')).link)
  const n2 = new LineProcess(home, ['init', '--link', l2, '--name', 'Tablet'])
  const code = String((await n2.waitFor((x) => x.event === 'code')).code)
  await again.waitFor((x) => x.event === 'code')
  again.type(code)
  await again.waitFor((x) => x.event === 'linked', 60_000)
  const me = await n2.waitFor((x) => typeof x.peerId === 'string' && x.event === undefined, 60_000)
  assert.equal(await n2.exited, 0, n2.stderr)
  assert.equal(await again.exited, 0, again.stderr)
  assert.equal(me.name, 'Cy')
  const total = Number(n2.lines.find((x) => x.event === 'progress')?.total)
  assert.ok(total > 120, 'the history was handed over')

  // The tablet runs a while: the laptop hears from it, and still knows when after a restart.
  const tablet = await TestPeer.startOn('Cy (tablet)', home, stablePortArgs(), { timeoutMs: 60_000 })
  const seen = await eventually(
    async () => (await devicesOf(cy)).find((d) => d.id === tablet.peerId)?.lastSeen,
    15_000,
    'the laptop heard from the tablet',
  )
  await tablet.stop()
  await cy.stop()
  const stoppedAt = Date.now()
  await cy.restart()
  const listed = await devicesOf(cy)
  assert.deepEqual(
    listed.map((d) => [d.id, d.current]),
    [
      [cy.peerId, true],
      [tablet.peerId, false],
    ],
  )
  const after = listed[1]!.lastSeen
  assert.ok(after !== null, 'lastSeen survives the restart')
  assert.ok(Date.parse(after) >= Date.parse(seen) && Date.parse(after) <= stoppedAt)
})
