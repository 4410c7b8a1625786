/**
 * Several devices, one person, through separate `jiayi` processes on 127.0.0.1: Ann's laptop (A)
 * links a second device (N) with `devices link` / `init --link`, the code typed on A being the
 * one N shows. Refused clearly: a wrong code, the same link again, an expired link. A kill -9 of
 * N in the middle leaves nothing half-linked and a new link works. Both devices list both; Bob
 * (a contact) gets Ann's new device list; `devices remove` takes N off it, N is told and wipes
 * itself, and a copy of N that was offline is refused by Bob when it sends.
 */
import assert from 'node:assert/strict'
import { cp } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson, LineProcess, LOOPBACK, tempHome } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

interface DeviceView {
  readonly id: string
  readonly name: string
  readonly current: boolean
  readonly linkedAt: string
  readonly lastSeen: string | null
}

let ann: TestPeer
let bob: TestPeer
let annOnBob = ''

before(async () => {
  // Starts get a minute: on a loaded machine two peers starting at once take a while.
  ;[ann, bob] = await Promise.all([
    TestPeer.create('Ann', LOOPBACK, { timeoutMs: 60_000 }),
    TestPeer.create('Bob', LOOPBACK, { timeoutMs: 60_000 }),
  ])
  annOnBob = (await befriend(bob, ann)).bAtA
  await ann.control.send('Bob', 'before the link')
  // A group from before the link: the new device takes part in it as Ann.
  await jiayiJson(bob.home, ['group', 'create', 'Tea', annOnBob])
  await eventually(
    async () => (await ann.control.call<unknown[]>('groups')).length === 1,
    20_000,
    'Ann is in the group',
  )
})

after(async () => {
  await Promise.all([ann?.stop(), bob?.stop()])
  await cleanup()
})

/** `devices link` on Ann's laptop: its first line is the link. */
async function offer(args: string[] = []): Promise<{ proc: LineProcess; link: string }> {
  const proc = new LineProcess(ann.home, ['devices', 'link', ...args])
  const first = await proc.waitFor((l) => typeof l.link === 'string')
  assert.equal(first.code, null, 'no code before the new device connects')
  assert.match(String(first.expiresAt), /^\d{4}-\d\d-\d\dT/)
  assert.equal(first.qr, String(first.link).toUpperCase())
  return { proc, link: String(first.link) }
}

function joiner(home: string, link: string, extra: string[] = []): LineProcess {
  return new LineProcess(home, ['init', '--link', link, '--name', 'Phone', ...extra])
}

/** `devices link` and `init --link` with the code N shows typed on A; resolves with N's home. */
async function link(home: string): Promise<Record<string, unknown>> {
  const { proc: a, link: l } = await offer()
  const n = joiner(home, l)
  const shown = await n.waitFor((x) => x.event === 'code')
  const onA = await a.waitFor((x) => x.event === 'code')
  assert.equal(onA.code, shown.code, 'both devices show the same code')
  a.type(String(shown.code))
  await a.waitFor((x) => x.event === 'linked', 30_000)
  const me = await n.waitFor((x) => typeof x.peerId === 'string' && x.event === undefined, 30_000)
  assert.equal(await a.exited, 0)
  assert.equal(await n.exited, 0, n.stderr)
  assert.ok(
    n.lines.some((x) => x.event === 'progress'),
    'the new device shows progress',
  )
  return me
}

test('wrong code, used link and expired link are refused; nothing is created', {
  timeout: 120_000,
}, async () => {
  const home = await tempHome()
  const { proc: a, link: l } = await offer()
  const n = joiner(home, l)
  const shown = String((await n.waitFor((x) => x.event === 'code')).code)
  await a.waitFor((x) => x.event === 'code')
  a.type(shown === '000000' ? '111111' : '000000')
  assert.equal(await a.exited, 1, 'a wrong code fails on the existing device')
  assert.match(a.stderr, /code did not match/)
  assert.equal(await n.exited, 1)
  assert.match(n.stderr, /code did not match|验证码/)

  // The same link again: it was used by the first try.
  const again = await jiayi(home, ['init', '--link', l, '--name', 'Phone'])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /used already|已被使用/)

  // A link past its expiry.
  const { proc: short, link: old } = await offer(['--expires', '1'])
  await new Promise((r) => setTimeout(r, 1_200))
  const late = await jiayi(home, ['init', '--link', old, '--name', 'Phone'])
  assert.equal(late.code, 1)
  assert.match(late.stderr, /expired|过期/)
  short.child.kill('SIGTERM')
  await short.exited

  const who = await jiayi(home, ['whoami'])
  assert.notEqual(who.code, 0, 'no identity was created by the refused tries')
  const mine = await ann.control.call<DeviceView[]>('devices')
  assert.equal(mine.length, 1, 'the laptop still lists only itself')
})

test('kill -9 of the new device mid-link, then a link; both list both; Bob gets the list', {
  timeout: 240_000,
}, async () => {
  const home = await tempHome()
  const { proc: a, link: l } = await offer()
  const n = joiner(home, l)
  const shown = String((await n.waitFor((x) => x.event === 'code')).code)
  await a.waitFor((x) => x.event === 'code')
  a.type(shown)
  n.child.kill('SIGKILL')
  await n.exited
  await a.exited
  // Either everything happened or nothing did; when nothing did, a new link sorts it out.
  const linked = (await ann.control.call<DeviceView[]>('devices')).length === 2
  const who = await jiayi(home, ['whoami', '--json'])
  assert.equal(who.code === 0, linked, 'the new device holds an identity exactly when the laptop lists it')
  if (!linked) {
    const me = await link(home)
    assert.equal(me.name, 'Ann', 'the new device is Ann')
  }

  const phone = await TestPeer.startOn('Ann (phone)', home, LOOPBACK, { timeoutMs: 60_000 })
  try {
    const onA = await jiayiJson<DeviceView[]>(ann.home, ['devices'])
    const onN = await phone.control.call<DeviceView[]>('devices')
    assert.deepEqual(
      onA.map((d) => [d.id, d.current]),
      [
        [ann.peerId, true],
        [phone.peerId, false],
      ],
    )
    assert.deepEqual(
      onN.map((d) => [d.id, d.name, d.current]),
      [
        [ann.peerId, onA[0]!.name, false],
        [phone.peerId, 'Phone', true],
      ],
    )
    const whoami = await jiayiJson<{ devices: DeviceView[]; identityKey: string }>(home, ['whoami'])
    assert.equal(whoami.devices.length, 2)
    assert.equal(whoami.identityKey, (await ann.control.call<{ identityKey: string }>('whoami')).identityKey)
    // The phone dials the laptop at start: the laptop has heard from it.
    await eventually(
      async () => (await ann.control.call<DeviceView[]>('devices'))[1]?.lastSeen != null,
      10_000,
      'the laptop heard from the phone',
    )
    // History before the link is on the phone.
    const messages = await phone.control.call<{ text: string }[]>('messages', { contact: 'Bob', peek: true })
    assert.ok(messages.some((m) => m.text === 'before the link'))

    // Bob learns Ann's new device list from her address update.
    await eventually(
      async () => {
        const c = (await bob.control.call<{ id: string; devices: string[] }[]>('contactList')).find(
          (x) => x.id === annOnBob,
        )
        return c?.devices.includes(phone.peerId) === true
      },
      15_000,
      'Bob holds both of Ann’s devices',
    )

    // One person on two devices: Bob's message reaches both; the phone's reply reaches Bob and
    // shows as sent on the laptop.
    type Shown = { text: string; direction: 'in' | 'out' }
    const shows = async (peer: TestPeer, contact: string, text: string, direction: 'in' | 'out') =>
      (await peer.control.call<Shown[]>('messages', { contact, peek: true })).some(
        (m) => m.text === text && m.direction === direction,
      )
    await bob.control.send(annOnBob, 'to both of Ann’s devices')
    await eventually(() => shows(phone, 'Bob', 'to both of Ann’s devices', 'in'), 30_000, 'on the phone')
    await eventually(() => shows(ann, 'Bob', 'to both of Ann’s devices', 'in'), 30_000, 'on the laptop')
    await phone.control.send('Bob', 'from Ann’s phone 手机')
    await eventually(() => shows(bob, annOnBob, 'from Ann’s phone 手机', 'in'), 30_000, 'at Bob')
    await eventually(() => shows(ann, 'Bob', 'from Ann’s phone 手机', 'out'), 30_000, 'as sent on the laptop')

    // In the group, each of Ann's devices speaks as Ann.
    await jiayiJson(home, ['send', 'Tea', 'group, from the phone'])
    await jiayiJson(ann.home, ['send', 'Tea', 'group, from the laptop'])
    await eventually(
      async () => {
        const got = await jiayiJson<{ text: string; sender: { id: string } }[]>(bob.home, ['messages', 'Tea'])
        const fromAnn = got.filter((m) => m.sender.id === annOnBob).map((m) => m.text)
        return fromAnn.includes('group, from the phone') && fromAnn.includes('group, from the laptop')
      },
      30_000,
      'Bob has both group messages, from Ann',
    )

    // Moments from either device are one feed to Bob: each device writes its own log.
    // Both at once: neither has the other's post when it writes its own.
    const [fromPhone, fromLaptop] = await Promise.all([
      jiayiJson<{ id: string }>(home, ['post', 'posted', 'on', 'the', 'phone']),
      jiayiJson<{ id: string }>(ann.home, ['post', 'posted', 'on', 'the', 'laptop']),
    ])
    await eventually(
      async () => {
        const posts = await jiayiJson<{ id: string; author: { id: string } }[]>(bob.home, ['feed'])
        const mine = posts.filter((p) => p.author.id === annOnBob).map((p) => p.id)
        return mine.includes(fromPhone.id) && mine.includes(fromLaptop.id)
      },
      30_000,
      'Bob sees both devices’ posts in Ann’s Moments',
    )

    // A copy of the phone's home, offline while it is removed (the attacker's device).
    await phone.stop()
    const copy = await tempHome()
    await cp(home, copy, { recursive: true })
    await phone.restart()
    await eventually(
      async () => (await ann.control.call<DeviceView[]>('devices'))[1]?.lastSeen != null,
      10_000,
      'the phone is back',
    )
    const left = await jiayiJson<DeviceView[]>(ann.home, ['devices', 'remove', phone.peerId])
    assert.deepEqual(
      left.map((d) => d.id),
      [ann.peerId],
    )
    // The phone is told: it wipes its store and ends.
    await phone.proc.waitFor((l) => l.event === 'device' && l.change === 'removed', 15_000)
    await phone.proc.exited
    assert.notEqual((await jiayi(home, ['whoami'])).code, 0, 'the removed phone holds no identity')
    await eventually(
      async () => {
        const c = (await bob.control.call<{ id: string; devices: string[] }[]>('contactList')).find(
          (x) => x.id === annOnBob,
        )
        return c?.devices.length === 1 && c.devices[0] === ann.peerId
      },
      15_000,
      'Bob no longer lists the phone',
    )

    // The copy still believes it is Ann's device: Bob refuses what it sends.
    const before = await bob.control.stats()
    const ghost = await TestPeer.startOn('ghost', copy, LOOPBACK, { timeoutMs: 60_000 })
    try {
      await ghost.control.send('Bob', 'from a removed device')
      await eventually(
        async () => {
          const s = await bob.control.stats()
          return (
            (s.refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0) >
            (before.refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0)
          )
        },
        20_000,
        'Bob refused the removed device',
      )
      const atBob = await bob.control.call<{ text: string }[]>('messages', { contact: annOnBob, peek: true })
      assert.ok(!atBob.some((m) => m.text === 'from a removed device'))
    } finally {
      await ghost.stop()
    }
  } finally {
    if (phone.proc.child.exitCode === null) await phone.stop()
  }
})
