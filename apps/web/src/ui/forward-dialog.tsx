/**
 * Forwarding a message to another contact: text goes as a new message, a file as a new offer of
 * the bytes this peer holds (`forwardFile`: the copy we sent, or the one we received).
 */
import type { ApiMessage, ContactView } from '@jiayi/api'
import { useEffect, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { shownName } from '../lib/names.js'
import { fileData } from '../lib/preview.js'
import { Avatar } from './avatar.js'
import { notify, notifyError } from './notice.js'

/** Whether there is something to forward: text, or a file whose bytes are here. */
export function canForward(m: ApiMessage): boolean {
  if (m.deleted) return false
  const f = fileData(m)
  if (f === undefined) return m.extension === undefined && m.text !== ''
  return m.direction === 'out' || f.status === 'complete'
}

export function ForwardDialog(props: { m: ApiMessage; onClose: () => void }) {
  const client = useClient()
  const contacts = useQuery('contactList', {}, { events: ['contact'] })
  const ref = useRef<HTMLDialogElement>(null)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    const dialog = ref.current
    if (dialog !== null && !dialog.open) dialog.showModal()
  }, [])
  const targets = (contacts.data ?? []).filter((c) => c.state === 'accepted')

  const forward = async (to: ContactView) => {
    setBusy(true)
    try {
      if (fileData(props.m) !== undefined)
        await client.call('forwardFile', { id: props.m.id, contact: to.id })
      else await client.call('send', { contact: to.id, text: props.m.text })
      notify('chat.forwarded', { name: shownName(to) })
      ref.current?.close()
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <dialog ref={ref} class="forward-dialog" aria-labelledby="forward-title" onClose={props.onClose}>
      <h2 id="forward-title">{t('chat.forwardTo')}</h2>
      {contacts.data !== undefined && targets.length === 0 && <p class="hint">{t('chat.forwardNone')}</p>}
      <ul>
        {targets.map((c) => (
          <li key={c.id}>
            <button type="button" disabled={busy} onClick={() => void forward(c)}>
              <Avatar name={shownName(c)} id={c.id} picture={c.picture} size="small" />
              <span>{shownName(c)}</span>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="button" onClick={() => ref.current?.close()}>
        {t('chat.cancel')}
      </button>
    </dialog>
  )
}
