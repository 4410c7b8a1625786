/**
 * The Messenger's methods (contacts, conversations, safety numbers), each with its parameters
 * checked before the call. Contact refs are ids, id prefixes, peer ids or names (the Messenger
 * resolves them); message ids are checked by the Messenger too.
 */
import type { ApiMessage, ChatView } from './methods.js'
import { bool, int, str } from './params.js'
import { always, limitAbove, type MethodTable, none, params } from './table.js'

const ref = str({ min: 1, max: 1024 })
const id = str({ min: 1, max: 128 })
const CONTACT = { contact: ref }
const MAX_LIMIT = 10_000
/** The Messenger's own default page. */
const DEFAULT_LIMIT = 50
/** A conversation screen asks for a page of about this many; more is a history read (work.ts). */
const HEAVY_MESSAGES = 200
/** How far back `chats` looks for a last message that is not a Moments picture. */
const LAST_LOOKBACK = 20

export type MessengerMethodName =
  | 'whoami'
  | 'card'
  | 'stats'
  | 'contactList'
  | 'contact'
  | 'addContact'
  | 'accept'
  | 'reject'
  | 'verify'
  | 'safetyNumberCode'
  | 'connection'
  | 'chats'
  | 'send'
  | 'messages'
  | 'message'
  | 'markRead'
  | 'unreadCount'
  | 'react'
  | 'edit'
  | 'deleteMessage'
  | 'setTyping'
  | 'outboxSize'
  | 'settled'

export const MESSENGER_METHODS: MethodTable<MessengerMethodName> = {
  whoami: { check: none, run: (c) => c.messenger.whoami() },
  card: { check: none, run: (c) => c.messenger.card() },
  stats: {
    check: none,
    // The messenger's refusals (msg, prekeys), plus the files and feed layers' own counters.
    run: (c) => ({
      ...c.messenger.stats(),
      ...(c.files?.files.stats ? { files: c.files.files.stats() } : {}),
      ...(c.feed?.stats ? { feed: c.feed.stats() } : {}),
    }),
  },
  contactList: { check: none, run: (c) => c.messenger.contactList() },
  contact: { check: params(CONTACT), run: (c, p) => c.messenger.contact(p.contact) },
  addContact: {
    check: params({ link: str({ min: 1, max: 16 * 1024 }) }),
    run: (c, p) => c.messenger.addContact(p.link),
  },
  accept: { check: params(CONTACT), run: (c, p) => c.messenger.accept(p.contact) },
  reject: {
    check: params(CONTACT),
    run: async (c, p) => {
      await c.messenger.reject(p.contact)
      return null
    },
  },
  verify: {
    check: params({ ...CONTACT, mark: { optional: true, check: bool } }),
    run: (c, p) => c.messenger.verify(p.contact, p.mark === true),
  },
  safetyNumberCode: { check: params(CONTACT), run: (c, p) => c.messenger.safetyNumberCode(p.contact) },
  connection: {
    check: params(CONTACT),
    run: (c, p) => {
      const contact = c.messenger.contact(p.contact)
      return c.connection?.(contact.peerId) ?? null
    },
  },
  chats: {
    // Every conversation's last messages and unread count.
    heavy: always,
    check: none,
    run: async (c) => {
      const chats: ChatView[] = await Promise.all(
        c.messenger.contactList().map(async (contact) => {
          const last =
            contact.state === 'pending-in'
              ? undefined
              : (await c.messenger.messages(contact.id, { limit: LAST_LOOKBACK, peek: true }))
                  .filter((m) => !c.moments.isMomentFile(m))
                  .at(-1)
          const unread = await c.messenger.unreadCount(contact.id)
          return { contact, last: last ?? null, unread }
        }),
      )
      const time = (x: ChatView) => (x.last === null ? '' : x.last.sentAt)
      return chats.sort(
        (a, b) => time(b).localeCompare(time(a)) || a.contact.name.localeCompare(b.contact.name),
      )
    },
  },
  send: {
    check: params({ ...CONTACT, text: str({ min: 1 }), replyTo: { optional: true, check: id } }),
    run: (c, p) => c.messenger.send(p.contact, p.text, p.replyTo === undefined ? {} : { replyTo: p.replyTo }),
  },
  messages: {
    heavy: limitAbove(HEAVY_MESSAGES, 50),
    check: params({
      ...CONTACT,
      limit: { optional: true, check: int(1, MAX_LIMIT) },
      peek: { optional: true, check: bool },
      before: { optional: true, check: id },
      after: { optional: true, check: id },
    }),
    run: async (c, p) => {
      // Moments pictures travel as messages but are not shown in the conversation: pages are
      // filled past them, so that a page shorter than `limit` still means an end was reached.
      const limit = p.limit ?? DEFAULT_LIMIT
      const forward = p.after !== undefined
      const out: ApiMessage[] = []
      let before = p.before
      let after = p.after
      // The first page marks the conversation read (unless peek); the rest only read.
      let peek = p.peek
      for (;;) {
        const want = limit - out.length
        const page = await c.messenger.messages(p.contact, {
          limit: want,
          ...(peek === undefined ? {} : { peek }),
          ...(before === undefined ? {} : { before }),
          ...(after === undefined ? {} : { after }),
        })
        const shown = page.filter((m) => !c.moments.isMomentFile(m))
        if (forward) out.push(...shown)
        else out.unshift(...shown)
        if (page.length < want || out.length >= limit) return out
        if (forward) after = page.at(-1)!.id
        else before = page[0]!.id
        peek = true
      }
    },
  },
  message: {
    check: params({ ...CONTACT, messageId: id }),
    run: async (c, p) => {
      const m = await c.messenger.message(p.contact, p.messageId)
      return m ?? null
    },
  },
  markRead: {
    check: params(CONTACT),
    run: async (c, p) => {
      await c.messenger.markRead(p.contact)
      return null
    },
  },
  unreadCount: { check: params(CONTACT), run: (c, p) => c.messenger.unreadCount(p.contact) },
  react: {
    // An empty emoji takes our reaction back.
    check: params({ ...CONTACT, messageId: id, emoji: str({ max: 64 }) }),
    run: (c, p) => c.messenger.react(p.contact, p.messageId, p.emoji),
  },
  edit: {
    check: params({ ...CONTACT, messageId: id, text: str({ min: 1 }) }),
    run: (c, p) => c.messenger.edit(p.contact, p.messageId, p.text),
  },
  deleteMessage: {
    check: params({ ...CONTACT, messageId: id }),
    run: (c, p) => c.messenger.deleteMessage(p.contact, p.messageId),
  },
  setTyping: {
    check: params({ ...CONTACT, active: bool }),
    run: async (c, p) => {
      await c.messenger.setTyping(p.contact, p.active)
      return null
    },
  },
  outboxSize: { check: params(CONTACT), run: (c, p) => c.messenger.outboxSize(p.contact) },
  settled: {
    check: none,
    run: async (c) => {
      await c.messenger.settled()
      return null
    },
  },
}
