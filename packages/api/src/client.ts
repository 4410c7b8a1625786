/**
 * The client side of the API, typed from ApiMethods / ApiEvents: `RpcClient` speaks the message
 * grammar over any text channel (a WebSocket, or a ControlSession in process through
 * `localClient`), matches responses to requests by id and hands notifications to listeners.
 */
import type { ControlDispatcher } from './dispatcher.js'
import { ControlSession } from './dispatcher.js'
import type { ApiEvents, EventName, MethodName, ParamsOf, ResultOf } from './methods.js'
import { type ControlErrorBody, isNotification, isResponse } from './protocol.js'

/** The params argument: optional for methods that take none. */
export type ParamsArg<M extends MethodName> =
  Record<string, never> extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>]

export type CallableMethod = Exclude<MethodName, 'subscribe' | 'unsubscribe'>

export interface ApiClient {
  /** Calls a method; rejects with ApiCallError when the peer answers with an error. */
  call<M extends CallableMethod>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>>
  /** Listens to an event; returns the function that stops listening. */
  on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void
}

/** An error answered by the peer: its stable `code` and, when known, the peer-side error class. */
export class ApiCallError extends Error {
  readonly code: string
  readonly type: string | undefined

  constructor(body: ControlErrorBody) {
    super(body.message)
    this.name = 'ApiCallError'
    this.code = body.code
    this.type = body.type
  }

  static is(value: unknown, code?: string): value is ApiCallError {
    return value instanceof ApiCallError && (code === undefined || value.code === code)
  }
}

/** The channel is gone (closed, or never opened): the call may or may not have run. */
export class ApiClosedError extends Error {
  readonly code = 'Closed'
  constructor(message = 'the connection to the peer is closed') {
    super(message)
    this.name = 'ApiClosedError'
  }
}

type Handler = (payload: never) => void

export class RpcClient implements ApiClient {
  private nextId = 1
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private readonly handlers = new Map<EventName, Set<Handler>>()

  /** `send` puts one message (JSON text) on the channel; it may throw if the channel is closed. */
  constructor(private readonly send: (text: string) => void) {}

  call<M extends CallableMethod>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
    return this.request(method, params[0]) as Promise<ResultOf<M>>
  }

  /** A raw request (also subscribe / unsubscribe). */
  request(method: string, params?: object): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      try {
        this.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }))
      } catch {
        this.pending.delete(id)
        reject(new ApiClosedError())
      }
    })
  }

  on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void {
    let set = this.handlers.get(event)
    if (set === undefined) {
      set = new Set()
      this.handlers.set(event, set)
    }
    set.add(handler as Handler)
    return () => set.delete(handler as Handler)
  }

  /** Feeds one incoming message (JSON text) from the channel. */
  receive(text: string): void {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return
    }
    this.receiveParsed(value)
  }

  /** Feeds one incoming message that the channel has parsed already (to look at it first). */
  receiveParsed(value: unknown): void {
    if (isResponse(value)) {
      const p = typeof value.id === 'number' ? this.pending.get(value.id) : undefined
      if (p === undefined) return
      this.pending.delete(value.id as number)
      if ('error' in value) p.reject(new ApiCallError(value.error))
      else p.resolve(value.result)
      return
    }
    if (isNotification(value)) {
      const { event, ...payload } = value
      for (const h of this.handlers.get(event as EventName) ?? []) {
        try {
          ;(h as (p: unknown) => void)(payload)
        } catch {
          // One faulty listener must not starve the others.
        }
      }
    }
  }

  /** The channel closed: every pending call fails with ApiClosedError. */
  fail(error: Error = new ApiClosedError()): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) p.reject(error)
  }

  get pendingCalls(): number {
    return this.pending.size
  }
}

export interface LocalClient extends ApiClient {
  close(): void
}

/**
 * A client that calls the dispatcher in this process through a ControlSession, with each request
 * and response going through JSON as over a socket: the in-page peer and a node's UI run the very
 * same validation and see the very same values. Subscribes to every event the dispatcher offers.
 */
export function localClient(dispatcher: ControlDispatcher): LocalClient {
  let closed = false
  // Responses are delivered on a later task, as from a socket, never inside the caller's stack.
  const session = new ControlSession(dispatcher, (message) => {
    const text = JSON.stringify(message)
    setTimeout(() => {
      if (!closed) rpc.receive(text)
    }, 0)
  })
  const rpc = new RpcClient((text) => {
    if (closed) throw new ApiClosedError()
    void session.receive(text)
  })
  const subscribed = rpc.request('subscribe').catch(() => undefined)
  return {
    call: (method, ...params) => rpc.call(method, ...params),
    on(event, handler) {
      void subscribed
      return rpc.on(event, handler)
    },
    close() {
      closed = true
      session.close()
      rpc.fail()
    },
  }
}
