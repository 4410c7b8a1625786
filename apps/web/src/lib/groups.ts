/**
 * Group chats (群聊) as the API shows them, and a signal for the changes this page makes itself:
 * core announces a group's changes from other members (the `group` and `group-message` events),
 * not the user's own (a group made, renamed, left here) nor the unread count cleared by reading,
 * so the screens that show those hear of them here.
 */
import type { ResultOf } from '@jiayi/api'
import { useEffect } from 'preact/hooks'

export type GroupView = ResultOf<'group'>
export type GroupMessageView = ResultOf<'groupMessages'>[number]
export type GroupRole = GroupView['members'][number]['role']

const listeners = new Set<() => void>()

/** Says that this page changed a group, or read one. */
export function groupsTouched(): void {
  for (const l of listeners) l()
}

/** Calls `reload` whenever this page changes or reads a group. */
export function useGroupsTouched(reload: () => void): void {
  useEffect(() => {
    listeners.add(reload)
    return () => {
      listeners.delete(reload)
    }
  }, [reload])
}

/** The member of `group` who is the user (`me` from useMyId), if known. */
export function myRole(group: GroupView, me: string | undefined): GroupRole | undefined {
  return group.members.find((m) => m.id === me)?.role
}
