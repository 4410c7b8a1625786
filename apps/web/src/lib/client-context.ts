/** The client every screen uses, and a hook that loads an API method and reloads it on events. */
import type { CallableMethod, EventName, ParamsArg, ResultOf } from '@jiayi/api'
import { createContext } from 'preact'
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks'
import type { JiayiClient } from '../client/types.js'

export const ClientContext = createContext<JiayiClient | null>(null)

export function useClient(): JiayiClient {
  const c = useContext(ClientContext)
  if (c === null) throw new Error('no client')
  return c
}

export interface Query<T> {
  readonly data: T | undefined
  readonly error: unknown
  readonly loading: boolean
  reload(): void
}

/**
 * Calls `method` now, again when `key` changes, when any of `events` arrives (debounced) and
 * when the connection comes back.
 */
export function useQuery<M extends CallableMethod>(
  method: M,
  params: ParamsArg<M>[0] | null,
  options: { events?: readonly EventName[]; key?: string } = {},
): Query<ResultOf<M>> {
  const client = useClient()
  const [data, setData] = useState<ResultOf<M> | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const generation = useRef(0)
  const paramsRef = useRef(params)
  paramsRef.current = params
  const key = options.key ?? JSON.stringify(params)

  const load = useCallback(() => {
    const p = paramsRef.current
    if (p === null) return
    const mine = ++generation.current
    setLoading(true)
    ;(client.call as (m: string, p?: unknown) => Promise<ResultOf<M>>)(method, p)
      .then((r) => {
        if (mine !== generation.current) return
        setData(r)
        setError(undefined)
      })
      .catch((e: unknown) => {
        if (mine === generation.current) setError(e)
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false)
      })
  }, [client, method, key])

  useEffect(() => {
    setData(undefined)
    load()
    let timer: ReturnType<typeof setTimeout> | undefined
    const soon = () => {
      if (timer !== undefined) return
      timer = setTimeout(() => {
        timer = undefined
        load()
      }, 60)
    }
    const offs = (options.events ?? []).map((e) => client.on(e, soon))
    // After a reconnection, what changed meanwhile is loaded again (the first load waits for 'open').
    let wasOpen = client.state === 'open'
    offs.push(
      client.onState((s) => {
        if (s === 'open' && wasOpen) soon()
        if (s === 'open') wasOpen = true
      }),
    )
    return () => {
      for (const off of offs) off()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [load, client, (options.events ?? []).join()])

  return { data, error, loading, reload: load }
}
