/**
 * One peer per home. The lock that decides is LevelDB's own (an fcntl lock on store/LOCK, taken
 * by the peer for as long as it runs and released by the OS when the process dies, so kill -9
 * leaves nothing stale behind). peer.lock only records which pid holds it, so that a second
 * `jiayi start` can say who is running; a peer.lock naming a dead process is simply stale.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'

export async function readLockPid(path: string): Promise<number | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim()
    const pid = Number.parseInt(text, 10)
    return Number.isSafeInteger(pid) && pid > 0 && String(pid) === text ? pid : undefined
  } catch {
    return undefined
  }
}

/** Called only while holding the store's lock: whatever peer.lock said before is stale. */
export async function writeLockPid(path: string, pid: number = process.pid): Promise<void> {
  await writeFile(path, `${pid}\n`, { mode: 0o600 })
}

/** Removes peer.lock if it is still ours (a peer that started after us must keep its own). */
export async function removeLockPid(path: string, pid: number = process.pid): Promise<void> {
  if ((await readLockPid(path)) === pid) await rm(path, { force: true })
}
