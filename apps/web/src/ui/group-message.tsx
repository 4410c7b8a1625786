/**
 * One group message: the sender's avatar and name above their bubble (WeChat's group layout);
 * our own on the right with no name shown, and "You" said to screen readers; the members'
 * reactions under it, and who has (and read) ours (group-extras.tsx); a reply carries the 1:1
 * bubble's quote of the message it answers (its sender's name and a line of it).
 */
import { useState } from 'preact/hooks'
import { formatTime, t } from '../i18n/index.js'
import { groupChangeText } from '../lib/group-change.js'
import type { GroupMessageView } from '../lib/groups.js'
import { fileData, groupMessageText } from '../lib/preview.js'
import { Avatar } from './avatar.js'
import { FileBubble } from './file-bubble.js'
import {
  DeliveryButton,
  DeliveryList,
  GroupMessageMenu,
  GroupReactionChips,
  useGroupReact,
} from './group-extras.js'
import { Linkified } from './linkify.js'

export function GroupBubble(props: {
  m: GroupMessageView
  /** The message this one replies to, when it is among those loaded. */
  quoted?: GroupMessageView | undefined
  /** Absent where the user may not post (an admins-only group). */
  onReply?: (() => void) | undefined
}) {
  const { m } = props
  const mine = m.direction === 'out'
  const change = groupChangeText(m)
  const react = useGroupReact(m)
  const [listOpen, setListOpen] = useState(false)
  if (change !== undefined) {
    return (
      <li class="msg system" data-id={m.id}>
        <p class="system-line" role="note">
          {change}
        </p>
      </li>
    )
  }
  const mentioned = (m as { mentionsMe?: boolean }).mentionsMe === true
  // A file or picture: the same bubble as in a 1:1 chat (each member fetches it from the sender).
  const file = fileData(m)
  return (
    <li class={`msg ${m.direction} group-msg${mentioned ? ' mentions-me' : ''}`} data-id={m.id}>
      {!mine && <Avatar name={m.sender.name} id={m.sender.id} size="small" />}
      <div class="bubble-wrap">
        <span class={mine ? 'sr-only' : 'msg-sender'}>{mine ? t('chat.you') : m.sender.name}</span>
        {mentioned && <span class="mention-badge">{t('groups.mentionsYou')}</span>}
        <div class={file ? 'bubble has-file' : 'bubble'}>
          {props.quoted !== undefined && (
            <div class="quote">
              <span class="quote-name">
                {props.quoted.direction === 'out' ? t('chat.you') : props.quoted.sender.name}
              </span>
              <span class="quote-text">{groupMessageText(props.quoted)}</span>
            </div>
          )}
          {file ? (
            <FileBubble message={m} file={file} />
          ) : (
            <span class="text">
              <Linkified text={m.text} />
            </span>
          )}
          <span class="meta">
            <time dateTime={m.sentAt}>{formatTime(m.sentAt)}</time>
            {mine && <DeliveryButton m={m} open={listOpen} onToggle={() => setListOpen((o) => !o)} />}
          </span>
        </div>
        <GroupReactionChips m={m} onReact={react} />
        {mine && listOpen && m.delivery !== undefined && <DeliveryList m={m} />}
        <GroupMessageMenu m={m} onReact={react} onReply={props.onReply} />
      </div>
    </li>
  )
}
