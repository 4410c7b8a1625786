/**
 * The commands that need no running peer (init, whoami, card), how the store is unlocked (key
 * file, passphrase), and how commands that need the peer fail without one. Real processes.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmod, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { BIN, cleanup, jiayi, jiayiJson, ROOT, tempHome } from './helpers/cli.js'

after(cleanup)

interface Me {
  name: string
  identityKey: string
  peerId: string
}

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('jiayi without a running peer', { concurrency: true }, () => {
  test('runs as its own command with the Node flags of its #! line, which npm start passes too', async () => {
    const shebang = (await readFile(BIN, 'utf8')).split('\n', 1)[0]!
    assert.match(shebang, /^#!\/usr\/bin\/env -S node( --[\w-]+(=\S+)?)+$/)
    const flags = shebang.split(/\s+/).slice(3)
    assert.ok(flags.includes('--max-semi-space-size=64'))
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string }
    }
    assert.ok(pkg.scripts.start.includes(`node ${flags.join(' ')} apps/node/bin/jiayi.mjs start`))
    // Executed directly (as `npx jiayi` does), through the #! line.
    const { stdout } = await promisify(execFile)(BIN, ['--help'], { cwd: ROOT })
    assert.match(stdout, /usage: jiayi COMMAND/)
  })

  test('init, whoami and card: fields, files and modes; init never overwrites; a loose key file is refused', async () => {
    const home = join(await tempHome(), 'home') // a home that does not exist yet
    const me = await jiayiJson<Me>(home, ['init', '--name', '张伟 Wei'])
    assert.deepEqual(Object.keys(me).sort(), ['identityKey', 'name', 'peerId'])
    assert.equal(me.name, '张伟 Wei')
    assert.match(me.identityKey, /^[0-9a-f]{64}$/)
    assert.match(me.peerId, /^12D3KooW/)
    assert.equal(await mode(home), 0o700)
    assert.equal(await mode(join(home, 'storage.key')), 0o600)
    assert.equal((await readFile(join(home, 'storage.key'))).length, 32)

    // whoami adds this home's devices (one, this one, named after the machine, never heard from).
    const who = await jiayiJson<Me & { devices: { id: string; current: boolean; lastSeen: null }[] }>(home, [
      'whoami',
    ])
    const { devices, ...rest } = who
    assert.deepEqual(rest, me)
    assert.deepEqual(
      devices.map((d) => [d.id, d.current, d.lastSeen]),
      [[me.peerId, true, null]],
    )

    const png = join(home, 'card.png')
    const card = await jiayiJson<Record<string, unknown>>(home, ['card', '--png', png])
    assert.match(String(card.link), /^jiayi:add\/[A-Z2-7]+$/)
    assert.equal(card.name, me.name)
    assert.equal(card.peerId, me.peerId)
    assert.deepEqual(card.addrs, [], 'a peer that never ran has no addresses to put on its card')
    assert.equal(card.live, false)
    const pngBytes = await readFile(png)
    assert.deepEqual([...pngBytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47])
    // For people, into a pipe: the link, the QR code's blocks, and no colour codes.
    const piped = await jiayi(home, ['card'])
    assert.equal(piped.code, 0)
    assert.match(piped.stdout, /jiayi:add\/[A-Z2-7]+/)
    assert.match(piped.stdout, /[▄▀█]{10}/)
    assert.ok(!piped.stdout.includes('\x1b'), 'no escape codes in a pipe')

    const again = await jiayi(home, ['init', '--name', 'Someone else', '--json'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /identity already exists/)
    assert.equal(JSON.parse(again.stdout).error.code, 'AccountExists')

    // A key file that others can read is refused, with the fix in the message.
    await chmod(join(home, 'storage.key'), 0o644)
    const loose = await jiayi(home, ['whoami', '--json'])
    assert.equal(loose.code, 1)
    assert.match(loose.stderr, /readable by others.*chmod 600/)
    assert.equal(JSON.parse(loose.stdout).error.code, 'Unsafe')
  })

  test('a passphrase replaces the key file; a wrong or missing one exits 1', async () => {
    const home = await tempHome()
    const env = { JIAYI_PASSPHRASE: 'correct horse 马 🐎' }
    const me = await jiayiJson<Me>(home, ['init', '--name', 'Pat'], { env })
    await assert.rejects(stat(join(home, 'storage.key')), 'no key file when a passphrase is set')

    const wrong = await jiayi(home, ['whoami', '--passphrase', 'battery staple'])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /wrong passphrase/)
    assert.doesNotMatch(wrong.stderr, /battery/, 'the passphrase is never echoed')

    const missing = await jiayi(home, ['whoami'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /passphrase/)

    const { devices: _, ...again } = await jiayiJson<Me & { devices: unknown }>(home, [
      'whoami',
      '--passphrase',
      env.JIAYI_PASSPHRASE,
    ])
    assert.deepEqual(again, me)
  })

  test('commands that need the peer say to run `jiayi start`; usage errors exit 1', async () => {
    const home = await tempHome()
    for (const args of [['contacts'], ['send', 'bob', 'hello'], ['messages', 'bob'], ['stats']]) {
      const r = await jiayi(home, [...args, '--json'])
      assert.equal(r.code, 1, args.join(' '))
      // The hint keeps the home the user gave.
      assert.ok(r.stderr.includes(`jiayi --home ${home} start`), r.stderr)
      assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ['error'], 'with --json stdout holds only JSON')
      assert.equal(JSON.parse(r.stdout).error.code, 'NotRunning')
    }
    const noIdentity = await jiayi(home, ['whoami'])
    assert.equal(noIdentity.code, 1)
    assert.ok(noIdentity.stderr.includes(`jiayi --home ${home} init --name NAME`), noIdentity.stderr)
    for (const args of [
      ['frobnicate'],
      ['send', '--mark', 'bob', 'x'],
      ['messages', 'bob', '--limit', 'many'],
      ['init'],
    ]) {
      const r = await jiayi(home, args)
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, /^jiayi: /)
    }
    const help = await jiayi(home, ['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /init --name NAME/)
  })
})
