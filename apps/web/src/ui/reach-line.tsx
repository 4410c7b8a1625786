/**
 * How a contact is reached now (ContactView.reach: lan, direct, relayed, their home node's
 * mailbox, or offline) and why an outgoing message still waits: the app says "waiting for Bob to
 * come online" or "stored on Bob's home node" rather than leaving a clock icon to be guessed at.
 */
import type { ApiMessage, ContactView } from '@jiayi/api'
import { t } from '../i18n/index.js'
import { shownName } from '../lib/names.js'

type Reach = ContactView['reach']

/** A peer older than `reach` sends none: its `online` says as much as it knows. */
export function reachOf(c: ContactView): Reach {
  return c.reach ?? (c.online ? 'direct' : 'offline')
}

export function reachLineText(c: ContactView): string {
  return t(`reachLine.${reachOf(c)}`)
}

/** The short tag after "online" / "offline" in a list row or a header ("LAN", "home node mailbox"). */
export function reachTag(c: ContactView): string | undefined {
  const reach = reachOf(c)
  if (reach === 'mailbox') return t('reachShort.mailbox')
  if (reach === 'offline') return undefined
  return t(`route.${reach}`)
}

/** Why an outgoing message has not been delivered yet; undefined when it has (or it came in). */
export function waitingReason(m: ApiMessage, c: ContactView): string | undefined {
  if (m.direction !== 'out') return undefined
  const name = shownName(c)
  if (m.status === 'stored') return t('waiting.stored', { name })
  if (m.status !== 'queued') return undefined
  const reach = reachOf(c)
  if (reach === 'offline') return t('waiting.offline', { name })
  if (reach === 'mailbox') return t('waiting.mailbox', { name })
  return t('waiting.sending', { name })
}

export function ReachLine(props: { contact: ContactView }) {
  return (
    <p class="muted small reach-line" data-reach={reachOf(props.contact)}>
      {reachLineText(props.contact)}
    </p>
  )
}
