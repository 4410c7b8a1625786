/** Chats: every conversation, newest first, with its last message, time and unread count. */
import type { ChatView } from '@jiayi/api'
import { formatNumber, formatTime, t } from '../i18n/index.js'
import { useQuery } from '../lib/client-context.js'
import { previewText } from '../lib/preview.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { Icon } from '../ui/icons.js'

export function ChatsScreen(props: { selected: string | undefined }) {
  const chats = useQuery('chats', {}, { events: ['message', 'contact', 'read'] })
  const list = (chats.data ?? []).filter((c) => c.contact.state !== 'pending-in')
  return (
    <section class="pane list" aria-labelledby="chats-title">
      <header class="pane-header">
        <h1 id="chats-title">{t('chats.title')}</h1>
        <a class="icon-button" href={href({ name: 'contacts' })} aria-label={t('chats.addContact')}>
          <Icon name="plus" />
        </a>
      </header>
      {chats.error !== undefined && chats.data === undefined && (
        <p class="hint error">{errorText(chats.error)}</p>
      )}
      {chats.data !== undefined && list.length === 0 && (
        <div class="empty">
          <p>{t('chats.empty')}</p>
          <a class="button primary" href={href({ name: 'contacts' })}>
            {t('chats.addContact')}
          </a>
        </div>
      )}
      <ul class="rows" data-testid="chat-list">
        {list.map((c) => (
          <ChatRow key={c.contact.id} chat={c} selected={props.selected === c.contact.id} />
        ))}
      </ul>
    </section>
  )
}

function ChatRow(props: { chat: ChatView; selected: boolean }) {
  const { contact, last, unread } = props.chat
  const line =
    last === null
      ? contact.state === 'pending-out'
        ? t('chats.pending')
        : t('chats.noMessages')
      : last.direction === 'out'
        ? t('chats.you', { text: previewText(last) })
        : previewText(last)
  return (
    <li>
      <a
        class={`row ${props.selected ? 'selected' : ''}`}
        href={href({ name: 'chat', id: contact.id })}
        aria-current={props.selected ? 'true' : undefined}
      >
        <Avatar name={contact.name} id={contact.id} />
        <span class="row-main">
          <span class="row-top">
            <span class="row-title">{contact.name}</span>
            {last !== null && (
              <time class="row-time" dateTime={last.sentAt}>
                {formatTime(last.sentAt)}
              </time>
            )}
          </span>
          <span class="row-bottom">
            <span class="row-text">{line}</span>
            {unread > 0 && (
              <span class="badge" data-testid="unread">
                <span aria-hidden="true">{unread > 99 ? '99+' : formatNumber(unread)}</span>
                <span class="sr-only">{t('chats.unread', { n: unread })}</span>
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  )
}
