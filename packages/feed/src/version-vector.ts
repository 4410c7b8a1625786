/**
 * A version vector: for each writer replica of one feed, the highest sequence number held (all
 * lower ones are held too: replicas' logs are applied strictly in order). Absent = 0.
 */
import type { ReplicaId } from './ids.js'

export type VersionVector = ReadonlyMap<ReplicaId, number>

export function seqOf(vv: VersionVector, replica: ReplicaId): number {
  return vv.get(replica) ?? 0
}

/** Whether `a` holds something `b` lacks. */
export function hasNews(a: VersionVector, b: VersionVector): boolean {
  for (const [r, seq] of a) if (seq > seqOf(b, r)) return true
  return false
}

/** Pointwise maximum. */
export function mergeVV(a: VersionVector, b: VersionVector): Map<ReplicaId, number> {
  const out = new Map(a)
  for (const [r, seq] of b) if (seq > seqOf(out, r)) out.set(r, seq)
  return out
}

export function vvToJson(vv: VersionVector): Record<string, number> {
  return Object.fromEntries([...vv].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export function vvFromJson(json: Record<string, number>): Map<ReplicaId, number> {
  return new Map(Object.entries(json) as [ReplicaId, number][])
}

export function vvTotal(vv: VersionVector): number {
  let n = 0
  for (const seq of vv.values()) n += seq
  return n
}
