/**
 * The groups we are in, each with its newest message (for the chats list) and unread count,
 * loaded again when a group changes, a group message arrives, a contact's name changes, or this
 * page changed or read a group.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { useClient } from './client-context.js'
import { type GroupMessageView, type GroupView, useGroupsTouched } from './groups.js'

export interface GroupChat {
  readonly group: GroupView
  readonly last: GroupMessageView | null
}

export interface GroupChats {
  readonly data: readonly GroupChat[] | undefined
  readonly error: unknown
}

export function useGroupChats(): GroupChats {
  const client = useClient()
  const [data, setData] = useState<readonly GroupChat[] | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const generation = useRef(0)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)

  const load = useCallback(async () => {
    const mine = ++generation.current
    try {
      const groups = await client.call('groups')
      // `peek`: the list shows the newest message without reading it.
      const chats = await Promise.all(
        groups.map(async (group) => {
          const [last] = await client.call('groupMessages', { group: group.id, limit: 1, peek: true })
          return { group, last: last ?? null }
        }),
      )
      if (mine !== generation.current) return
      setData(chats)
      setError(undefined)
    } catch (e) {
      if (mine === generation.current) setError(e)
    }
  }, [client])

  /** Events come in bursts (a message to a group of many): one load after them. */
  const soon = useCallback(() => {
    if (timer.current !== undefined) return
    timer.current = setTimeout(() => {
      timer.current = undefined
      void load()
    }, 60)
  }, [load])

  useEffect(() => {
    void load()
    const offs = [
      client.on('group', soon),
      client.on('group-message', soon),
      client.on('contact', soon),
      client.onState((s) => s === 'open' && soon()),
    ]
    return () => {
      for (const off of offs) off()
      if (timer.current !== undefined) clearTimeout(timer.current)
      timer.current = undefined
    }
  }, [client, load, soon])
  useGroupsTouched(soon)

  return { data, error }
}
