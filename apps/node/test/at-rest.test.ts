/**
 * At rest: after a conversation between two `jiayi start` processes, one home unlocked by its key
 * file and one by a passphrase, no byte of any home (every file: LevelDB tables, write-ahead logs,
 * manifests, jiayi.log, ...) holds a message text or a private key. Checked on copies taken while
 * the peers run and on the homes after they stopped, across a restart (two generations of ratchet
 * state).
 *
 * The secrets come out of the stores themselves, opened the way the app opens them: the storage
 * data key (from the key header), the identity's Ed25519 and X25519 secret keys, the device key,
 * the signed, one-time and ML-KEM prekeys, the WebRTC-Direct certificate's private key, and every
 * ratchet key of every session (root, chain, header and skipped message keys, DH secrets). Each is
 * searched as raw bytes, hex and base64; every sealed record's plaintext is searched raw too.
 *
 * Nor does any byte of either store (LevelDB's files, and its records read back raw) tell who
 * talked to whom or when: no contact id, peer id, identity key, message id or message time
 * (PROTOCOL.md, "Storage at rest", says what stays visible: families, counts, sizes).
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { after, before, test } from 'node:test'
import {
  concatBytes,
  decodeStoreKey,
  deserializeSession,
  LevelStore,
  loadAccount,
  openKeyHeader,
  openSealedStore,
  SealedStore,
  type StorageSecret,
  storeKey,
  utf8,
} from '@jiayi/core'
import { cleanup, eventually, stablePortArgs } from './helpers/cli.js'
import { type Control, sendMany } from './helpers/control.js'
import { befriend, TestPeer } from './helpers/peers.js'

const PASSPHRASE = 'correct horse 电池 staple'

let a: TestPeer
let b: TestPeer
let bAtA: string
let aAtB: string

before(async () => {
  ;[a, b] = await Promise.all([
    TestPeer.create('Keyfile Kim'),
    // B comes back on its port after a restart (below): one the system never hands out itself.
    TestPeer.create('Passphrase Pat', stablePortArgs(), { env: { JIAYI_PASSPHRASE: PASSPHRASE } }),
  ])
  ;({ bAtA, aAtB } = await befriend(a, b))
})

after(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup()
})

// ------------------------------------------------------------------ homes as bytes

type Snapshot = Map<string, Buffer>

/** Every file under `home`, read now (a peer may be writing: a vanished file is skipped). */
async function snapshot(home: string, label: string): Promise<Snapshot> {
  const out: Snapshot = new Map()
  for (const entry of await readdir(home, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    try {
      out.set(`${label}:${relative(home, path)}`, await readFile(path))
    } catch {
      // Rotated or compacted away between readdir and read.
    }
  }
  return out
}

interface Needle {
  readonly what: string
  readonly bytes: Uint8Array
}

/** Each secret as raw bytes, lower-case hex and base64 (with and without padding). */
function encodings(what: string, secret: Uint8Array): Needle[] {
  const buf = Buffer.from(secret)
  return [
    { what: `${what} (raw)`, bytes: secret },
    { what: `${what} (hex)`, bytes: utf8(buf.toString('hex')) },
    { what: `${what} (base64)`, bytes: utf8(buf.toString('base64').replace(/=+$/, '')) },
    { what: `${what} (base64url)`, bytes: utf8(buf.toString('base64url')) },
  ]
}

function findAll(snapshots: readonly Snapshot[], needles: readonly Needle[]): string[] {
  const found: string[] = []
  for (const snap of snapshots)
    for (const [file, content] of snap)
      for (const n of needles) if (content.indexOf(n.bytes) >= 0) found.push(`${n.what} in ${file}`)
  return found
}

// ------------------------------------------------------------------ secrets out of a store

const HEADER_KEY = concatBytes(Uint8Array.of(0x00), utf8('jiayi/store-header'))

/** Opens a stopped peer's store with its secret and collects every secret it holds. */
async function secretsOf(home: string, secret: StorageSecret, label: string): Promise<Needle[]> {
  const inner = await LevelStore.open(join(home, 'store'))
  const needles: Needle[] = []
  const add = (what: string, bytes: Uint8Array | undefined) => {
    if (bytes !== undefined && bytes.length >= 16) needles.push(...encodings(`${label} ${what}`, bytes))
  }
  try {
    const header = await inner.get(HEADER_KEY)
    assert.ok(header, 'the store has a key header')
    const dataKey = await openKeyHeader(header, secret)
    add('storage data key', dataKey)
    const store = new SealedStore(inner, dataKey)
    const account = await loadAccount(store)
    assert.ok(account)
    add('identity signing secret', account.identity.signing.secretKey)
    add('identity agreement secret', account.identity.agreement.secretKey)
    add('device key', account.deviceKey.raw)
    add('device key seed', account.deviceKey.raw.subarray(0, 32))
    let sessions = 0
    for await (const [key, value] of store.iterate()) {
      const [kind] = decodeStoreKey(key)
      // Every record's plaintext: none may be on disk as such (structural, small values aside).
      if (value.length >= 32 && kind !== 'announced' && kind !== 'node')
        needles.push({ what: `${label} record ${String(kind)}`, bytes: value })
      const json = () => JSON.parse(Buffer.from(value).toString('utf8'))
      if (kind === 'otk') add('one-time prekey', value)
      if (kind === 'spk') add('signed prekey secret', Buffer.from(json().secret, 'hex'))
      if (kind === 'kem') add('ML-KEM prekey seed', Buffer.from(json().seed, 'hex'))
      if (kind === 'node') {
        const r = json() as { privateKey?: string }
        if (typeof r.privateKey === 'string') {
          const der = Buffer.from(r.privateKey.replace(/-----[^-]+-----|\s/g, ''), 'base64')
          add('webrtc-direct private key', der)
        }
      }
      if (kind === 'sessions') {
        for (const encoded of json() as string[]) {
          const s = deserializeSession(Buffer.from(encoded, 'base64'))
          const r = s.ratchet
          sessions++
          add('ratchet root key', r.rootKey)
          add('ratchet DH secret', r.dhSelf.secretKey)
          add('sending chain key', r.send?.chainKey)
          add('receiving chain key', r.recv?.chainKey)
          add('header key (send)', r.headerKeySend)
          add('header key (recv)', r.headerKeyRecv)
          add('next header key (send)', r.nextHeaderKeySend)
          add('next header key (recv)', r.nextHeaderKeyRecv)
          for (const chain of r.skipped) {
            add('skipped chain header key', chain.headerKey)
            for (const k of chain.keys.values()) add('skipped message key', k)
          }
        }
      }
    }
    assert.ok(sessions >= 1, `${label}: a session was found`)
  } finally {
    await inner.close()
  }
  return needles
}

// ------------------------------------------------------------------ ids and times

/** The identity keys (hex) of a stopped peer's contacts, read as the peer reads them. */
async function rawContacts(home: string): Promise<string[]> {
  const secret: StorageSecret =
    home === a.home
      ? { key: new Uint8Array(await readFile(join(home, 'storage.key'))) }
      : { passphrase: PASSPHRASE }
  const store = await openSealedStore(await LevelStore.open(join(home, 'store')), secret)
  try {
    const out: string[] = []
    for await (const [, v] of store.iterate({ prefix: storeKey('contact') }))
      out.push((JSON.parse(Buffer.from(v).toString('utf8')) as { identityKey: string }).identityKey)
    return out
  } finally {
    await store.close()
  }
}

/** A stopped peer's store as raw records (keys and values as LevelDB gives them back). */
async function rawStoreBytes(home: string): Promise<Snapshot> {
  const inner = await LevelStore.open(join(home, 'store'))
  const out: Snapshot = new Map()
  try {
    let n = 0
    for await (const [k, v] of inner.iterate())
      out.set(`${home === a.home ? 'A' : 'B'} raw record ${n++}`, Buffer.concat([k, v]))
  } finally {
    await inner.close()
  }
  return out
}

const RUN_STARTED = Date.now()

/**
 * Millisecond times of this run found in `bytes`: as a big-endian float64 (the outbox's fields
 * were stored so) or as 13 decimal digits (JSON). A random 8 bytes falls in a window of minutes
 * with a chance of about 2^-47, so a hit is a time.
 */
function timesIn(bytes: Buffer): number[] {
  const now = Date.now() + 60_000
  const found: number[] = []
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (bytes[i] !== 0x42) continue
    const t = bytes.readDoubleBE(i)
    if (Number.isInteger(t) && t >= RUN_STARTED && t <= now) found.push(t)
  }
  for (const m of bytes.toString('latin1').matchAll(/\d{13}/g)) {
    const t = Number(m[0])
    if (t >= RUN_STARTED && t <= now) found.push(t)
  }
  return found
}

// ------------------------------------------------------------------ the conversation

const texts: string[] = []
/** Every message either side has, as the API shows them (ids, times). */
const seen: { id: string; sentAt: string }[] = []

async function talk(round: number): Promise<void> {
  const fromA = Array.from(
    { length: 20 },
    (_, i) => `Kim round ${round} #${i}: the vault code is ${7000 + i * 13} 🔐`,
  )
  const fromB = Array.from({ length: 20 }, (_, i) => `帕特第${round}轮第${i}条：密码是 ${9000 + i * 7} 🤫`)
  texts.push(...fromA, ...fromB)
  await Promise.all([sendMany(a.control, bAtA, fromA), sendMany(b.control, aAtB, fromB)])
  const has = async (c: Control, contact: string, expected: string[]) => {
    const got = new Set((await c.messages(contact)).map((m) => m.text))
    return expected.every((t) => got.has(t))
  }
  await eventually(
    async () => (await has(b.control, aAtB, fromA)) && (await has(a.control, bAtA, fromB)),
    30_000,
    `round ${round} delivered`,
  )
  seen.push(...(await a.control.messages(bAtA)), ...(await b.control.messages(aAtB)))
  // Reading sends read receipts: more ratchet steps on both sides.
  await Promise.all([
    a.control.call('markRead', { contact: bAtA }),
    b.control.call('markRead', { contact: aAtB }),
  ])
}

test('no message text and no private key is anywhere in either home', { timeout: 120_000 }, async () => {
  const snapshots: Snapshot[] = []
  const needles: Needle[] = []
  const secretA: StorageSecret = { key: new Uint8Array(await readFile(join(a.home, 'storage.key'))) }
  const secretB: StorageSecret = { passphrase: PASSPHRASE }

  const bPort = /\/tcp\/(\d+)/.exec(b.proc.ready.addrs[0]!)![1]
  for (const round of [1, 2]) {
    await talk(round)
    await new Promise((r) => setTimeout(r, 500)) // let the receipts land too
    snapshots.push(await snapshot(a.home, `A running ${round}`), await snapshot(b.home, `B running ${round}`))
    assert.equal(await a.stop(), 0)
    assert.equal(await b.stop(), 0)
    needles.push(...(await secretsOf(a.home, secretA, 'A')), ...(await secretsOf(b.home, secretB, 'B')))
    if (round === 1) {
      // Without mDNS, two peers that both moved would never find each other again: B comes back
      // on its old port, A on a new one (and tells B).
      await Promise.all([a.restart(), b.restart(['--listen', `/ip4/127.0.0.1/tcp/${bPort}`, '--no-mdns'])])
    }
  }
  snapshots.push(await snapshot(a.home, 'A stopped'), await snapshot(b.home, 'B stopped'))

  // The search does see what is stored in the clear: record families and the key file.
  const structural = findAll(snapshots, [{ what: 'family', bytes: utf8('outbox') }])
  assert.ok(
    structural.some((f) => f.includes(':store/')),
    'the scan reads the LevelDB files (record families are in the clear)',
  )
  const keyFile = secretA.key as Uint8Array
  assert.ok(
    findAll(snapshots, [{ what: 'key file', bytes: keyFile }]).includes('key file in A stopped:storage.key'),
  )

  // And nothing else.
  const plaintext = [...texts.map((t) => ({ what: `message "${t.slice(0, 24)}…"`, bytes: utf8(t) }))]
  // Each message also by its distinctive part alone, in case a record were split or escaped.
  for (const t of texts) {
    const core = /(vault code is \d+|密码是 \d+)/.exec(t)?.[0]
    if (core) plaintext.push({ what: `message part "${core}"`, bytes: utf8(core) })
  }
  const keyFileElsewhere = findAll(snapshots, encodings('key file', keyFile)).filter(
    (f) => !f.endsWith(':storage.key'),
  )
  const passphrase = findAll(snapshots, encodings('passphrase', utf8(PASSPHRASE)))
  assert.ok(needles.length > 400, `secrets collected: ${needles.length / 4}`)
  const scanned = snapshots.flatMap((snap) => [...snap.values()])
  console.log(
    `# at rest: ${needles.length} encodings of secrets and records, ${plaintext.length} texts, ` +
      `${scanned.length} files (${scanned.reduce((n, f) => n + f.length, 0)} bytes)`,
  )
  const leaks = [...findAll(snapshots, [...plaintext, ...needles]), ...keyFileElsewhere, ...passphrase]
  assert.deepEqual([...new Set(leaks)], [], 'nothing secret is on disk in the clear')
  // The homes were really scanned: A has a key file, B (passphrase) has none.
  // Who and when: ids, keys and times, in the store's files and in its raw records.
  const ids: Needle[] = []
  const contacts = [...(await rawContacts(a.home)), ...(await rawContacts(b.home))]
  for (const c of [aAtB, bAtA]) ids.push({ what: `contact id ${c}`, bytes: utf8(c) })
  for (const peerId of [a.proc.ready.peerId, b.proc.ready.peerId])
    ids.push({ what: 'peer id', bytes: utf8(peerId) })
  for (const key of contacts) ids.push(...encodings('identity key', Buffer.from(key, 'hex')))
  for (const m of seen) {
    ids.push(
      { what: `message id ${m.id}`, bytes: utf8(m.id) },
      { what: 'message id (raw)', bytes: Buffer.from(m.id, 'hex') },
    )
  }
  const storeFiles = snapshots.map((snap) => new Map([...snap].filter(([f]) => /:store\//.test(f))))
  const raw = [await rawStoreBytes(a.home), await rawStoreBytes(b.home)]
  assert.deepEqual(
    [...new Set(findAll([...storeFiles, ...raw], ids))],
    [],
    'no id or identity key in either store',
  )
  const times = [...storeFiles, ...raw].flatMap((snap) =>
    [...snap].flatMap(([f, bytes]) => timesIn(bytes).map((t) => `${t} in ${f}`)),
  )
  assert.deepEqual(times, [], 'no time of this run in either store, as a number or as text')
  assert.ok(seen.length >= 80 && contacts.length === 2, `ids checked: ${seen.length} messages`)

  const files = snapshots.flatMap((s) => [...s.keys()])
  assert.ok(files.some((f) => f === 'A stopped:storage.key'))
  assert.ok(!files.some((f) => f === 'B stopped:storage.key'))
  assert.ok(files.some((f) => /^B stopped:store\/.*\.(log|ldb)$/.test(f)))
})
