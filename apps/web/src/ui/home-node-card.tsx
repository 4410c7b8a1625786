/**
 * Settings' home node card: which home node keeps this device's mailbox (and relays for it), and
 * linking one by the `jiayi:home/…` link its `jiayi start --serve` prints. The same gesture as
 * `jiayi home-node add` on a node; a page opened from the home node's own HTTPS address adds it
 * here once, and from then on its contacts leave messages there while the page is closed.
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { notify, notifyError } from './notice.js'

export function HomeNodeCard() {
  const client = useClient()
  const home = useQuery('homeNode', {})
  const [link, setLink] = useState('')
  const [busy, setBusy] = useState(false)
  const linked = home.data ?? null
  return (
    <form
      class="card"
      aria-labelledby="home-node-title"
      onSubmit={(e) => {
        e.preventDefault()
        setBusy(true)
        void client
          .call('addHomeNode', { link: link.trim() })
          .then(() => {
            setLink('')
            home.reload()
            notify('settings.homeNodeLinked')
          })
          .catch(notifyError)
          .finally(() => setBusy(false))
      }}
    >
      <h2 id="home-node-title">{t('settings.homeNode')}</h2>
      <p class="hint">{t('settings.homeNodeHint')}</p>
      <p data-testid="home-node">
        {linked === null ? t('settings.homeNodeNone') : t('settings.homeNodeIs', { peerId: linked.peerId })}
      </p>
      <label for="home-node-link">{t('settings.homeNodeLink')}</label>
      <div class="field-row">
        <input
          id="home-node-link"
          type="text"
          autocomplete="off"
          spellcheck={false}
          placeholder={t('settings.homeNodePlaceholder')}
          value={link}
          onInput={(e) => setLink((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="button" disabled={busy || !link.trim().startsWith('jiayi:home/')}>
          {t('settings.homeNodeAdd')}
        </button>
      </div>
    </form>
  )
}
