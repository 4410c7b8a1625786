/**
 * A test client for a running peer's control socket (<home>/control.sock): newline-delimited
 * JSON {id, method, params} requests, {id, result|error} responses, {event, ...} notifications.
 * Self-contained on purpose (node:net only), so bulk sends in the process tests and benchmarks
 * do not depend on how the app organises its own client code.
 */
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'

export interface MessageView {
  readonly id: string
  readonly contactId: string
  readonly direction: 'in' | 'out'
  readonly text: string
  readonly sentAt: string
  readonly status: string
}

export interface ContactView {
  readonly id: string
  readonly name: string
  readonly peerId: string
  readonly state: 'accepted' | 'pending-in' | 'pending-out'
  readonly online: boolean
}

export interface Stats {
  readonly contacts: number
  readonly refusedTotal: number
  readonly refused: Record<string, Record<string, number>>
  readonly files?: { readonly refusedTotal: number; readonly refused: Record<string, number> }
  readonly feed?: { readonly rejectedTotal: number; readonly rejected: Record<string, number> }
}

export type Notification = Record<string, unknown> & { readonly event: string }

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`)
    this.name = 'ControlError'
  }
}

export class Control {
  private nextId = 1
  private buffered = ''
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private readonly listeners = new Set<(n: Notification) => void>()
  private closedWith: Error | undefined

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      for (;;) {
        const nl = this.buffered.indexOf('\n')
        if (nl < 0) break
        const line = this.buffered.slice(0, nl)
        this.buffered = this.buffered.slice(nl + 1)
        if (line.trim()) this.receive(JSON.parse(line) as Record<string, unknown>)
      }
    })
    const fail = (error?: Error) => {
      this.closedWith ??= error ?? new Error('control socket closed')
      for (const p of this.pending.values()) p.reject(this.closedWith)
      this.pending.clear()
    }
    socket.on('error', fail)
    socket.on('close', () => fail())
  }

  /** Connects to the peer of `home` (its socket exists once the peer printed "ready"). */
  static open(home: string): Promise<Control> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(home, 'control.sock'))
      socket.once('connect', () => {
        socket.removeListener('error', reject)
        resolve(new Control(socket))
      })
      socket.once('error', reject)
    })
  }

  private receive(value: Record<string, unknown>): void {
    if (typeof value.event === 'string' && !('id' in value)) {
      for (const l of this.listeners) l(value as Notification)
      return
    }
    const waiter = typeof value.id === 'number' ? this.pending.get(value.id) : undefined
    if (waiter === undefined) return
    this.pending.delete(value.id as number)
    const error = value.error as { code: string; message: string } | undefined
    if (error !== undefined) waiter.reject(new ControlError(error.code, error.message))
    else waiter.resolve(value.result)
  }

  /** One request; the peer runs requests of one connection concurrently, started in order. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith)
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  send(contact: string, text: string): Promise<MessageView> {
    return this.call<MessageView>('send', { contact, text })
  }

  /** The whole conversation (up to 10,000), oldest first, without marking anything read. */
  messages(contact: string, options: { peek?: boolean; limit?: number } = {}): Promise<MessageView[]> {
    return this.call<MessageView[]>('messages', {
      contact,
      limit: options.limit ?? 10_000,
      peek: options.peek ?? true,
    })
  }

  contacts(): Promise<ContactView[]> {
    return this.call<ContactView[]>('contactList')
  }

  stats(): Promise<Stats> {
    return this.call<Stats>('stats')
  }

  /** Live events from now on ('message', 'contact', 'typing'). */
  async subscribe(
    listener: (n: Notification) => void,
    events: readonly string[] = ['message', 'contact'],
  ): Promise<void> {
    this.listeners.add(listener)
    await this.call('subscribe', { events })
  }

  close(): void {
    this.closedWith ??= new Error('control socket closed by the test')
    this.socket.destroy()
  }
}

/**
 * Sends `texts` to `contact` through one control connection with at most `window` requests in
 * flight, in order. Each acknowledged send (the message is on the sender's disk) is passed to
 * `onSent`. Stops at the first failure (e.g. the peer was killed) and returns what was sent.
 */
export async function sendMany(
  control: Control,
  contact: string,
  texts: readonly string[],
  options: { window?: number; onSent?: (m: MessageView, index: number) => void } = {},
): Promise<{ sent: MessageView[]; error?: Error }> {
  const window = options.window ?? 64
  const sent: MessageView[] = []
  let next = 0
  let error: Error | undefined
  const worker = async () => {
    while (error === undefined && next < texts.length) {
      const i = next++
      try {
        const m = await control.send(contact, texts[i]!)
        sent[i] = m
        options.onSent?.(m, i)
      } catch (e) {
        error ??= e as Error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, texts.length) }, worker))
  return error === undefined ? { sent } : { sent: sent.filter(Boolean), error }
}
