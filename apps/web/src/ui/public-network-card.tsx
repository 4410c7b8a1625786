/**
 * Settings: join the public libp2p network (Kad-DHT peer routing, public relays), for people with
 * no home node. The node saves the choice and honours it at its next start; the card says
 * whether the running peer has joined, so "on, after a restart" is never mistaken for "on".
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { notifyError } from './notice.js'

export function PublicNetworkCard() {
  const client = useClient()
  const setting = useQuery('publicNetwork', {})
  const [busy, setBusy] = useState(false)
  const on = setting.data?.publicDht === true
  const active = setting.data?.active === true
  const toggle = (next: boolean) => {
    setBusy(true)
    client
      .call('setPublicNetwork', { publicDht: next })
      .then(() => setting.reload())
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return (
    <section class="card public-network" aria-labelledby="public-network-title">
      <h2 id="public-network-title">{t('settings.publicNetwork')}</h2>
      <label class="check">
        <input
          type="checkbox"
          role="switch"
          checked={on}
          aria-checked={on}
          disabled={busy || setting.data === undefined}
          onChange={(e) => toggle(e.currentTarget.checked)}
        />
        {t('settings.publicNetworkSwitch')}
      </label>
      <p class="hint">{t('settings.publicNetworkHint')}</p>
      {setting.data !== undefined && on !== active && (
        <p class="hint" role="status">
          {t(on ? 'settings.publicNetworkNextStart' : 'settings.publicNetworkStillOn')}
        </p>
      )}
    </section>
  )
}
