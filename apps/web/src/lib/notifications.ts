/**
 * Browser notifications for a new message or contact request while the tab is hidden (the
 * Notification API), in both client modes: the events are the API's, whichever peer sends them.
 * The user turns them on in Settings (the browser asks for permission then) and may hide the
 * text, so a notification says only who wrote. The choice is this browser's, kept in
 * localStorage like the language.
 */
import type { ApiEvents } from '@jiayi/api'
import { useEffect } from 'preact/hooks'
import type { JiayiClient } from '../client/types.js'
import { t } from '../i18n/index.js'
import { shownName } from './names.js'
import { previewText } from './preview.js'
import { go } from './router.js'

const ENABLED_KEY = 'jiayi.notifications'
const HIDE_TEXT_KEY = 'jiayi.notifications.hideText'

export interface NotificationPrefs {
  readonly enabled: boolean
  readonly hideText: boolean
}

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined'
}

export function notificationPrefs(): NotificationPrefs {
  return {
    enabled:
      localStorage.getItem(ENABLED_KEY) === 'on' &&
      notificationsSupported() &&
      Notification.permission === 'granted',
    hideText: localStorage.getItem(HIDE_TEXT_KEY) === 'on',
  }
}

/** Turns notifications on (asking the browser first) or off; resolves to whether they are on. */
export async function setNotificationsEnabled(on: boolean): Promise<boolean> {
  if (!on || !notificationsSupported()) {
    localStorage.setItem(ENABLED_KEY, 'off')
    return false
  }
  const permission =
    Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission()
  localStorage.setItem(ENABLED_KEY, permission === 'granted' ? 'on' : 'off')
  return permission === 'granted'
}

export function setNotificationTextHidden(hidden: boolean): void {
  localStorage.setItem(HIDE_TEXT_KEY, hidden ? 'on' : 'off')
}

function show(title: string, body: string, tag: string, onOpen: () => void): void {
  const note = new Notification(title, { body, tag })
  note.onclick = () => {
    window.focus()
    onOpen()
    note.close()
  }
}

/** Shows a notification for each new incoming message and contact request while the tab is hidden. */
export function useBackgroundNotifications(client: JiayiClient): void {
  useEffect(() => {
    const wanted = () => document.visibilityState === 'hidden' && notificationPrefs().enabled
    const onMessage = async (e: ApiEvents['message']) => {
      if (e.change !== 'new' || e.message.direction !== 'in' || !wanted()) return
      const contact = await client.call('contact', { contact: e.contactId }).catch(() => undefined)
      // A request's messages wait for the Accept: the request itself is what is announced.
      if (contact === undefined || contact.state === 'pending-in') return
      const body = notificationPrefs().hideText ? t('notify.newMessage') : previewText(e.message)
      show(shownName(contact), body, `chat-${e.contactId}`, () => go({ name: 'chat', id: e.contactId }))
    }
    const onContact = (e: ApiEvents['contact']) => {
      if (e.change !== 'new' || e.contact?.state !== 'pending-in' || !wanted()) return
      const name = shownName(e.contact)
      show(t('notify.requestTitle'), t('contacts.wantsToAdd', { name }), `request-${e.id}`, () =>
        go({ name: 'contacts' }),
      )
    }
    const offs = [client.on('message', (e) => void onMessage(e)), client.on('contact', onContact)]
    return () => {
      for (const off of offs) off()
    }
  }, [client])
}
