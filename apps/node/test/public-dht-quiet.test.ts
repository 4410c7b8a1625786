/**
 * `jiayi start --public-dht` with no internet stays quiet: a real `jiayi` process whose bootstrap
 * list points at closed ports on 127.0.0.1 (nothing answers, as when the network is down) starts,
 * says it joined in its ready line, logs no warning or error, and uses little CPU while nothing
 * answers (one dial round, then a pause that doubles). The web app's Settings switch
 * (`setPublicNetwork`) is saved and honoured at the next start without the flag.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanup, jiayi, LOOPBACK } from './helpers/cli.js'
import { TestPeer } from './helpers/peers.js'

after(cleanup)

/** A port nothing listens on: bound by the system, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) / 100
}

test('with the public network unreachable the peer starts, logs no error and stays idle', async (t) => {
  const ids = [
    'QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
    'QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  ]
  const bootstrap = await Promise.all(
    ids.map(async (id) => ['--bootstrap', `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${id}`]),
  )
  const peer = await TestPeer.create('Quiet', [...LOOPBACK, '--public-dht', ...bootstrap.flat()])
  try {
    assert.equal((peer.proc.ready as unknown as { publicDht?: boolean }).publicDht, true)
    // The bootstrap round runs at once; what follows is the pause.
    await sleep(1_000)
    const before = await cpuSeconds(peer.pid)
    await sleep(3_000)
    const used = (await cpuSeconds(peer.pid)) - before
    t.diagnostic(`CPU seconds used over 3 s: ${used.toFixed(2)}`)
    assert.ok(used < 1, `CPU seconds over 3 s: ${used}`)
    const log = await readFile(join(peer.home, 'jiayi.log'), 'utf8')
    assert.match(log, /joining the public network/)
    assert.doesNotMatch(log, / (WARN|ERROR) /)

    // The switch: saved now, honoured at the next start (here without --public-dht).
    const list = bootstrap.map((b) => b[1]!)
    type View = { publicDht: boolean; bootstrap: string[]; active: boolean }
    assert.deepEqual(await peer.control.call<View>('publicNetwork'), {
      publicDht: false,
      bootstrap: [],
      active: true,
    })
    const saved = await peer.control.call<View>('setPublicNetwork', { publicDht: true, bootstrap: list })
    assert.deepEqual(saved, { publicDht: true, bootstrap: list, active: true })
    await peer.stop()
    await peer.restart([...LOOPBACK])
    assert.equal((peer.proc.ready as unknown as { publicDht?: boolean }).publicDht, true)
    // Off, keeping the list: this run still has it; the next does not.
    const off = await peer.control.call<View>('setPublicNetwork', { publicDht: false })
    assert.deepEqual(off, { publicDht: false, bootstrap: list, active: true })
    await peer.stop()
    await peer.restart([...LOOPBACK])
    assert.equal((peer.proc.ready as unknown as { publicDht?: boolean }).publicDht, undefined)
    assert.equal((await peer.control.call<View>('publicNetwork')).active, false)
    // A switch that is not true or false is refused.
    await assert.rejects(peer.control.call('setPublicNetwork', { publicDht: 'yes' }))
  } finally {
    await peer.stop()
  }
})

test('--bootstrap must name a peer, and goes with --public-dht', async () => {
  const bad = await jiayi(join('/nonexistent', 'x'), [
    'start',
    '--public-dht',
    '--bootstrap',
    '/ip4/127.0.0.1/tcp/1',
  ])
  assert.equal(bad.code === 0, false)
  assert.match(bad.stderr, /--bootstrap must be a multiaddr ending in \/p2p\/PEER_ID/)
  const alone = await jiayi(join('/nonexistent', 'x'), [
    'start',
    '--bootstrap',
    '/ip4/127.0.0.1/tcp/1/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  ])
  assert.match(alone.stderr, /--bootstrap goes with --public-dht/)
})
