/**
 * A handover with part of the history, on a real store on disk: a group's unread count on the
 * new device counts only the members' messages it gets. Our own messages are never unread,
 * including those mirrored from another device of ours (sync.ts `group-sent`), which carry no
 * recipients.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { bytesToHex, fromUtf8, randomBytes, utf8 } from '../src/bytes.js'
import { handoverRecords } from '../src/devices/handover.js'
import { encodeMessage, GroupKeys } from '../src/groups/group-store.js'
import type { GroupId } from '../src/groups/ops.js'
import type { ContactId } from '../src/messenger/ids.js'
import { LevelStore } from '../src/store/level.js'

const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

test('a handover of the last day: our mirrored group message counts as nothing unread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-handover-groups-'))
  dirs.push(dir)
  const store = await LevelStore.open(dir)
  try {
    const now = 1_800_000_000_000
    const gid = bytesToHex(randomBytes(16)) as GroupId
    const me = bytesToHex(randomBytes(8)) as ContactId
    const bob = bytesToHex(randomBytes(8))
    const message = (sender: string, at: number) => ({
      id: bytesToHex(randomBytes(16)),
      sender,
      text: 'hi',
      sentAt: at,
      bytes: '',
      keyId: -1,
      iteration: -1,
      at,
    })
    // Bob's message two days old, unread; then ours, mirrored from another device, today.
    await store.put(GroupKeys.message(gid, 1), encodeMessage(message(bob, now - 2 * 86_400_000)))
    await store.put(GroupKeys.message(gid, 2), encodeMessage(message(me, now)))
    await store.put(GroupKeys.counters(gid), utf8(JSON.stringify({ unread: 1, mentioned: 0, nextSeq: 3 })))
    let counters: { unread?: number } | undefined
    for await (const [key, value] of handoverRecords(store, { history: { days: 1 }, me, now })) {
      if (bytesToHex(key) === bytesToHex(GroupKeys.counters(gid))) counters = JSON.parse(fromUtf8(value))
    }
    assert.equal(counters?.unread, 0)
  } finally {
    await store.close()
  }
})
