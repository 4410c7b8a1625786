/**
 * The client side of the control socket, used by every command that talks to the running peer:
 * @jiayi/api's RpcClient (the web app's too) over the socket's lines, with the CLI's errors and
 * the raw notifications its commands print. Light on purpose: it imports neither @jiayi/core nor
 * libp2p, so `jiayi send` starts fast.
 */
import { readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import {
  ApiCallError,
  type CallableMethod,
  ControlError,
  type ControlNotification,
  isNotification,
  isResponse,
  MAX_MESSAGE_BYTES,
  type ParamsArg,
  type ResultOf,
  RpcClient,
} from '@jiayi/api'
import { CliError, RemoteError } from '../cli/errors.js'
import { jiayiCommand } from '../cli/home.js'
import { LineSplitter } from './lines.js'

const CONNECT_TIMEOUT_MS = 5_000
/** How long a command waits for the socket of a peer that runs without one (see connect). */
const SOCKET_WAIT_MS = 6_000

export function notRunning(home: string): CliError {
  return new CliError(
    'NotRunning',
    `no jiayi peer is running on ${home}; start one with: ${jiayiCommand(home, 'start')}`,
  )
}

/**
 * A peer runs (its pid is in peer.lock and alive) but its socket stayed away: rather than "start
 * one", which `jiayi start` would refuse, say what is going on and what to do.
 */
function socketGone(home: string, pid: number): CliError {
  return new CliError(
    'NotRunning',
    `the jiayi peer on ${home} (pid ${pid}) is running, but its control socket is not there (still ` +
      `starting, or the file was removed: the peer makes a new one within seconds). Try again; if ` +
      `it stays away, stop the peer (kill ${pid}) and start it again`,
  )
}

/** The pid in <home>/peer.lock if that process is alive. */
async function runningPid(home: string): Promise<number | undefined> {
  let text: string
  try {
    text = (await readFile(join(home, 'peer.lock'), 'utf8')).trim()
  } catch {
    return undefined
  }
  const pid = Number.parseInt(text, 10)
  if (!Number.isSafeInteger(pid) || pid <= 0 || String(pid) !== text) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}

export class ControlClient {
  private readonly rpc: RpcClient
  private readonly listeners = new Set<(n: ControlNotification) => void>()
  private closeListeners = new Set<(error?: Error) => void>()
  private closed = false

  private constructor(
    private readonly socket: Socket,
    private readonly home: string,
  ) {
    this.rpc = new RpcClient((text) => this.socket.write(`${text}\n`))
    const splitter = new LineSplitter()
    socket.on('data', (chunk: Buffer) => {
      let lines: string[]
      try {
        lines = splitter.push(chunk)
      } catch (error) {
        // The peer runs on: one answer was longer than we take.
        this.fail(
          ControlError.is(error, 'TooLarge')
            ? new CliError(
                'ReplyTooLarge',
                `an answer of the jiayi peer on ${this.home} was longer than the ${MAX_MESSAGE_BYTES} bytes a line may carry; ask for less (a smaller --limit)`,
              )
            : (error as Error),
        )
        return
      }
      for (const line of lines) this.receive(line)
    })
    socket.on('error', (error) => this.fail(error))
    socket.on('close', () => this.fail())
  }

  /**
   * Connects to the peer's socket; rejects with NotRunning when nobody listens there. A peer that
   * runs without its socket (starting, or someone removed the file: it makes a new one) is waited
   * for a few seconds.
   */
  static async connect(path: string, home: string): Promise<ControlClient> {
    const deadline = Date.now() + SOCKET_WAIT_MS
    for (;;) {
      const result = await ControlClient.connectOnce(path, home)
      if (result instanceof ControlClient) return result
      if (result !== 'absent') throw result
      const pid = await runningPid(home)
      if (pid === undefined) throw notRunning(home)
      if (Date.now() > deadline) throw socketGone(home, pid)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  private static connectOnce(path: string, home: string): Promise<ControlClient | Error | 'absent'> {
    return new Promise((resolve) => {
      const socket = connect(path)
      const timer = setTimeout(() => {
        socket.destroy()
        resolve(new CliError('NotRunning', `the jiayi peer on ${home} does not answer`))
      }, CONNECT_TIMEOUT_MS)
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve(new ControlClient(socket, home))
      })
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        socket.destroy()
        const absent = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK'
        resolve(absent ? 'absent' : error)
      })
    })
  }

  /** Connects if a peer runs; undefined if none does. */
  static async tryConnect(path: string, home: string): Promise<ControlClient | undefined> {
    try {
      return await ControlClient.connect(path, home)
    } catch (error) {
      if (CliError.is(error, 'NotRunning')) return undefined
      throw error
    }
  }

  private receive(line: string): void {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      this.fail(new CliError('Internal', 'the peer sent something that is not JSON'))
      return
    }
    if (isNotification(value)) {
      for (const l of this.listeners) l(value)
      return
    }
    if (!isResponse(value)) return
    if (typeof value.id !== 'number') {
      // An answer to no request in particular (e.g. our line was too large): fail everything.
      if ('error' in value) this.fail(new RemoteError(value.error))
      return
    }
    this.rpc.receiveParsed(value)
  }

  private fail(error?: Error): void {
    if (this.closed) return
    this.closed = true
    const reason =
      error instanceof CliError || error instanceof RemoteError
        ? error
        : new CliError('Disconnected', `the jiayi peer on ${this.home} went away`)
    this.rpc.fail(reason)
    for (const l of this.closeListeners) l(error === undefined ? undefined : reason)
    this.socket.destroy()
  }

  /** Calls a method of @jiayi/api's method map: its parameters and result are the map's types. */
  call<M extends CallableMethod>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
    return this.request<ResultOf<M>>(method, (params[0] ?? {}) as Record<string, unknown>)
  }

  /** A raw request (subscribe, and methods outside the map). */
  request<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closed)
      return Promise.reject(new CliError('Disconnected', `the jiayi peer on ${this.home} went away`))
    // The peer's answer as the CLI reports it (exit codes by the peer-side error class).
    return this.rpc.request(method, params).catch((error: unknown) => {
      throw ApiCallError.is(error)
        ? new RemoteError({ code: error.code, message: error.message, type: error.type })
        : error
    }) as Promise<T>
  }

  onNotification(listener: (n: ControlNotification) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Called once when the connection ends (with the reason if it failed). */
  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.add(listener)
  }

  get isClosed(): boolean {
    return this.closed
  }

  close(): void {
    if (this.closed) return
    // Calls still waiting stay unanswered, as the command that closes wants nothing more.
    this.closed = true
    this.socket.end()
  }
}
