/**
 * The Messenger's methods (contacts, conversations, safety numbers), each with its parameters
 * checked before the call. Contact refs are ids, id prefixes, peer ids or names (the Messenger
 * resolves them); message ids are checked by the Messenger too.
 */
import { fromBase64, MAX_PICTURE_BYTES, type ProfilePicture, toBase64 } from '@jiayi/core'
import type { ApiMessage, ChatView, PictureView } from './methods.js'
import { bool, int, oneOf, opt, str } from './params.js'
import { ControlError } from './protocol.js'
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

const PICTURE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const
/** base64 of at most MAX_PICTURE_BYTES. */
const PICTURE_BASE64 = Math.ceil(MAX_PICTURE_BYTES / 3) * 4

function picturePayload(text: string): Uint8Array {
  try {
    return fromBase64(text)
  } catch {
    throw new ControlError('BadParams', '"data" must be base64')
  }
}

function pictureView(p: ProfilePicture | undefined): PictureView | null {
  return p === undefined ? null : { mime: p.mime, data: toBase64(p.data), hash: p.hash }
}

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
  | 'setRemark'
  | 'search'
  | 'profilePicture'
  | 'setProfilePicture'
  | 'contactPicture'
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
  | 'devices'
  | 'linkDevice'
  | 'linkStatus'
  | 'confirmLink'
  | 'removeDevice'
  | 'homeNode'
  | 'addHomeNode'

export const MESSENGER_METHODS: MethodTable<MessengerMethodName> = {
  whoami: { check: none, run: (c) => c.messenger.whoami() },
  card: { check: none, run: (c) => c.messenger.card() },
  stats: {
    check: none,
    // The messenger's refusals (msg, prekeys), plus the files and feed layers' own counters.
    run: (c) => ({
      ...c.messenger.stats(),
      reach: c.messenger.reach(),
      ...(c.files?.files.stats ? { files: c.files.files.stats() } : {}),
      ...(c.feed?.stats ? { feed: c.feed.stats() } : {}),
    }),
  },
  contactList: { check: none, run: (c) => c.messenger.contactList() },
  homeNode: { check: none, run: (c) => c.messenger.homeNode() },
  addHomeNode: {
    check: params({ link: str({ min: 1, max: 4096 }) }),
    run: (c, p) => c.messenger.addHomeNode(p.link),
  },
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
  search: {
    // Reads postings, and a message per hit.
    heavy: always,
    check: params({
      query: str({ min: 1, max: 256 }),
      contact: { optional: true, check: ref },
      limit: { optional: true, check: int(1, 500) },
    }),
    run: (c, p) =>
      c.messenger.search(p.query, {
        ...(p.contact === undefined ? {} : { contact: p.contact }),
        ...(p.limit === undefined ? {} : { limit: p.limit }),
      }),
  },
  profilePicture: { check: none, run: async (c) => pictureView(await c.messenger.profilePicture()) },
  setProfilePicture: {
    check: params({
      mime: { optional: true, check: oneOf(PICTURE_TYPES) },
      data: { optional: true, check: str({ min: 1, max: PICTURE_BASE64 }) },
    }),
    run: async (c, p) => {
      if ((p.mime === undefined) !== (p.data === undefined))
        throw new ControlError(
          'BadParams',
          'give "mime" and "data" together, or neither to remove the picture',
        )
      const data = p.data === undefined ? undefined : picturePayload(p.data)
      const set = await c.messenger.setProfilePicture(
        p.mime === undefined || data === undefined ? undefined : { mime: p.mime, data },
      )
      return set === undefined ? null : { mime: set.mime, hash: set.hash }
    },
  },
  contactPicture: {
    check: params(CONTACT),
    run: async (c, p) => pictureView(await c.messenger.contactPicture(p.contact)),
  },
  setRemark: {
    check: params({ ...CONTACT, remark: str({ min: 0, max: 1024 }) }),
    run: (c, p) => c.messenger.setRemark(p.contact, p.remark),
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
    run: (c, p) => {
      const to = c.messenger.conversationOf(p.contact)
      if (to.kind === 'group')
        return c.messenger.groups.send(to.id, p.text, p.replyTo === undefined ? {} : { replyTo: p.replyTo })
      return c.messenger.send(to.id, p.text, p.replyTo === undefined ? {} : { replyTo: p.replyTo })
    },
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
      const to = c.messenger.conversationOf(p.contact)
      // A group is read as opening it reads it (which sends its read receipts in a small group).
      if (to.kind === 'group') await c.messenger.groups.messages(to.id, { limit: 1 })
      else await c.messenger.markRead(to.id)
      return null
    },
  },
  unreadCount: { check: params(CONTACT), run: (c, p) => c.messenger.unreadCount(p.contact) },
  react: {
    // An empty emoji takes our reaction back.
    check: params({ ...CONTACT, messageId: id, emoji: str({ max: 64 }) }),
    run: (c, p) => {
      // A group's message too: `contact` names a conversation, as in `send`.
      const to = c.messenger.conversationOf(p.contact)
      if (to.kind === 'group') return c.messenger.groups.react(to.id, p.messageId, p.emoji)
      return c.messenger.react(to.id, p.messageId, p.emoji)
    },
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
  devices: { check: none, run: (c) => c.messenger.devices() },
  linkDevice: {
    check: params({ ttlMs: opt(int(1, 5 * 60_000)) }),
    run: (c, p) => c.messenger.linkDevice(p.ttlMs),
  },
  // A long poll: answers once linking moved past `after`, or after `timeoutMs` (at most a minute).
  linkStatus: {
    check: params({ after: int(0, Number.MAX_SAFE_INTEGER), timeoutMs: opt(int(0, 60_000)) }),
    run: (c, p) => c.messenger.linkStatus(p.after, p.timeoutMs),
  },
  confirmLink: {
    check: params({ code: str({ min: 1, max: 16 }) }),
    run: (c, p) => c.messenger.confirmLink(p.code),
  },
  removeDevice: {
    check: params({ id: str({ min: 1, max: 128 }) }),
    run: (c, p) => c.messenger.removeDevice(p.id),
  },
}
