/**
 * Why a contact cannot be reached (the contact's `lastError`, set by the messenger after a failed
 * attempt while no connection to them is open, cleared once one opens). From a browser tab the
 * usual cause is a node peer with TCP addresses only: a page can dial WebSockets and WebRTC, never
 * TCP. Delivery keeps trying either way; this says why nothing arrives.
 */
import type { ContactView } from '@jiayi/api'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { shownName } from '../lib/names.js'

export function reachText(c: ContactView, inPage: boolean): string | undefined {
  const e = c.lastError
  if (e == null || c.online) return undefined
  if (e.code === 'NoDialableAddress')
    return t(inPage ? 'reach.noAddress.browser' : 'reach.noAddress.node', { name: shownName(c) })
  return t('reach.unreachable', { name: shownName(c) })
}

export function ReachNotice(props: { contact: ContactView }) {
  const client = useClient()
  const text = reachText(props.contact, client.mode === 'in-page')
  if (text === undefined) return null
  return (
    <p class="hint error reach-problem" role="status">
      {text}
    </p>
  )
}
