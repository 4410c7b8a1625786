/**
 * What a group bubble shows under and beside it: the members' reactions (one chip per emoji,
 * ours a button that takes it back, as in a 1:1 bubble), the menu that reacts, and on our own
 * messages "delivered to N of M" (and "read by N" in a small group) as a button that lists who.
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import type { GroupMessageView } from '../lib/groups.js'
import { Icon } from './icons.js'
import { REACTIONS } from './message.js'
import { notifyError } from './notice.js'

type Named = { readonly id: string; readonly name: string }

/** Reacts to `m` from this page; the `group-message` event brings the new view. */
export function useGroupReact(m: GroupMessageView): (emoji: string) => void {
  const client = useClient()
  return (emoji) => {
    client.call('react', { contact: m.groupId, messageId: m.id, emoji }).catch(notifyError)
  }
}

/** The members' reactions, one chip per emoji with who chose it. */
export function GroupReactionChips(props: { m: GroupMessageView; onReact: (emoji: string) => void }) {
  const by = props.m.reactions?.by ?? []
  if (by.length === 0) return null
  const mine = props.m.reactions?.mine
  const chips = new Map<string, string[]>()
  for (const r of by) chips.set(r.emoji, [...(chips.get(r.emoji) ?? []), r.name])
  return (
    <div class="reactions">
      {[...chips].map(([emoji, names]) => {
        const label = t('groups.reactionBy', { emoji, names: names.join(t('groups.listSep')) })
        const shown = names.length > 1 ? `${emoji} ${names.length}` : emoji
        return emoji === mine ? (
          <button
            key={emoji}
            type="button"
            class="reaction mine"
            aria-label={`${label} — ${t('chat.removeReaction')}`}
            onClick={() => props.onReact('')}
          >
            {shown}
          </button>
        ) : (
          <span key={emoji} class="reaction" role="img" aria-label={label}>
            {shown}
          </span>
        )
      })}
    </div>
  )
}

/** The message's menu: the emoji row of a 1:1 bubble, and "Reply" where the user may post. */
export function GroupMessageMenu(props: {
  m: GroupMessageView
  onReact: (emoji: string) => void
  onReply?: (() => void) | undefined
}) {
  const [open, setOpen] = useState(false)
  const mine = props.m.reactions?.mine
  return (
    <>
      <button
        type="button"
        class="icon-button msg-more"
        aria-label={t('chat.actions')}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <Icon name="more" size={18} />
      </button>
      {open && (
        <div
          class="msg-menu"
          role="menu"
          aria-label={t('chat.actions')}
          ref={(el) => el?.scrollIntoView({ block: 'nearest' })}
        >
          <div class="emoji-row">
            {REACTIONS.map((e) => (
              <button
                key={e}
                type="button"
                role="menuitem"
                class={mine === e ? 'chosen' : ''}
                aria-label={e}
                onClick={() => {
                  setOpen(false)
                  props.onReact(mine === e ? '' : e)
                }}
              >
                {e}
              </button>
            ))}
          </div>
          {props.onReply !== undefined && (
            <button
              type="button"
              role="menuitem"
              onClick={() => {
                setOpen(false)
                props.onReply?.()
              }}
            >
              <Icon name="reply" size={18} /> {t('chat.reply')}
            </button>
          )}
        </div>
      )}
    </>
  )
}

/** "delivered to N of M" (", read by N" in a small group) on our message: opens DeliveryList. */
export function DeliveryButton(props: { m: GroupMessageView; open: boolean; onToggle: () => void }) {
  const { m } = props
  if (m.delivery === undefined) return null
  const delivered = t('groups.delivered', { n: m.delivery.deliveredTo.length, of: m.delivery.of })
  // "read by 0" says nothing a reader wants: the count shows once someone read it.
  const read =
    m.readBy === undefined || m.readBy.length === 0 ? '' : t('groups.readBy', { n: m.readBy.length })
  const shown = read === '' ? delivered : `${delivered}${t('groups.listSep')}${read}`
  return (
    <button
      type="button"
      class="delivery"
      aria-expanded={props.open}
      aria-controls={listId(m)}
      aria-label={t('groups.deliveryShow', { delivered: shown })}
      onClick={props.onToggle}
    >
      {shown}
    </button>
  )
}

/** Who has our message, and who read it (in a small group), under its bubble. */
export function DeliveryList(props: { m: GroupMessageView }) {
  const { m } = props
  return (
    <section class="delivery-list" id={listId(m)} aria-label={t('groups.deliveryTitle')}>
      <NameList title={t('groups.deliveredToList')} names={m.deliveredTo ?? []} />
      {m.readBy !== undefined && <NameList title={t('groups.readByList')} names={m.readBy} />}
    </section>
  )
}

const listId = (m: GroupMessageView) => `delivery-${m.id}`

function NameList(props: { title: string; names: readonly Named[] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      {props.names.length === 0 ? (
        <p class="muted">{t('groups.nobodyYet')}</p>
      ) : (
        <ul>
          {props.names.map((n) => (
            <li key={n.id}>{n.name}</li>
          ))}
        </ul>
      )}
    </div>
  )
}
