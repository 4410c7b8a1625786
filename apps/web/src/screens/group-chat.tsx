/**
 * A group conversation (群聊): the newest messages, each with its sender's name, read as they
 * are shown (reading clears the group's unread count), kept live by the `group-message` event;
 * older ones a page at a time; replies (a bubble's "Reply" puts the reply bar over the composer,
 * and a reply shows its quote, as in a 1:1 chat); the composer, or for a plain member of an
 * admins-only group a line saying only admins post; and the way to the members and settings.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useQuery } from '../lib/client-context.js'
import { type GroupMessageView, groupsTouched, myRole, useGroupsTouched } from '../lib/groups.js'
import { useMyId } from '../lib/me.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { GroupComposer } from '../ui/group-composer.js'
import { GroupBubble } from '../ui/group-message.js'
import { Icon } from '../ui/icons.js'

/** Messages a page adds (the API gives the newest `limit`, at most 10,000). */
const PAGE = 100
const MAX_LIMIT = 10_000

export function GroupChat(props: { group: string }) {
  const group = useQuery('group', { group: props.group }, { events: ['group', 'contact'] })
  useGroupsTouched(group.reload)
  const me = useMyId()
  const [limit, setLimit] = useState(PAGE)
  const [replyTo, setReplyTo] = useState<GroupMessageView | undefined>(undefined)
  // Without `peek`: loading them is reading them.
  const messages = useQuery(
    'groupMessages',
    { group: props.group, limit },
    // A file's state (arrived, waits for the user, failed) changes its message: `transfer`.
    { events: ['group-message', 'contact', 'transfer'] },
  )
  const listRef = useRef<HTMLOListElement>(null)
  /** The reader is at the newest message: new ones scroll into sight. */
  const atBottom = useRef(true)
  /** While an older page comes in: how far the reader was from the bottom, kept. */
  const fromBottom = useRef<number | undefined>(undefined)

  // Reading cleared the unread count, which no event announces: the chats list hears it here.
  useEffect(() => {
    if (messages.data !== undefined) groupsTouched()
  }, [messages.data])

  useLayoutEffect(() => {
    const el = listRef.current
    // A new `limit` empties the list until its page comes: the place is kept for that page.
    if (!el || messages.data === undefined) return
    if (fromBottom.current !== undefined) {
      el.scrollTop = el.scrollHeight - fromBottom.current
      fromBottom.current = undefined
    } else if (atBottom.current) el.scrollTop = el.scrollHeight
  }, [messages.data])

  const g = group.data
  if (g === undefined)
    return group.error !== undefined ? (
      <section class="pane detail">
        <p class="hint error">{errorText(group.error)}</p>
      </section>
    ) : (
      <section class="pane detail" aria-busy="true" />
    )

  const list = messages.data ?? []
  const byId = new Map(list.map((m) => [m.id, m]))
  const atStart = messages.data !== undefined && list.length < limit
  const olderPage = () => {
    const el = listRef.current
    if (el) fromBottom.current = el.scrollHeight - el.scrollTop
    setLimit((n) => Math.min(n + PAGE, MAX_LIMIT))
  }
  // Core refuses a plain member's message in an admins-only group; the composer says so first.
  const muted = g.adminsOnly && myRole(g, me) === 'member'

  return (
    <section class="pane detail conversation" aria-labelledby="conv-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'chats' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <Avatar name={g.name} id={g.id} />
        <div class="conv-title">
          <h1 id="conv-title">{g.name}</h1>
          <span class="presence">{t('groups.memberCount', { n: g.members.length })}</span>
        </div>
        <a class="icon-button" href={href({ name: 'group-info', id: g.id })} aria-label={t('groups.info')}>
          <Icon name="more" />
        </a>
      </header>
      {group.error !== undefined && <p class="hint error">{errorText(group.error)}</p>}
      {messages.error !== undefined && messages.data === undefined && (
        <p class="hint error">{t('chat.loadFailed')}</p>
      )}
      <ol
        class="messages"
        ref={listRef}
        aria-label={g.name}
        data-testid="group-messages"
        onScroll={() => {
          const el = listRef.current
          if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
        }}
      >
        {messages.data !== undefined && list.length === 0 && <li class="empty">{t('groups.empty')}</li>}
        {list.length > 0 && !atStart && limit < MAX_LIMIT && (
          <li class="history-edge">
            <button type="button" class="button" onClick={olderPage}>
              {t('chat.loadOlder')}
            </button>
          </li>
        )}
        {list.map((m) => (
          <GroupBubble
            key={m.id}
            m={m}
            quoted={m.replyTo === undefined ? undefined : byId.get(m.replyTo)}
            onReply={muted ? undefined : () => setReplyTo(m)}
          />
        ))}
      </ol>
      {muted ? (
        <p class="composer-muted hint" role="note" data-testid="group-muted">
          {t('groups.adminsOnly')}
        </p>
      ) : (
        <GroupComposer
          key={g.id}
          group={g.id}
          disabled={group.error !== undefined}
          replyTo={replyTo}
          onCancel={() => setReplyTo(undefined)}
          onSent={() => {
            setReplyTo(undefined)
            // What was just sent shows at the end, wherever the reader was.
            atBottom.current = true
            messages.reload()
          }}
        />
      )}
    </section>
  )
}
