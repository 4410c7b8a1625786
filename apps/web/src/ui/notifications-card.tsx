/** Settings' notifications card: on/off (the browser asks for permission) and hiding the text. */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import {
  notificationPrefs,
  notificationsSupported,
  setNotificationsEnabled,
  setNotificationTextHidden,
} from '../lib/notifications.js'
import { notify } from './notice.js'

export function NotificationsCard() {
  const [prefs, setPrefs] = useState(notificationPrefs)
  const supported = notificationsSupported()
  return (
    <section class="card" aria-labelledby="notify-title">
      <h2 id="notify-title">{t('settings.notifications')}</h2>
      {!supported ? (
        <p class="hint">{t('settings.unsupported')}</p>
      ) : (
        <>
          <label class="check">
            <input
              type="checkbox"
              checked={prefs.enabled}
              onChange={async (e) => {
                const on = await setNotificationsEnabled(e.currentTarget.checked)
                if (e.currentTarget.checked && !on) notify('settings.notificationsDenied', undefined, true)
                setPrefs(notificationPrefs())
              }}
            />
            {t('settings.notificationsOn')}
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={prefs.hideText}
              disabled={!prefs.enabled}
              onChange={(e) => {
                setNotificationTextHidden(e.currentTarget.checked)
                setPrefs(notificationPrefs())
              }}
            />
            {t('settings.notificationsHideText')}
          </label>
        </>
      )}
    </section>
  )
}
