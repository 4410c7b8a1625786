/**
 * Chats: every conversation, newest first, with its last message, time and unread count; and a
 * search box over all of them.
 */
import type { ChatView } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { formatNumber, formatTime, t } from '../i18n/index.js'
import { useQuery } from '../lib/client-context.js'
import { shownName } from '../lib/names.js'
import { previewText } from '../lib/preview.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { Icon } from '../ui/icons.js'
import { SearchResults } from '../ui/search-results.js'

export function ChatsScreen(props: { selected: string | undefined }) {
  const chats = useQuery('chats', {}, { events: ['message', 'contact', 'read'] })
  const list = (chats.data ?? []).filter((c) => c.contact.state !== 'pending-in')
  const [query, setQuery] = useState('')
  const searching = query.trim() !== ''
  return (
    <section class="pane list" aria-labelledby="chats-title">
      <header class="pane-header">
        <h1 id="chats-title">{t('chats.title')}</h1>
        <a class="icon-button" href={href({ name: 'contacts' })} aria-label={t('chats.addContact')}>
          <Icon name="plus" />
        </a>
      </header>
      <div class="search-box">
        <input
          type="search"
          aria-label={t('chats.search')}
          placeholder={t('chats.search')}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          onKeyDown={(e) => e.key === 'Escape' && setQuery('')}
        />
      </div>
      {searching && <SearchResults query={query.trim()} />}
      {!searching && chats.error !== undefined && chats.data === undefined && (
        <p class="hint error">{errorText(chats.error)}</p>
      )}
      {!searching && chats.data !== undefined && list.length === 0 && (
        <div class="empty">
          <p>{t('chats.empty')}</p>
          <a class="button primary" href={href({ name: 'contacts' })}>
            {t('chats.addContact')}
          </a>
        </div>
      )}
      <ul class="rows" data-testid="chat-list" hidden={searching}>
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
        <Avatar name={shownName(contact)} id={contact.id} picture={contact.picture} />
        <span class="row-main">
          <span class="row-top">
            <span class="row-title">{shownName(contact)}</span>
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
