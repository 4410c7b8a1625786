/**
 * The API's method table over a host (a Messenger, and optionally its files layer, moments feed
 * and account operations), each method's parameters checked before the call, plus `subscribe` /
 * `unsubscribe` for live events. It knows nothing of transports: the Node peer's Unix socket, its
 * web server's WebSocket and the in-page peer's `localClient` all feed it parsed messages through
 * a ControlSession and send back what it returns.
 *
 * Nothing a client sends can take the peer down: bad requests get an error response, and
 * failures inside a method become {"code": "Internal"} with the details in the log only.
 */
import type { FileProgress } from '@jiayi/core'
import { ACCOUNT_METHODS } from './account-methods.js'
import { FEED_METHODS } from './feed-methods.js'
import { FILE_METHODS } from './file-methods.js'
import { GROUP_METHODS } from './group-methods.js'
import type { AccountHost, ApiHost, ApiLog, MessengerApi } from './host.js'
import { LABEL_METHODS } from './label-methods.js'
import { MESSENGER_METHODS } from './messenger-methods.js'
import { type ApiNotification, EVENT_NAMES, type EventName, type MethodName } from './methods.js'
import { checkParams } from './params.js'
import {
  ControlError,
  type ControlErrorBody,
  type ControlNotification,
  type ControlRequest,
  type ControlResponse,
  parseRequest,
} from './protocol.js'
import type { MethodContext, MethodSpec } from './table.js'
import { ClientWork, HeavyGate } from './work.js'

/** Every method with a table entry (subscribe and unsubscribe are the session's, capabilities the dispatcher's). */
export const METHODS: {
  readonly [M in Exclude<MethodName, 'subscribe' | 'unsubscribe' | 'capabilities'>]: MethodSpec<M>
} = {
  ...MESSENGER_METHODS,
  ...LABEL_METHODS,
  ...GROUP_METHODS,
  ...FILE_METHODS,
  ...FEED_METHODS,
  ...ACCOUNT_METHODS,
}

export { EVENT_NAMES, type EventName }

/** Core error classes whose messages are written to be shown (no key bytes, no content). */
const SHOWN_TYPES = new Set([
  'MessengerError',
  'CardError',
  'InputError',
  'StoreError',
  'NetError',
  'IdentityError',
  'SafetyNumberError',
  'FeedError',
  'FileError',
  'LabelError',
  'GroupError',
  'MailboxError',
  'DeviceError',
])

/** Progress notifications per transfer are at most this often (the last one always goes). */
const PROGRESS_EVERY_MS = 200

const nullLog: ApiLog = { debug() {}, info() {}, warn() {} }

export type DispatcherOptions = Omit<ApiHost, 'messenger'>

export class ControlDispatcher {
  private readonly log: ApiLog
  private readonly context: MethodContext
  private readonly moments: MethodContext['moments']
  /** Heavy requests of all clients together (work.ts). */
  readonly heavyGate = new HeavyGate()

  constructor(messenger: MessengerApi, options: DispatcherOptions = {}) {
    this.log = options.log ?? nullLog
    const feed = options.feed
    this.moments = { isMomentFile: (m) => feed?.isAttachmentMessage?.(m) ?? false }
    this.context = { ...options, messenger, moments: this.moments }
  }

  private available(method: string): boolean {
    if (!Object.hasOwn(METHODS, method)) return false
    const spec = METHODS[method as keyof typeof METHODS] as MethodSpec<MethodName>
    if (spec.needs === undefined) return true
    if (spec.needs === 'account') return this.context.account?.[method as keyof AccountHost] !== undefined
    return this.context[spec.needs] !== undefined
  }

  /** The methods this peer offers. */
  get methods(): string[] {
    return [
      ...Object.keys(METHODS).filter((m) => this.available(m)),
      'capabilities',
      'subscribe',
      'unsubscribe',
    ]
  }

  /** The events this peer can send. */
  get events(): EventName[] {
    return EVENT_NAMES.filter(
      (e) =>
        ((e === 'transfer' || e === 'progress') && this.context.files?.files.events !== undefined) ||
        (e === 'feed' && this.context.feed?.events !== undefined) ||
        (e === 'passphrase' && this.context.account?.events !== undefined) ||
        e === 'message' ||
        e === 'group' ||
        e === 'group-message' ||
        e === 'contact' ||
        e === 'typing' ||
        e === 'read' ||
        e === 'reach',
    )
  }

  /** Whether this call reads or computes much (MethodSpec.heavy): it then waits its turn (work.ts). */
  isHeavy(method: string, params: Record<string, unknown> | undefined): boolean {
    if (!Object.hasOwn(METHODS, method)) return false
    const spec = METHODS[method as keyof typeof METHODS] as MethodSpec<MethodName>
    return spec.heavy?.(params) ?? false
  }

  /** Calls a method with checked params; throws ControlError or the host's own errors. */
  async call(method: string, params?: Record<string, unknown>): Promise<unknown> {
    if (method === 'capabilities') {
      checkParams(method, {}, params)
      return { methods: this.methods, events: this.events }
    }
    if (!Object.hasOwn(METHODS, method))
      throw new ControlError('UnknownMethod', `there is no method "${method}"`)
    if (!this.available(method)) throw new ControlError('Unsupported', `this peer does not offer "${method}"`)
    const spec = METHODS[method as keyof typeof METHODS] as MethodSpec<MethodName>
    const result = await spec.run(this.context, spec.check(method, params) as never)
    return result === undefined ? null : result
  }

  /** Answers one request; never throws. */
  async handle(request: ControlRequest): Promise<ControlResponse> {
    const started = Date.now()
    try {
      const result = await this.call(request.method, request.params)
      this.log.debug('request', { method: request.method, ms: Date.now() - started })
      return { id: request.id, result }
    } catch (error) {
      const body = this.errorBody(request.method, error)
      this.log.debug('request failed', { method: request.method, code: body.code, ms: Date.now() - started })
      return { id: request.id, error: body }
    }
  }

  errorBody(method: string, error: unknown): ControlErrorBody {
    if (error instanceof ControlError) return { code: error.code, message: error.message, type: error.name }
    if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
      if (SHOWN_TYPES.has(error.name))
        return { code: (error as unknown as { code: string }).code, message: error.message, type: error.name }
    }
    // Stack frames only: the first line of a stack repeats the message, which is not ours to log.
    const frames = error instanceof Error ? (error.stack ?? '').split('\n').slice(1, 6).join(' | ') : ''
    const fields = {
      method,
      error: error instanceof Error ? error.name : typeof error,
      stack: frames.trim(),
    }
    if (this.log.error) this.log.error('control method failed', fields)
    else this.log.warn('control method failed', fields)
    return {
      code: 'Internal',
      message: 'the peer failed to do that; details are in its log',
      type: 'ControlError',
    }
  }

  /** Forwards events as notifications to `sink` until the returned function is called. */
  subscribe(events: readonly EventName[], sink: (notification: ApiNotification) => void): () => void {
    const offs: (() => void)[] = []
    const e = this.context.messenger.events
    const want = new Set(events)
    if (want.has('message'))
      offs.push(
        e.on('message', (ev) => {
          if (this.moments.isMomentFile(ev.message)) return
          sink({
            event: 'message',
            contactId: ev.contactId,
            change: ev.change,
            message: ev.message,
          })
        }),
      )
    if (want.has('contact')) offs.push(e.on('contact', (ev) => sink({ event: 'contact', ...ev })))
    if (want.has('group')) offs.push(e.on('group', (ev) => sink({ event: 'group', ...ev })))
    if (want.has('group-message'))
      offs.push(e.on('group-message', (ev) => sink({ event: 'group-message', ...ev })))
    if (want.has('typing')) offs.push(e.on('typing', (ev) => sink({ event: 'typing', ...ev })))
    if (want.has('read')) offs.push(e.on('read', (ev) => sink({ event: 'read', ...ev })))
    if (want.has('reach')) offs.push(e.on('reach', (reach) => sink({ event: 'reach', reach })))
    const fileEvents = this.context.files?.files.events
    if (fileEvents !== undefined && want.has('transfer'))
      offs.push(fileEvents.on('transfer', (ev) => sink({ event: 'transfer', ...ev })))
    if (fileEvents !== undefined && want.has('progress')) {
      const last = new Map<string, number>()
      offs.push(
        fileEvents.on('progress', (ev: FileProgress) => {
          const now = Date.now()
          const done = ev.bytes >= ev.size
          if (!done && now - (last.get(ev.id) ?? 0) < PROGRESS_EVERY_MS) return
          if (done) last.delete(ev.id)
          else last.set(ev.id, now)
          sink({ event: 'progress', ...ev })
        }),
      )
    }
    const feedEvents = this.context.feed?.events
    if (feedEvents !== undefined && want.has('feed'))
      offs.push(
        feedEvents.on('change', (ev) =>
          sink({
            event: 'feed',
            feed: ev.feed,
            local: ev.local,
            ...(ev.author === undefined ? {} : { author: ev.author }),
          }),
        ),
      )
    const accountEvents = this.context.account?.events
    if (accountEvents !== undefined && want.has('passphrase'))
      offs.push(accountEvents.on('passphrase', (p) => sink({ event: 'passphrase', ...p })))
    return () => {
      for (const off of offs.splice(0)) off()
    }
  }
}

/**
 * One client's conversation with the dispatcher: parses each incoming message, answers it
 * through `send`, and owns that client's subscription. Requests run concurrently; each response
 * carries its request's id.
 */
export class ControlSession {
  private unsubscribe: (() => void) | undefined
  private closed = false
  private readonly work: ClientWork
  private inFlight = 0
  /** When the client last sent something or got its last answer (Date.now()). */
  lastActive = Date.now()

  /**
   * `writable` resolves when the transport can take more output: a heavy request waits for it
   * before it starts, so a client that does not read its answers stops getting new ones made.
   */
  constructor(
    private readonly dispatcher: ControlDispatcher,
    private readonly send: (message: ControlResponse | ControlNotification) => void,
    options: { writable?: () => Promise<void> } = {},
  ) {
    this.work = new ClientWork(dispatcher.heavyGate, options.writable)
  }

  /** No request of this client is running or waiting. */
  get idle(): boolean {
    return this.inFlight === 0
  }

  /** The client listens for events (a chat window, the web app). */
  get subscribed(): boolean {
    return this.unsubscribe !== undefined
  }

  /** Handles one message (a line, or a WebSocket text frame). Never throws. */
  async receive(text: string): Promise<void> {
    this.lastActive = Date.now()
    const parsed = parseRequest(text)
    if ('reject' in parsed) return this.reply(parsed.reject)
    if (parsed.method === 'subscribe' || parsed.method === 'unsubscribe') {
      try {
        this.reply({ id: parsed.id, result: this.subscription(parsed.method, parsed.params) })
      } catch (error) {
        this.reply({ id: parsed.id, error: this.dispatcher.errorBody(parsed.method, error) })
      }
      return
    }
    this.inFlight++
    try {
      const request = parsed
      const response = this.dispatcher.isHeavy(request.method, request.params)
        ? await this.work
            .run(() => this.dispatcher.handle(request))
            .catch(
              (error): ControlResponse => ({
                id: request.id,
                error: this.dispatcher.errorBody(request.method, error),
              }),
            )
        : await this.dispatcher.handle(request)
      this.reply(response)
    } finally {
      this.inFlight--
      this.lastActive = Date.now()
    }
  }

  private subscription(method: 'subscribe' | 'unsubscribe', params: Record<string, unknown> = {}) {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (method === 'unsubscribe') {
      if (Object.keys(params).length > 0)
        throw new ControlError('BadParams', 'unsubscribe takes no parameters')
      return { events: [] }
    }
    for (const k of Object.keys(params))
      if (k !== 'events') throw new ControlError('BadParams', `subscribe takes no parameter "${k}"`)
    const offered = this.dispatcher.events
    const raw = params.events ?? offered
    if (!Array.isArray(raw) || raw.some((e) => !(offered as unknown[]).includes(e)))
      throw new ControlError('BadParams', `"events" must be a list of: ${offered.join(', ')}`)
    const events = [...new Set(raw as EventName[])]
    this.unsubscribe = this.dispatcher.subscribe(events, (n) => this.reply(n as ControlNotification))
    return { events }
  }

  private reply(message: ControlResponse | ControlNotification): void {
    if (this.closed) return
    try {
      this.send(message)
    } catch {
      // The transport is gone; its close handler ends the session.
    }
  }

  close(): void {
    this.closed = true
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }
}
