/**
 * `jiayi chat CONTACT`: the last 20 messages, then live: incoming messages (marked read as they
 * are shown), the status of what you sent (✓ sent, ✓✓ delivered, read), typing. Each line typed
 * is sent; /quit (or end of input) leaves. With --json every shown item is one JSON line.
 */
import { clearLine, createInterface, cursorTo, moveCursor } from 'node:readline'
import type { ControlNotification } from '@jiayi/api'
import type { ContactView, MessageView } from '@jiayi/core'
import type { Context } from '../cli/context.js'
import { CliError, classify, EXIT_OK, EXIT_USER } from '../cli/errors.js'
import { shownLine, shownText } from '../cli/terminal-text.js'
import { ControlClient } from '../control/client.js'
import { formatMessage, nameOf } from './format.js'

const STATUS_LINE: Record<string, string> = {
  sent: '✓ sent',
  delivered: '✓✓ delivered',
  read: '✓✓ read',
  failed: '✗ not delivered',
}

const HISTORY = 20
const TYPING_RESEND_MS = 3_000
const TYPING_SHOW_MS = 5_000

function excerpt(text: string, max = 24): string {
  const chars = [...shownLine(text).replace(/\s+/g, ' ')]
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`
}

export async function chat(ctx: Context): Promise<number> {
  const ref = ctx.args[0]
  if (!ref) throw new CliError('Usage', 'missing the contact: jiayi chat CONTACT')
  const client = await ControlClient.connect(ctx.paths.socket, ctx.paths.home)
  let contact: ContactView
  let history: MessageView[]
  try {
    contact = await client.call('contact', { contact: ref })
    // Subscribe first so nothing falls between the history and the live events.
    await client.request('subscribe', { events: ['message', 'contact', 'typing'] })
    history = await client.call('messages', { contact: contact.id, limit: HISTORY })
  } catch (error) {
    client.close()
    throw error
  }
  const cid = contact.id
  const tty = !ctx.json && process.stdin.isTTY === true && process.stdout.isTTY === true
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty })
  rl.setPrompt('> ')

  const show = (text: string) => {
    if (ctx.json) return
    if (tty) {
      clearLine(process.stdout, 0)
      cursorTo(process.stdout, 0)
      process.stdout.write(`${text}\n`)
      rl.prompt(true)
    } else {
      process.stdout.write(`${text}\n`)
    }
  }
  const emit = (value: unknown) => {
    if (ctx.json) ctx.out.json(value)
  }

  const seen = new Set<string>()
  const texts = new Map<string, string>()
  const statuses = new Map<string, string>()
  const remember = (m: MessageView) => {
    seen.add(m.id)
    statuses.set(m.id, m.status)
    if (m.direction === 'out') texts.set(m.id, m.text)
  }

  if (!ctx.json) {
    show(
      `Chat with ${shownLine(nameOf(contact))} (${contact.online ? 'online' : 'offline'}). Type a message and press Enter; /quit to leave.`,
    )
    if (contact.state === 'pending-out')
      show(`(${shownLine(nameOf(contact))} has not accepted your request yet; messages wait for them.)`)
  }
  for (const m of history) {
    remember(m)
    show(formatMessage(m, nameOf(contact)))
    emit({ event: 'message', change: 'history', contactId: cid, message: m })
  }

  // Incoming messages shown live are read: tell the peer (debounced, one call per burst).
  let readTimer: ReturnType<typeof setTimeout> | undefined
  const markRead = () => {
    readTimer ??= setTimeout(() => {
      readTimer = undefined
      client.call('markRead', { contact: cid }).catch(() => undefined)
    }, 100)
  }
  let typingShownAt = 0

  const onEvent = (n: ControlNotification) => {
    if (n.event === 'message' && n.contactId === cid) {
      const m = n.message as MessageView
      const change = n.change as string
      if (!seen.has(m.id)) {
        remember(m)
        if (m.direction === 'in') {
          typingShownAt = 0
          show(formatMessage(m, nameOf(contact)))
          markRead()
        } else {
          show(formatMessage(m, nameOf(contact)))
        }
        emit({ event: 'message', change: 'new', contactId: cid, message: m })
        return
      }
      const before = statuses.get(m.id)
      statuses.set(m.id, m.status)
      if (m.direction === 'out' && before !== m.status) {
        show(`  ${STATUS_LINE[m.status] ?? m.status} “${excerpt(texts.get(m.id) ?? m.text)}”`)
        emit({ event: 'status', contactId: cid, id: m.id, status: m.status })
      } else if (change === 'update') {
        emit({ event: 'message', change: 'update', contactId: cid, message: m })
      }
      return
    }
    if (n.event === 'typing' && n.contactId === cid) {
      emit({ event: 'typing', contactId: cid, active: n.active })
      if (n.active === true && Date.now() - typingShownAt > TYPING_SHOW_MS) {
        typingShownAt = Date.now()
        show(`${shownLine(nameOf(contact))} is typing…`)
      }
      return
    }
    if (n.event === 'contact' && n.id === cid) {
      const next = n.contact as ContactView | undefined
      emit({ event: 'contact', id: cid, change: n.change, state: next?.state ?? null })
      if (next === undefined) show(`${shownLine(nameOf(contact))} was removed from your contacts.`)
      else if (next.state !== contact.state)
        show(`${shownLine(nameOf(next))}: ${next.state === 'accepted' ? 'accepted' : next.state}`)
      else if (next.online !== contact.online)
        show(`${shownLine(nameOf(next))} is ${next.online ? 'online' : 'offline'}`)
      if (next !== undefined) contact = next
    }
  }
  client.onNotification(onEvent)
  if (history.some((m) => m.direction === 'in')) markRead()

  // Typing indicator out: at most one every few seconds while keys are pressed.
  let typingSentAt = 0
  if (tty) {
    process.stdin.on('keypress', (_s: string, key: { name?: string } | undefined) => {
      if (key?.name === 'return' || key?.name === 'enter') return
      // A command (/quit, /help) is not a message being typed.
      if (rl.line.trimStart().startsWith('/')) return
      if (Date.now() - typingSentAt < TYPING_RESEND_MS) return
      typingSentAt = Date.now()
      client.call('setTyping', { contact: cid, active: true }).catch(() => undefined)
    })
  }

  return new Promise<number>((resolve) => {
    let done = false
    const finish = (code: number) => {
      if (done) return
      done = true
      if (readTimer !== undefined) clearTimeout(readTimer)
      rl.close()
      // readline leaves stdin open (and the process alive) after close.
      process.stdin.pause()
      process.stdin.destroy()
      // Let a pending markRead go out before leaving.
      const flush =
        readTimer === undefined
          ? Promise.resolve()
          : client.call('markRead', { contact: cid }).catch(() => undefined)
      void flush.finally(() => {
        client.close()
        resolve(code)
      })
    }
    let queue = Promise.resolve()
    rl.on('line', (line) => {
      const text = line.trim()
      if (tty) {
        // Replace the echoed input line with the formatted message (shown when it is stored).
        moveCursor(process.stdout, 0, -1)
        clearLine(process.stdout, 0)
      }
      if (text === '') return rl.prompt()
      if (text === '/quit' || text === '/exit' || text === '/q') return finish(EXIT_OK)
      if (text === '/help') {
        show('Type a message and press Enter. /quit leaves.')
        return
      }
      typingSentAt = 0
      // One send at a time, in the order typed.
      queue = queue.then(async () => {
        try {
          const m = await client.call('send', { contact: cid, text: line })
          if (!seen.has(m.id)) {
            remember(m)
            show(formatMessage(m, nameOf(contact)))
            emit({ event: 'message', change: 'new', contactId: cid, message: m })
          }
        } catch (error) {
          const c = classify(error)
          process.stderr.write(`jiayi: ${shownText(c.message)}\n`)
        }
      })
    })
    rl.on('close', () => {
      void queue.then(() => finish(EXIT_OK))
    })
    client.onClose(() => {
      process.stderr.write(`\njiayi: the peer stopped\n`)
      finish(EXIT_USER)
    })
    if (tty) rl.prompt()
  })
}
