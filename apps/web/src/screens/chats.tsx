/**
 * Chats: every conversation, 1:1 and group (群聊), newest first, with its last message (a
 * group's with its sender), time and unread count; a way to start a group; and a search box over
 * all of them.
 */
import type { ChatView } from '@jiayi/api'
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { formatNumber, formatTime, t } from '../i18n/index.js'
import { useQuery } from '../lib/client-context.js'
import { type GroupChat, useGroupChats } from '../lib/group-chats.js'
import { shownName } from '../lib/names.js'
import { groupPreviewText, previewText } from '../lib/preview.js'
import { href, type Route } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { Icon } from '../ui/icons.js'
import { SearchResults } from '../ui/search-results.js'

type Line =
  | { readonly kind: 'contact'; readonly chat: ChatView; readonly time: string; readonly name: string }
  | { readonly kind: 'group'; readonly chat: GroupChat; readonly time: string; readonly name: string }

/** 1:1 chats and groups in one list: newest message first, those without one by name at the end. */
function merged(chats: readonly ChatView[], groups: readonly GroupChat[]): Line[] {
  const lines: Line[] = [
    ...chats.map((chat) => ({
      kind: 'contact' as const,
      chat,
      time: chat.last?.sentAt ?? '',
      name: chat.contact.name,
    })),
    ...groups.map((chat) => ({
      kind: 'group' as const,
      chat,
      time: chat.last?.sentAt ?? '',
      name: chat.group.name,
    })),
  ]
  return lines.sort((a, b) => b.time.localeCompare(a.time) || a.name.localeCompare(b.name))
}

export function ChatsScreen(props: { selected: string | undefined }) {
  const chats = useQuery('chats', {}, { events: ['message', 'contact', 'read'] })
  const groups = useGroupChats()
  const list = merged(
    (chats.data ?? []).filter((c) => c.contact.state !== 'pending-in'),
    groups.data ?? [],
  )
  const loaded = chats.data !== undefined && (groups.data !== undefined || groups.error !== undefined)
  const [query, setQuery] = useState('')
  const searching = query.trim() !== ''
  return (
    <section class="pane list" aria-labelledby="chats-title">
      <header class="pane-header">
        <h1 id="chats-title">{t('chats.title')}</h1>
        <a class="icon-button" href={href({ name: 'new-group' })} aria-label={t('groups.new')}>
          <Icon name="group" />
        </a>
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
      {!searching && loaded && list.length === 0 && (
        <div class="empty">
          <p>{t('chats.empty')}</p>
          <a class="button primary" href={href({ name: 'contacts' })}>
            {t('chats.addContact')}
          </a>
        </div>
      )}
      <ul class="rows" data-testid="chat-list" hidden={searching}>
        {list.map((line) =>
          line.kind === 'contact' ? (
            <ChatRow
              key={line.chat.contact.id}
              chat={line.chat}
              selected={props.selected === line.chat.contact.id}
            />
          ) : (
            <GroupRow
              key={line.chat.group.id}
              chat={line.chat}
              selected={props.selected === line.chat.group.id}
            />
          ),
        )}
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
    <Row
      to={{ name: 'chat', id: contact.id }}
      selected={props.selected}
      avatar={<Avatar name={shownName(contact)} id={contact.id} picture={contact.picture} />}
      title={shownName(contact)}
      time={last?.sentAt}
      line={line}
      unread={unread}
    />
  )
}

function GroupRow(props: { chat: GroupChat; selected: boolean }) {
  const { group, last } = props.chat
  return (
    <Row
      to={{ name: 'group', id: group.id }}
      selected={props.selected}
      avatar={<Avatar name={group.name} id={group.id} />}
      title={group.name}
      badge={t('groups.memberCount', { n: group.members.length })}
      time={last?.sentAt}
      line={`${group.mentions > 0 ? `${t('groups.mentionCount', { n: group.mentions })} ` : ''}${
        last === null ? t('chats.noMessages') : groupPreviewText(last)
      }`}
      unread={group.unread}
    />
  )
}

/** One line of the list: who (or which group), when, the last message and the unread count. */
function Row(props: {
  to: Route
  selected: boolean
  avatar: JSX.Element
  title: string
  badge?: string
  time: string | undefined
  line: string
  unread: number
}) {
  const { unread } = props
  return (
    <li>
      <a
        class={`row ${props.selected ? 'selected' : ''}`}
        href={href(props.to)}
        aria-current={props.selected ? 'true' : undefined}
      >
        {props.avatar}
        <span class="row-main">
          <span class="row-top">
            <span class="row-title">{props.title}</span>
            {props.badge !== undefined && <span class="row-count">{props.badge}</span>}
            {props.time !== undefined && (
              <time class="row-time" dateTime={props.time}>
                {formatTime(props.time)}
              </time>
            )}
          </span>
          <span class="row-bottom">
            <span class="row-text">{props.line}</span>
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
