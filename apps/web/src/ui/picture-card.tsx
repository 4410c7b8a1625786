/** Settings' profile picture card: the picture contacts see, chosen from a photo, or removed. */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { pictureDataUrl, squarePicture } from '../lib/pictures.js'
import { notify, notifyError } from './notice.js'

export function PictureCard() {
  const client = useClient()
  const mine = useQuery('profilePicture', {})
  const [busy, setBusy] = useState(false)
  const run = (work: () => Promise<unknown>, done: Parameters<typeof notify>[0]) => {
    setBusy(true)
    work()
      .then(() => {
        notify(done)
        mine.reload()
      })
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  const choose = (input: HTMLInputElement) => {
    const file = input.files?.[0]
    input.value = ''
    if (file === undefined) return
    run(async () => client.call('setProfilePicture', await squarePicture(file)), 'settings.pictureSaved')
  }
  return (
    <section class="card picture-card" aria-labelledby="picture-title">
      <h2 id="picture-title">{t('settings.picture')}</h2>
      <div class="field-row">
        {mine.data ? (
          <img class="avatar picture large" src={pictureDataUrl(mine.data)} alt={t('settings.pictureAlt')} />
        ) : (
          <p class="hint">{t('settings.pictureNone')}</p>
        )}
        <label class={`button ${busy ? 'disabled' : ''}`}>
          {t('settings.pictureChoose')}
          <input
            type="file"
            accept="image/*"
            class="sr-only"
            disabled={busy}
            onChange={(e) => choose(e.currentTarget)}
          />
        </label>
        {mine.data && (
          <button
            type="button"
            class="button"
            disabled={busy}
            onClick={() => run(() => client.call('setProfilePicture', {}), 'settings.pictureRemoved')}
          >
            {t('settings.pictureRemove')}
          </button>
        )}
      </div>
      <p class="hint">{t('settings.pictureHint')}</p>
    </section>
  )
}
