/**
 * The control API's method table: the Messenger's public methods, each with its parameters
 * checked before the call, plus `subscribe` / `unsubscribe` for live events. It knows nothing of
 * sockets: the Unix-socket server (unix-server.ts) and, later, the web app's WebSocket both feed
 * it parsed messages through a ControlSession and send back what it returns.
 *
 * Nothing a client sends can take the peer down: bad requests get an error response, and
 * failures inside a method become {"code": "Internal"} with the details in the log only.
 */
import type { Messenger, MessengerEvents } from '@jiayi/core'
import { type AppLog, errorFields, nullLog } from '../cli/log.js'
import { FILE_METHODS, type FileMethodsDeps } from './file-methods.js'
import {
  ControlError,
  type ControlErrorBody,
  type ControlNotification,
  type ControlRequest,
  type ControlResponse,
  parseRequest,
} from './protocol.js'

/** What the dispatcher needs of a Messenger (a structural type, so tests can pass a fake). */
export type MessengerApi = Pick<
  Messenger,
  | 'whoami'
  | 'card'
  | 'stats'
  | 'contactList'
  | 'contact'
  | 'addContact'
  | 'accept'
  | 'reject'
  | 'send'
  | 'messages'
  | 'message'
  | 'markRead'
  | 'unreadCount'
  | 'react'
  | 'edit'
  | 'deleteMessage'
  | 'setTyping'
  | 'verify'
  | 'safetyNumberCode'
  | 'outboxSize'
  | 'settled'
  | 'events'
>

type ParamType = 'string' | 'boolean' | 'limit'
interface ParamSpec {
  readonly type: ParamType
  readonly optional?: boolean
}
type Params = Record<string, string | boolean | number | undefined>

interface MethodSpec {
  readonly params: Record<string, ParamSpec>
  readonly run: (m: MessengerApi, p: Params) => unknown
}

const req = (type: ParamType): ParamSpec => ({ type })
const opt = (type: ParamType): ParamSpec => ({ type, optional: true })
const s = (p: Params, k: string) => p[k] as string
const CONTACT = { contact: req('string') }
const MAX_LIMIT = 10_000

/** The method table. Results are the Messenger's JSON-ready views; `undefined` travels as null. */
export const METHODS: Readonly<Record<string, MethodSpec>> = {
  whoami: { params: {}, run: (m) => m.whoami() },
  card: { params: {}, run: (m) => m.card() },
  stats: { params: {}, run: (m) => m.stats() },
  contactList: { params: {}, run: (m) => m.contactList() },
  contact: { params: CONTACT, run: (m, p) => m.contact(s(p, 'contact')) },
  addContact: { params: { link: req('string') }, run: (m, p) => m.addContact(s(p, 'link')) },
  accept: { params: CONTACT, run: (m, p) => m.accept(s(p, 'contact')) },
  reject: { params: CONTACT, run: (m, p) => m.reject(s(p, 'contact')) },
  send: {
    params: { ...CONTACT, text: req('string'), replyTo: opt('string') },
    run: (m, p) =>
      m.send(s(p, 'contact'), s(p, 'text'), p.replyTo === undefined ? {} : { replyTo: s(p, 'replyTo') }),
  },
  messages: {
    params: { ...CONTACT, limit: opt('limit'), peek: opt('boolean') },
    run: (m, p) =>
      m.messages(s(p, 'contact'), {
        ...(p.limit === undefined ? {} : { limit: p.limit as number }),
        ...(p.peek === undefined ? {} : { peek: p.peek as boolean }),
      }),
  },
  message: {
    params: { ...CONTACT, messageId: req('string') },
    run: (m, p) => m.message(s(p, 'contact'), s(p, 'messageId')),
  },
  markRead: { params: CONTACT, run: (m, p) => m.markRead(s(p, 'contact')) },
  unreadCount: { params: CONTACT, run: (m, p) => m.unreadCount(s(p, 'contact')) },
  react: {
    params: { ...CONTACT, messageId: req('string'), emoji: req('string') },
    run: (m, p) => m.react(s(p, 'contact'), s(p, 'messageId'), s(p, 'emoji')),
  },
  edit: {
    params: { ...CONTACT, messageId: req('string'), text: req('string') },
    run: (m, p) => m.edit(s(p, 'contact'), s(p, 'messageId'), s(p, 'text')),
  },
  deleteMessage: {
    params: { ...CONTACT, messageId: req('string') },
    run: (m, p) => m.deleteMessage(s(p, 'contact'), s(p, 'messageId')),
  },
  setTyping: {
    params: { ...CONTACT, active: req('boolean') },
    run: (m, p) => m.setTyping(s(p, 'contact'), p.active as boolean),
  },
  verify: {
    params: { ...CONTACT, mark: opt('boolean') },
    run: (m, p) => m.verify(s(p, 'contact'), p.mark === true),
  },
  safetyNumberCode: { params: CONTACT, run: (m, p) => m.safetyNumberCode(s(p, 'contact')) },
  outboxSize: { params: CONTACT, run: (m, p) => m.outboxSize(s(p, 'contact')) },
  settled: { params: {}, run: (m) => m.settled() },
}

export const EVENT_NAMES = ['message', 'contact', 'typing'] as const
export type EventName = (typeof EVENT_NAMES)[number]

function checkParams(method: string, spec: MethodSpec, raw: Record<string, unknown> | undefined): Params {
  const given = raw ?? {}
  for (const k of Object.keys(given)) {
    if (!(k in spec.params)) throw new ControlError('BadParams', `${method} takes no parameter "${k}"`)
  }
  const out: Params = {}
  for (const [k, p] of Object.entries(spec.params)) {
    const v = given[k]
    if (v === undefined || v === null) {
      if (!p.optional) throw new ControlError('BadParams', `${method} needs "${k}"`)
      continue
    }
    if (p.type === 'string' && typeof v !== 'string')
      throw new ControlError('BadParams', `"${k}" must be a string`)
    if (p.type === 'boolean' && typeof v !== 'boolean')
      throw new ControlError('BadParams', `"${k}" must be true or false`)
    if (p.type === 'limit' && !(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_LIMIT))
      throw new ControlError('BadParams', `"${k}" must be an integer from 1 to ${MAX_LIMIT}`)
    out[k] = v as string | boolean | number
  }
  return out
}

/** Core error classes whose messages are written to be shown (no key bytes, no content). */
const SHOWN_TYPES = new Set([
  'MessengerError',
  'CardError',
  'InputError',
  'StoreError',
  'NetError',
  'IdentityError',
  'SafetyNumberError',
])

export class ControlDispatcher {
  private readonly log: AppLog

  private readonly files: FileMethodsDeps | undefined

  constructor(
    private readonly messenger: MessengerApi,
    options: { log?: AppLog; files?: FileMethodsDeps } = {},
  ) {
    this.log = options.log ?? nullLog
    this.files = options.files
  }

  get methods(): string[] {
    return [
      ...Object.keys(METHODS),
      ...(this.files ? Object.keys(FILE_METHODS) : []),
      'subscribe',
      'unsubscribe',
    ]
  }

  /** Calls a method with checked params; throws ControlError or the Messenger's own errors. */
  async call(method: string, params?: Record<string, unknown>): Promise<unknown> {
    const spec = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined
    if (spec === undefined && this.files !== undefined && Object.hasOwn(FILE_METHODS, method)) {
      const result = await FILE_METHODS[method]!(this.files, params ?? {})
      return result === undefined ? null : result
    }
    if (spec === undefined) throw new ControlError('UnknownMethod', `there is no method "${method}"`)
    const result = await spec.run(this.messenger, checkParams(method, spec, params))
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
    this.log.error('control method failed', { method, ...errorFields(error), stack: frames.trim() })
    return {
      code: 'Internal',
      message: 'the peer failed to do that; details are in its log',
      type: 'ControlError',
    }
  }

  /** Forwards Messenger events as notifications to `sink` until the returned function is called. */
  subscribe(events: readonly EventName[], sink: (notification: ControlNotification) => void): () => void {
    const offs: (() => void)[] = []
    const e = this.messenger.events
    if (events.includes('message'))
      offs.push(e.on('message', (ev: MessengerEvents['message']) => sink({ event: 'message', ...ev })))
    if (events.includes('contact'))
      offs.push(e.on('contact', (ev: MessengerEvents['contact']) => sink({ event: 'contact', ...ev })))
    if (events.includes('typing'))
      offs.push(e.on('typing', (ev: MessengerEvents['typing']) => sink({ event: 'typing', ...ev })))
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

  constructor(
    private readonly dispatcher: ControlDispatcher,
    private readonly send: (message: ControlResponse | ControlNotification) => void,
  ) {}

  /** Handles one message (a line, or a WebSocket text frame). Never throws. */
  async receive(text: string): Promise<void> {
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
    this.reply(await this.dispatcher.handle(parsed))
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
    const raw = params.events ?? [...EVENT_NAMES]
    if (!Array.isArray(raw) || raw.some((e) => !(EVENT_NAMES as readonly unknown[]).includes(e)))
      throw new ControlError('BadParams', `"events" must be a list of: ${EVENT_NAMES.join(', ')}`)
    const events = [...new Set(raw as EventName[])]
    this.unsubscribe = this.dispatcher.subscribe(events, (n) => this.reply(n))
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
