/**
 * Changing the lock of a running peer's home: from the key file to a passphrase (the key file is
 * wiped), then from that passphrase to another. The data key stays, so history survives.
 */
import assert from 'node:assert/strict'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanup, jiayi, jiayiJson, LOOPBACK, PeerProcess, tempHome } from './helpers/cli.js'
import { Control } from './helpers/control.js'

after(cleanup)

test('key file -> passphrase -> another passphrase, with the peer running; wrong secrets refused', async () => {
  const home = await tempHome()
  const me = await jiayiJson<{ peerId: string }>(home, ['init', '--name', 'Locksmith'])
  const keyFile = join(home, 'storage.key')
  assert.equal((await readFile(keyFile)).length, 32)

  let peer = await PeerProcess.start(home, LOOPBACK)
  let control = await Control.open(home)
  await control.call('changePassphrase', { next: 'correct horse 马' })
  await assert.rejects(access(keyFile), 'the key file is gone once a passphrase locks the store')
  await assert.rejects(control.call('changePassphrase', { current: 'wrong', next: 'x' }), /wrong/)
  control.close()
  assert.equal(await peer.stop('SIGTERM'), 0)

  const noSecret = await jiayi(home, ['whoami', '--json'])
  assert.equal(noSecret.code, 1, 'without the passphrase the home stays locked')
  const wrong = await jiayi(home, ['whoami', '--json', '--passphrase', 'nope'])
  assert.equal(wrong.code, 1)
  const who = await jiayiJson<{ peerId: string }>(home, ['whoami', '--passphrase', 'correct horse 马'])
  assert.equal(who.peerId, me.peerId)

  peer = await PeerProcess.start(home, LOOPBACK, { env: { JIAYI_PASSPHRASE: 'correct horse 马' } })
  control = await Control.open(home)
  await control.call('changePassphrase', { current: 'correct horse 马', next: 'battery staple' })
  control.close()
  assert.equal(await peer.stop('SIGTERM'), 0)
  assert.equal((await jiayi(home, ['whoami', '--json', '--passphrase', 'correct horse 马'])).code, 1)
  assert.equal(
    (await jiayiJson<{ peerId: string }>(home, ['whoami', '--passphrase', 'battery staple'])).peerId,
    me.peerId,
  )
})
