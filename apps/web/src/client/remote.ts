/**
 * The remote client: the web app as the UI of a node. The token comes from the URL fragment
 * (`#token=…`, never sent to the server by the browser) and is then kept in this tab's
 * sessionStorage (so a reload works) and removed from the address bar. The WebSocket carries it
 * as a subprotocol (browsers cannot set headers on a WebSocket); uploads and downloads carry it
 * as `Authorization: Bearer`. The connection comes back by itself after the node restarts or the
 * network blips; calls made meanwhile wait for it.
 */
import {
  ApiCallError,
  ApiClosedError,
  type ApiEvents,
  type CallableMethod,
  EVENT_NAMES,
  type EventName,
  type ParamsArg,
  type ResultOf,
  RpcClient,
} from '@jiayi/api'
import type { ClientState, JiayiClient, UploadProgress } from './types.js'

const TOKEN_KEY = 'jiayi.token'
const WS_PROTOCOL = 'jiayi.v1'
const MAX_BACKOFF_MS = 5_000
const CALL_WAIT_MS = 30_000

/** Reads `#token=` (and keeps the rest of the fragment, e.g. `add=…`); falls back to this tab's saved token. */
export function takeToken(): string | undefined {
  const hash = location.hash.replace(/^#/, '')
  const params = new URLSearchParams(hash)
  const token = params.get('token')
  if (token !== null && /^[0-9a-f]{64}$/.test(token)) {
    params.delete('token')
    const rest = params.toString()
    history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`)
    try {
      sessionStorage.setItem(TOKEN_KEY, token)
    } catch {
      // Reload will need the link again.
    }
    return token
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined
  } catch {
    return undefined
  }
}

export class RemoteClient implements JiayiClient {
  readonly mode = 'remote' as const
  private stateValue: ClientState = 'connecting'
  private readonly stateListeners = new Set<(s: ClientState) => void>()
  private ws: WebSocket | undefined
  private rpc: RpcClient | undefined
  private readonly handlers = new Map<EventName, Set<(p: never) => void>>()
  private waiters: (() => void)[] = []
  private backoff = 250
  private closed = false
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly token: string,
    private readonly origin = location.origin,
  ) {
    this.connect()
  }

  get state(): ClientState {
    return this.stateValue
  }

  onState(handler: (state: ClientState) => void): () => void {
    this.stateListeners.add(handler)
    return () => this.stateListeners.delete(handler)
  }

  private setState(s: ClientState): void {
    if (s === this.stateValue) return
    this.stateValue = s
    if (s === 'open') for (const w of this.waiters.splice(0)) w()
    for (const l of this.stateListeners) l(s)
  }

  private connect(): void {
    if (this.closed) return
    const ws = new WebSocket(`${this.origin.replace(/^http/, 'ws')}/api/ws`, [
      WS_PROTOCOL,
      `jiayi-token.${this.token}`,
    ])
    this.ws = ws
    const rpc = new RpcClient((text) => {
      if (ws.readyState !== WebSocket.OPEN) throw new ApiClosedError()
      ws.send(text)
    })
    for (const event of EVENT_NAMES) rpc.on(event, (payload) => this.emit(event, payload))
    let opened = false
    ws.onopen = () => {
      opened = true
      this.backoff = 250
      this.rpc = rpc
      void rpc.request('subscribe').catch(() => undefined)
      this.setState('open')
    }
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') rpc.receive(e.data)
    }
    ws.onclose = () => {
      rpc.fail()
      if (this.rpc === rpc) this.rpc = undefined
      if (this.closed) return
      if (!opened) {
        // Refused before opening: a wrong or old token (final), or the node is not there (retry).
        void this.authorized().then((ok) => {
          if (ok === false) this.setState('unauthorized')
          else this.retry()
        })
        return
      }
      this.retry()
    }
  }

  private retry(): void {
    if (this.closed) return
    this.setState('connecting')
    this.timer = setTimeout(() => this.connect(), this.backoff)
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
  }

  /** false: the node answers and refuses the token; undefined: the node does not answer. */
  private async authorized(): Promise<boolean | undefined> {
    try {
      const r = await fetch(`${this.origin}/api/ws`, { headers: { authorization: `Bearer ${this.token}` } })
      return r.status !== 401
    } catch {
      return undefined
    }
  }

  private ready(): Promise<RpcClient> {
    if (this.stateValue === 'open' && this.rpc) return Promise.resolve(this.rpc)
    if (this.stateValue === 'closed' || this.stateValue === 'unauthorized')
      return Promise.reject(new ApiClosedError())
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ApiClosedError('the node does not answer')), CALL_WAIT_MS)
      this.waiters.push(() => {
        clearTimeout(timer)
        if (this.rpc) resolve(this.rpc)
        else reject(new ApiClosedError())
      })
    })
  }

  async call<M extends CallableMethod>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
    const rpc = await this.ready()
    return rpc.call(method, ...params)
  }

  on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void {
    let set = this.handlers.get(event)
    if (set === undefined) {
      set = new Set()
      this.handlers.set(event, set)
    }
    set.add(handler as (p: never) => void)
    return () => set.delete(handler as (p: never) => void)
  }

  private emit(event: EventName, payload: unknown): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        ;(h as (p: unknown) => void)(payload)
      } catch (error) {
        console.error(error)
      }
    }
  }

  upload(blob: Blob, name: string, onProgress?: (p: UploadProgress) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open('POST', `${this.origin}/api/upload?name=${encodeURIComponent(name)}`)
      xhr.setRequestHeader('authorization', `Bearer ${this.token}`)
      xhr.setRequestHeader('content-type', blob.type || 'application/octet-stream')
      xhr.responseType = 'json'
      if (onProgress)
        xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.total || blob.size })
      xhr.onload = () => {
        const body = xhr.response as { id?: unknown } | null
        if (xhr.status === 200 && typeof body?.id === 'string') resolve(body.id)
        else
          reject(
            new ApiCallError({
              code: xhr.status === 413 ? 'TooLarge' : 'UploadFailed',
              message: 'upload failed',
            }),
          )
      }
      xhr.onerror = () => reject(new ApiClosedError())
      xhr.send(blob)
    })
  }

  async fileBlob(transferId: string): Promise<Blob> {
    const r = await fetch(`${this.origin}/api/files/${encodeURIComponent(transferId)}`, {
      headers: { authorization: `Bearer ${this.token}` },
    })
    if (!r.ok)
      throw new ApiCallError({
        code: r.status === 404 ? 'NotFound' : 'DownloadFailed',
        message: 'download failed',
      })
    return r.blob()
  }

  close(): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.ws?.close()
    this.setState('closed')
  }
}
