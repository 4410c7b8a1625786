/** One message bubble: text or file, reply quote, reactions, edit mark, ticks and how it travelled. */
import type { ApiMessage } from '@jiayi/api'
import { formatTime, type MessageKey, t } from '../i18n/index.js'
import { fileData, previewText, SAFETY_NUMBER_CHANGED } from '../lib/preview.js'
import { href } from '../lib/router.js'
import { FileBubble } from './file-bubble.js'
import { canForward } from './forward-dialog.js'
import { Icon, type IconName } from './icons.js'
import { Linkified } from './linkify.js'

/**
 * An opened menu is scrolled into the list's view: under the last messages it would otherwise
 * open below the composer, out of sight.
 */
function scrollIntoView(el: HTMLElement | null): void {
  el?.scrollIntoView({ block: 'nearest' })
}

const STATUS: Record<string, { icon: IconName; key: MessageKey }> = {
  queued: { icon: 'clock', key: 'status.queued' },
  stored: { icon: 'inbox', key: 'status.stored' },
  sent: { icon: 'check', key: 'status.sent' },
  delivered: { icon: 'checks', key: 'status.delivered' },
  read: { icon: 'checks', key: 'status.read' },
  failed: { icon: 'alert', key: 'status.failed' },
}

export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const

/**
 * How the message travelled (LAN, direct, relayed, still queued): a detail, shown in the
 * message's menu rather than on every bubble; the conversation's header says how the contact is
 * reached now.
 */
function RouteDetail(props: { m: ApiMessage }) {
  const { m } = props
  const route = m.direction === 'out' && m.status === 'queued' ? 'queued' : m.route
  if (route === undefined) return null
  return (
    <div class="msg-route" role="presentation" data-route={route}>
      {t(`route.${route}.long`)}
    </div>
  )
}

export function MessageBubble(props: {
  m: ApiMessage
  quoted: ApiMessage | undefined
  contactName: string
  menuOpen: boolean
  onMenu: () => void
  onReply: () => void
  onReact: (emoji: string) => void
  onEdit: () => void
  onDelete: () => void
  onForward: () => void
  /** Why it still waits (reach-line.ts): the tick's tooltip, and a line under the newest one. */
  waiting?: { readonly text: string; readonly shown: boolean } | undefined
}) {
  const { m } = props
  if (m.extension?.kind === SAFETY_NUMBER_CHANGED) return <SystemLine m={m} contactName={props.contactName} />
  const file = m.deleted ? undefined : fileData(m)
  const status = m.direction === 'out' ? STATUS[m.status] : undefined
  return (
    <li class={`msg ${m.direction}`} data-id={m.id} data-status={m.status}>
      <div class="bubble-wrap">
        <div class={`bubble ${file ? 'has-file' : ''} ${m.deleted ? 'deleted' : ''}`}>
          {props.quoted !== undefined && (
            <div class="quote">
              <span class="quote-name">
                {props.quoted.direction === 'out' ? t('chat.you') : props.contactName}
              </span>
              <span class="quote-text">{previewText(props.quoted)}</span>
            </div>
          )}
          {m.deleted ? (
            <span class="muted">{t('chat.deleted')}</span>
          ) : file !== undefined ? (
            <FileBubble message={m} file={file} />
          ) : (
            <span class="text">
              <Linkified text={m.text} />
            </span>
          )}
          <span class="meta">
            {m.edited && !m.deleted && <span class="edited">{t('chat.edited')}</span>}
            <time dateTime={m.sentAt}>{formatTime(m.sentAt)}</time>
            {status !== undefined && (
              <span
                class={`tick tick-${m.status}`}
                role="img"
                aria-label={t(status.key)}
                title={
                  props.waiting === undefined
                    ? t(status.key)
                    : t('waiting.tooltip', { status: t(status.key), reason: props.waiting.text })
                }
              >
                <Icon name={status.icon} size={16} />
              </span>
            )}
          </span>
        </div>
        {props.waiting?.shown === true && (
          <p class="msg-waiting" role="note" data-status={m.status}>
            {props.waiting.text}
          </p>
        )}
        {(m.reactions?.mine || m.reactions?.theirs) && (
          <div class="reactions">
            {m.reactions?.theirs && (
              <span
                class="reaction"
                role="img"
                aria-label={t('chat.reactionTheirs', { emoji: m.reactions.theirs })}
              >
                {m.reactions.theirs}
              </span>
            )}
            {m.reactions?.mine && (
              <button
                type="button"
                class="reaction mine"
                aria-label={`${t('chat.reactionMine', { emoji: m.reactions.mine })} — ${t('chat.removeReaction')}`}
                onClick={() => props.onReact('')}
              >
                {m.reactions.mine}
              </button>
            )}
          </div>
        )}
        {!m.deleted && (
          <button
            type="button"
            class="icon-button msg-more"
            aria-label={t('chat.actions')}
            aria-haspopup="menu"
            aria-expanded={props.menuOpen}
            onClick={props.onMenu}
          >
            <Icon name="more" size={18} />
          </button>
        )}
        {props.menuOpen && (
          <div class="msg-menu" role="menu" aria-label={t('chat.actions')} ref={scrollIntoView}>
            <RouteDetail m={m} />
            <div class="emoji-row">
              {REACTIONS.map((e) => (
                <button
                  key={e}
                  type="button"
                  role="menuitem"
                  class={m.reactions?.mine === e ? 'chosen' : ''}
                  aria-label={e}
                  onClick={() => props.onReact(m.reactions?.mine === e ? '' : e)}
                >
                  {e}
                </button>
              ))}
            </div>
            <button type="button" role="menuitem" onClick={props.onReply}>
              <Icon name="reply" size={18} /> {t('chat.reply')}
            </button>
            {canForward(m) && (
              <button type="button" role="menuitem" onClick={props.onForward}>
                <Icon name="forward" size={18} /> {t('chat.forward')}
              </button>
            )}
            {m.direction === 'out' && file === undefined && (
              <button type="button" role="menuitem" onClick={props.onEdit}>
                <Icon name="edit" size={18} /> {t('chat.edit')}
              </button>
            )}
            {m.direction === 'out' && (
              <button type="button" role="menuitem" class="danger" onClick={props.onDelete}>
                <Icon name="trash" size={18} /> {t('chat.delete')}
              </button>
            )}
          </div>
        )}
      </div>
    </li>
  )
}

/** A line from the app itself, not from the contact: their safety number changed. */
function SystemLine(props: { m: ApiMessage; contactName: string }) {
  return (
    <li class="msg system" data-id={props.m.id} data-kind={SAFETY_NUMBER_CHANGED}>
      <p class="system-line" role="note">
        <Icon name="shield" size={16} /> {t('chat.safetyChanged', { name: props.contactName })}{' '}
        <a href={href({ name: 'contact', id: props.m.contactId })}>{t('chat.safetyCheck')}</a>
      </p>
    </li>
  )
}
