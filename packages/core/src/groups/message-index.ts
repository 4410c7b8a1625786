/**
 * Where a group's messages are, by id: reactions name their target by id, and a reaction counts
 * only for a message of its group. Messages are stored by local number (`gmsg <group> <seq>`,
 * group-store.ts), so the index is read from the store when asked, from where the last reading
 * stopped: a group nobody reacts in costs nothing, and a reaction to a made-up id costs only the
 * records that arrived since the last look.
 */
import type { Store } from '../store/store.js'
import { decodeMessage, GroupKeys, type HeldGroup, type StoredMessage } from './group-store.js'
import type { GroupId } from './ops.js'

/**
 * Numbers taken but not yet stored when last looked (a message being written, or one whose
 * write failed): looked at again on the next miss; beyond this many the oldest are given up.
 */
const MAX_HOLES = 64

interface Indexed {
  readonly seqs: Map<string, number>
  /** Every number up to this one was looked at (those in `holes` found empty). */
  upTo: number
  readonly holes: Set<number>
}

export class MessageIndex {
  private readonly groups = new Map<GroupId, Indexed>()

  constructor(private readonly store: Store) {}

  /** The message `id` of group `g` and its local number, if the group holds it. */
  async find(g: HeldGroup, id: string): Promise<{ seq: number; message: StoredMessage } | undefined> {
    const seq = await this.seqOf(g, id)
    if (seq === undefined) return undefined
    const bytes = await this.store.get(GroupKeys.message(g.log.id, seq))
    return bytes === undefined ? undefined : { seq, message: decodeMessage(bytes) }
  }

  private async seqOf(g: HeldGroup, id: string): Promise<number | undefined> {
    const gid = g.log.id
    let at = this.groups.get(gid)
    if (at === undefined) {
      at = { seqs: new Map(), upTo: 0, holes: new Set() }
      this.groups.set(gid, at)
    }
    const known = at.seqs.get(id)
    if (known !== undefined) return known
    for (const seq of [...at.holes]) {
      if (await this.look(gid, at, seq)) at.holes.delete(seq)
    }
    const last = g.nextSeq - 1
    for (let seq = at.upTo + 1; seq <= last; seq++) {
      if (!(await this.look(gid, at, seq))) {
        at.holes.add(seq)
        if (at.holes.size > MAX_HOLES) at.holes.delete(at.holes.values().next().value!)
      }
      at.upTo = seq
    }
    return at.seqs.get(id)
  }

  private async look(gid: GroupId, at: Indexed, seq: number): Promise<boolean> {
    const bytes = await this.store.get(GroupKeys.message(gid, seq))
    if (bytes === undefined) return false
    at.seqs.set(decodeMessage(bytes).id, seq)
    return true
  }
}
