/**
 * Changing the lock of a home, with the peer running and without: from the key file to a
 * passphrase (the key file is wiped), then to another passphrase. Each change seals every record
 * under a new data key and deletes the old ones: a copy of the store or of the key file taken
 * before it opens nothing of the store after it. A `jiayi passphrase` killed (SIGKILL) in the
 * middle leaves a home that opens with the old or the new passphrase, whole.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { access, cp, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  type BatchOp,
  LevelStore,
  openKeyHeader,
  openSealedStore,
  SealedStore,
  type StorageSecret,
  type Store,
  StoreError,
  storeKey,
  utf8,
} from '@jiayi/core'
import { BIN, cleanup, jiayi, jiayiJson, LOOPBACK, PeerProcess, ROOT, tempHome } from './helpers/cli.js'
import { Control } from './helpers/control.js'

after(cleanup)

const HEADER_KEY = Uint8Array.of(0x00, ...utf8('jiayi/store-header'))

/** Every file of a LevelDB directory that holds `needle`. */
async function filesWith(dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for (const name of await readdir(dir)) {
    if ((await readFile(join(dir, name))).includes(Buffer.from(needle))) hits.push(name)
  }
  return hits
}

/** The key header of a home's store, as it is on disk. */
async function headerOf(home: string): Promise<Uint8Array> {
  const inner = await LevelStore.open(join(home, 'store'))
  try {
    return (await inner.get(HEADER_KEY))!
  } finally {
    await inner.close()
  }
}

/** What the application sees in a store: every key and value, hex. */
async function contents(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of store.iterate())
    out.set(Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex'))
  return out
}

async function withStore<T>(
  home: string,
  secret: StorageSecret,
  fn: (store: SealedStore) => Promise<T>,
): Promise<T> {
  const inner = await LevelStore.open(join(home, 'store'))
  const store = await openSealedStore(inner, secret).catch(async (error: unknown) => {
    await inner.close()
    throw error
  })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

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

test('a copy of the store and key file from before a change opens nothing of the store after it', async () => {
  const home = await tempHome()
  await jiayiJson(home, ['init', '--name', 'Copied'])
  const keyFile = new Uint8Array(await readFile(join(home, 'storage.key')))
  // What the attacker keeps: the whole home as it was, key file included.
  const copy = await tempHome()
  await cp(home, copy, { recursive: true })
  const oldHeader = await headerOf(copy)
  assert.ok((await filesWith(join(copy, 'store'), oldHeader)).length > 0, 'the scan sees a header')

  const peer = await PeerProcess.start(home, LOOPBACK)
  const control = await Control.open(home)
  const before = await control.call<{ name: string; peerId: string }>('whoami')
  await control.call('changePassphrase', { next: 'a new passphrase 新' })
  control.close()
  assert.equal(await peer.stop('SIGTERM'), 0)

  const dir = join(home, 'store')
  assert.deepEqual(await filesWith(dir, oldHeader), [], 'the old key header is gone from every file')
  const inner = await LevelStore.open(dir)
  try {
    // The old key file does not open the store...
    await assert.rejects(openSealedStore(inner, { key: keyFile }), (e) => StoreError.is(e, 'WrongKey'))
    // ...nor does the data key inside the old header open a single record of it.
    const oldKey = await openKeyHeader(oldHeader, { key: keyFile })
    for (const ns of [0x10, 0x11]) {
      const withOldKey = new SealedStore(inner, oldKey, ns)
      // Found under a name without ids (in the current namespace) the account record does not
      // open; anything else is not even found.
      const account = await withOldKey.get(storeKey('account')).catch((e: unknown) => {
        if (StoreError.is(e, 'Corrupt')) return undefined
        throw e
      })
      assert.equal(account, undefined)
      await assert.rejects(
        (async () => {
          for await (const _ of withOldKey.iterate()) return
          throw new StoreError('Corrupt', 'nothing at all to open')
        })(),
        (e) => StoreError.is(e, 'Corrupt'),
      )
    }
  } finally {
    await inner.close()
  }
  const who = await jiayiJson<{ peerId: string }>(home, ['whoami', '--passphrase', 'a new passphrase 新'])
  assert.equal(who.peerId, before.peerId)
})

test('jiayi passphrase: through the running peer and on the store, with progress and "done"', async () => {
  const home = await tempHome()
  const me = await jiayiJson<{ peerId: string }>(home, ['init', '--name', 'Changer'])
  const peer = await PeerProcess.start(home, LOOPBACK)
  const live = await jiayi(home, ['passphrase'], { env: { JIAYI_NEW_PASSPHRASE: 'first passphrase' } })
  assert.equal(live.code, 0, live.stderr)
  assert.match(live.stderr, /Re-sealing records under the new key: \d+ of \d+/)
  assert.match(live.stdout, /^Done: the passphrase is changed\. \d+ records are sealed under a new key/)
  assert.equal(await peer.stop('SIGTERM'), 0)

  // Without a peer, on the store: the current passphrase from the environment.
  const short = await jiayi(home, ['passphrase'], {
    env: { JIAYI_PASSPHRASE: 'first passphrase', JIAYI_NEW_PASSPHRASE: 'short' },
  })
  assert.equal(short.code, 1)
  assert.match(short.stderr, /too short/)
  const wrong = await jiayi(home, ['passphrase', '--json'], {
    env: { JIAYI_PASSPHRASE: 'not the one', JIAYI_NEW_PASSPHRASE: 'second passphrase' },
  })
  assert.equal(wrong.code, 1)
  assert.equal(JSON.parse(wrong.stdout).error.code, 'BadPassphrase')
  const local = await jiayiJson<{ changed: boolean; records: number }>(home, ['passphrase'], {
    env: { JIAYI_PASSPHRASE: 'first passphrase', JIAYI_NEW_PASSPHRASE: 'second passphrase' },
  })
  assert.equal(local.changed, true)
  assert.ok(local.records > 5, `records re-sealed: ${local.records}`)
  assert.equal((await jiayi(home, ['whoami', '--json', '--passphrase', 'first passphrase'])).code, 1)
  const who = await jiayiJson<{ peerId: string }>(home, ['whoami', '--passphrase', 'second passphrase'])
  assert.equal(who.peerId, me.peerId)
})

/** Runs `jiayi passphrase` and kills it (SIGKILL) at the first progress line `when` accepts. */
function killDuring(home: string, env: Record<string, string>, when: (line: string) => boolean) {
  const childEnv = { ...process.env, ...env }
  delete childEnv.JIAYI_HOME
  const child = spawn(process.execPath, [BIN, '--home', home, 'passphrase'], { cwd: ROOT, env: childEnv })
  let stderr = ''
  let killedAt: string | undefined
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    const line = stderr.split('\n').find((l) => when(l))
    if (line !== undefined && killedAt === undefined) {
      killedAt = line
      child.kill('SIGKILL')
    }
  })
  return new Promise<{ signal: NodeJS.Signals | null; killedAt: string | undefined; stderr: string }>(
    (resolve) => child.once('exit', (_code, signal) => resolve({ signal, killedAt, stderr })),
  )
}

/** A home with many records (so that a change takes long enough to be killed in the middle). */
async function bigHome(passphrase: string): Promise<{ home: string; before: Map<string, string> }> {
  const home = await tempHome()
  await jiayiJson(home, ['init', '--name', 'Hoarder'], { env: { JIAYI_PASSPHRASE: passphrase } })
  const before = await withStore(home, { passphrase }, async (store) => {
    for (let batch = 0; batch < 30; batch++) {
      const ops: BatchOp[] = []
      for (let i = 0; i < 1000; i++) {
        const n = batch * 1000 + i
        ops.push({ type: 'put', key: storeKey('msg', `c${n % 13}`, n), value: utf8(`kept ${n} `.repeat(8)) })
      }
      await store.batch(ops)
    }
    return contents(store)
  })
  return { home, before }
}

/** A progress line of `phase` with `done` in the range `accept` allows. */
const isProgress = (phase: string, accept: (done: number, total: number) => boolean) => (line: string) => {
  const m = new RegExp(`^${phase}: ([\\d,]+) of ([\\d,]+)$`).exec(line)
  if (m === null) return false
  const [done, total] = [m[1]!, m[2]!].map((n) => Number(n.replaceAll(',', '')))
  return accept(done!, total!)
}

async function opensWith(home: string, passphrase: string): Promise<Map<string, string> | undefined> {
  try {
    return await withStore(home, { passphrase }, contents)
  } catch (error) {
    if (StoreError.is(error, 'BadPassphrase')) return undefined
    throw error
  }
}

test('kill -9 while records are re-sealed: the old or the new passphrase opens the home, whole', {
  timeout: 180_000,
}, async () => {
  const { home, before } = await bigHome('old passphrase')
  const killed = await killDuring(
    home,
    { JIAYI_PASSPHRASE: 'old passphrase', JIAYI_NEW_PASSPHRASE: 'new passphrase' },
    isProgress('Re-sealing records under the new key', (done, total) => done > 0 && done < total),
  )
  assert.equal(killed.signal, 'SIGKILL', `killed in the middle: ${killed.killedAt} (${killed.stderr})`)
  // Both secrets open it (on copies: whichever opens first finishes the change).
  const copy = await tempHome()
  await cp(home, copy, { recursive: true })
  assert.deepEqual(await opensWith(copy, 'old passphrase'), before, 'the old passphrase opens it, whole')
  assert.equal(await opensWith(copy, 'old passphrase'), undefined, 'and that finished the change')
  assert.deepEqual(await opensWith(home, 'new passphrase'), before, 'the new passphrase opens it, whole')
  const who = await jiayi(home, ['whoami', '--json'], { env: { JIAYI_PASSPHRASE: 'new passphrase' } })
  assert.equal(who.code, 0, who.stderr)
})

test('kill -9 while old records are deleted: the new passphrase opens the home, and the rest goes', {
  timeout: 180_000,
}, async () => {
  const { home, before } = await bigHome('old passphrase')
  const oldHeader = await headerOf(home)
  const killed = await killDuring(
    home,
    { JIAYI_PASSPHRASE: 'old passphrase', JIAYI_NEW_PASSPHRASE: 'new passphrase' },
    // The first line of the phase: the change is committed, no old record is deleted yet.
    isProgress('Deleting the old records', () => true),
  )
  assert.equal(killed.signal, 'SIGKILL', `killed in the middle: ${killed.killedAt} (${killed.stderr})`)
  assert.equal(await opensWith(home, 'old passphrase'), undefined, 'the change was committed')
  assert.deepEqual(
    await opensWith(home, 'new passphrase'),
    before,
    'whole, and the open finished the deletion',
  )
  assert.deepEqual(
    await filesWith(join(home, 'store'), oldHeader),
    [],
    'the old header is gone from every file',
  )
})
