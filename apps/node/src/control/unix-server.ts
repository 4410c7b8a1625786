/**
 * The control protocol over a Unix domain socket (a named pipe on Windows): newline-delimited
 * JSON, one ControlSession per connection. Only the owner can connect: the socket is created
 * under a 0177 umask (so it is 0600 from its first instant) inside the 0700 home.
 */
import { chmod, lstat, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import {
  type ControlDispatcher,
  ControlError,
  type ControlNotification,
  type ControlResponse,
  ControlSession,
  MAX_MESSAGE_BYTES,
} from '@jiayi/api'
import { type AppLog, errorFields, nullLog } from '../cli/log.js'
import { encodeLine, LineSplitter } from './lines.js'

/**
 * At most this many connections (a runaway script must not exhaust the peer). A new one past it
 * takes the place of the connection idle longest, so that idle clients never lock out a command.
 */
export const MAX_CONNECTIONS = 64
/** Above this much output queued for a client, its heavy requests wait for it to read (work.ts). */
const HIGH_WATER_BYTES = 1024 * 1024
/** A client that stops reading its notifications is dropped once this much is queued for it. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024

export interface ControlServer {
  readonly path: string
  /** Stops accepting, drops every client and removes the socket file. */
  close(): Promise<void>
}

/** How often the peer checks that its socket file is still there (and makes a new one if not). */
export const SOCKET_CHECK_MS = 2_000

export async function listenControlSocket(
  path: string,
  dispatcher: ControlDispatcher,
  options: { log?: AppLog; checkMs?: number } = {},
): Promise<ControlServer> {
  const log = options.log ?? nullLog
  const clients = new Map<Socket, ControlSession>()
  const onConnection = (socket: Socket) => {
    if (clients.size >= MAX_CONNECTIONS && !makeRoom(clients, log)) {
      log.warn('control connection refused: every client is busy')
      socket.end(
        encodeLine({
          id: null,
          error: {
            code: 'Busy',
            message: 'the peer is serving too many clients; try again',
            type: 'ControlError',
          },
        }),
      )
      return
    }
    clients.set(socket, serve(socket, dispatcher, log))
    socket.on('close', () => clients.delete(socket))
  }

  const unix = process.platform !== 'win32'
  // The caller holds the home's lock, so a socket file left here is from a peer that died.
  if (unix) await rm(path, { force: true })
  let server = await bind(path, onConnection, log)

  // Someone may delete the socket file while the peer runs (a cleanup script, a careless rm):
  // every command would then find no peer, and `jiayi start` would find one running. The peer
  // notices and makes a new one; the connections it has keep working.
  let rebinding = false
  let failing = false
  const watch = unix
    ? setInterval(() => {
        if (rebinding) return
        rebinding = true
        void isSocket(path)
          .then(async (present) => {
            if (present) return
            // Closed first: closing a listener unlinks its path (libuv does it at once, in the
            // close call), which would be the new one's. Connections already made stay open (and
            // keep the old server's 'close' event waiting: it is not awaited).
            server.close()
            await new Promise((resolve) => setImmediate(resolve))
            server = await bind(path, onConnection, log)
            failing = false
            log.warn('the control socket file was removed; made a new one')
          })
          .catch((error) => {
            // Once, not every check: whatever holds the path now stays until someone moves it.
            if (!failing) log.warn('could not make a new control socket', errorFields(error))
            failing = true
          })
          .finally(() => {
            rebinding = false
          })
      }, options.checkMs ?? SOCKET_CHECK_MS)
    : undefined
  watch?.unref()

  let closing: Promise<void> | undefined
  return {
    path,
    close() {
      closing ??= (async () => {
        if (watch !== undefined) clearInterval(watch)
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of clients.keys()) socket.destroy()
        await closed
        if (unix) await rm(path, { force: true })
      })()
      return closing
    },
  }
}

/** Listens on `path`, a socket the owner alone may use from its first instant. */
async function bind(path: string, onConnection: (socket: Socket) => void, log: AppLog): Promise<Server> {
  const unix = process.platform !== 'win32'
  const server: Server = createServer(onConnection)
  // A hard backstop only: room is made by closing idle connections (makeRoom), which takes a moment.
  server.maxConnections = MAX_CONNECTIONS * 2
  const previousMask = unix ? process.umask(0o177) : 0
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } finally {
    if (unix) process.umask(previousMask)
  }
  if (unix) await chmod(path, 0o600)
  server.on('error', (error) => log.warn('control socket error', errorFields(error)))
  return server
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket()
  } catch {
    return false
  }
}

/**
 * Closes the connection idle longest (nothing running or waiting; one without a subscription
 * before one with: a chat window is someone's) to make room for a new one. False when every
 * connection has work in flight.
 */
function makeRoom(clients: Map<Socket, ControlSession>, log: AppLog): boolean {
  let victim: [Socket, ControlSession] | undefined
  for (const entry of clients) {
    const [, s] = entry
    if (!s.idle) continue
    const better =
      victim === undefined ||
      (victim[1].subscribed && !s.subscribed) ||
      (victim[1].subscribed === s.subscribed && s.lastActive < victim[1].lastActive)
    if (better) victim = entry
  }
  if (victim === undefined) return false
  const [socket] = victim
  clients.delete(socket)
  log.info('control connection closed to make room', { subscribed: victim[1].subscribed })
  socket.end(
    encodeLine({
      id: null,
      error: { code: 'Closed', message: 'closed to make room for a newer client', type: 'ControlError' },
    }),
  )
  socket.destroySoon()
  return true
}

/**
 * The message as a line, or in place of an answer too long for a line the client can take (its
 * limit is ours, MAX_MESSAGE_BYTES), the typed error that says so: the client asks again for
 * less instead of losing the connection.
 */
function lineFor(message: ControlResponse | ControlNotification): string {
  const line = encodeLine(message)
  // A UTF-8 byte count only when the characters could make it too long (3 bytes at most each).
  if (line.length * 3 <= MAX_MESSAGE_BYTES || !('result' in message) || 'event' in message) return line
  const bytes = Buffer.byteLength(line) - 1
  if (bytes <= MAX_MESSAGE_BYTES) return line
  return encodeLine({
    id: (message as ControlResponse).id,
    error: {
      code: 'ReplyTooLarge',
      message: `the answer is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES} one line may carry; ask for less`,
      type: 'ControlError',
    },
  })
}

function serve(socket: Socket, dispatcher: ControlDispatcher, log: AppLog): ControlSession {
  const splitter = new LineSplitter()
  let corked = false
  const writable = (): Promise<void> =>
    socket.writableLength <= HIGH_WATER_BYTES || socket.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => {
          const done = () => {
            socket.off('drain', done)
            socket.off('close', done)
            resolve()
          }
          socket.on('drain', done)
          socket.on('close', done)
        })
  const session = new ControlSession(
    dispatcher,
    (message) => {
      if (socket.destroyed) return
      if (socket.writableLength > MAX_QUEUED_BYTES) {
        log.warn('control client dropped: it is not reading')
        socket.destroy()
        return
      }
      // The lines of one go (a group commit answers hundreds of sends at once, and every message
      // stored is an event) leave in one system call instead of one each.
      if (!corked) {
        corked = true
        socket.cork()
        process.nextTick(() => {
          corked = false
          socket.uncork()
        })
      }
      socket.write(lineFor(message))
    },
    { writable },
  )
  socket.on('data', (chunk: Buffer) => {
    let lines: string[]
    try {
      lines = splitter.push(chunk)
    } catch (error) {
      const message = ControlError.is(error) ? error.message : 'bad input'
      socket.end(encodeLine({ id: null, error: { code: 'TooLarge', message, type: 'ControlError' } }))
      return
    }
    for (const line of lines) void session.receive(line)
  })
  socket.on('error', () => socket.destroy())
  socket.on('close', () => session.close())
  return session
}
