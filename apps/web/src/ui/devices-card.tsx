/**
 * Settings "My devices": the devices of this person, each removable but this one, and "Link a
 * device": a one-time link shown as a QR and as text with its expiry. When the new device
 * connects, the person types the code the NEW device shows (this side knows its own code; only
 * the typed one tells its own new device from someone who copied the link). Progress follows
 * `linkStatus` (a long poll) until the device is linked or the link fails.
 */
import type { ResultOf } from '@jiayi/api'
import { useEffect, useState } from 'preact/hooks'
import { formatDateTime, t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { errorText } from './errors.js'
import { notify, notifyError } from './notice.js'
import { QrImage } from './qr.js'

type Offer = ResultOf<'linkDevice'>
type Status = ResultOf<'linkStatus'>

const POLL_MS = 20_000

export function DevicesCard() {
  const client = useClient()
  const devices = useQuery('devices', {})
  const [offer, setOffer] = useState<Offer | undefined>(undefined)
  const [status, setStatus] = useState<Status | undefined>(undefined)
  const [code, setCode] = useState('')
  const [busy, setBusy] = useState(false)

  // Follows the link while one is shown: each answer is newer than the last seen.
  useEffect(() => {
    if (offer === undefined) return
    let live = true
    void (async () => {
      let after = 0
      while (live) {
        let next: Status
        try {
          next = await client.call('linkStatus', { after, timeoutMs: POLL_MS })
        } catch (error) {
          if (live) notifyError(error)
          return
        }
        if (!live) return
        after = next.seq
        setStatus(next)
        if (next.state === 'linked') {
          devices.reload()
          return
        }
        if (next.state === 'failed') return
      }
    })()
    return () => {
      live = false
    }
  }, [offer, client])

  const start = async () => {
    setBusy(true)
    try {
      setStatus(undefined)
      setCode('')
      setOffer(await client.call('linkDevice', {}))
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  const confirm = async () => {
    setBusy(true)
    try {
      setStatus(await client.call('confirmLink', { code: code.trim() }))
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  const remove = async (id: string, name: string) => {
    if (!window.confirm(t('devices.removeConfirm', { name }))) return
    setBusy(true)
    try {
      await client.call('removeDevice', { id })
      devices.reload()
      notify('devices.removed', { name })
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  const state = status?.state ?? 'waiting'
  return (
    <section class="card" aria-labelledby="devices-title">
      <h2 id="devices-title">{t('devices.title')}</h2>
      <ul class="devices" aria-label={t('devices.list')}>
        {(devices.data ?? []).map((d) => (
          <li key={d.id} data-testid="device">
            <span class="device-name">{d.current ? t('devices.thisOne', { name: d.name }) : d.name}</span>{' '}
            <span class="muted small">{t('devices.linkedAt', { date: formatDateTime(d.linkedAt) })}</span>
            {!d.current && (
              <button
                type="button"
                class="button secondary"
                disabled={busy}
                aria-label={t('devices.removeNamed', { name: d.name })}
                onClick={() => void remove(d.id, d.name)}
              >
                {t('devices.remove')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {offer === undefined || state === 'linked' || state === 'failed' ? (
        <>
          {state === 'linked' && status?.state === 'linked' && (
            <p class="hint" role="status" data-testid="link-status">
              {t('devices.linked', { name: status.device.name })}
            </p>
          )}
          {state === 'failed' && status?.state === 'failed' && (
            <p class="warning" role="status" data-testid="link-status">
              {t('devices.failed', { reason: errorText({ code: status.error }) })}
            </p>
          )}
          <button type="button" class="button" disabled={busy} onClick={() => void start()}>
            {t('devices.link')}
          </button>
        </>
      ) : state === 'waiting' ? (
        <>
          <p class="hint">{t('devices.linkHint')}</p>
          <QrImage text={offer.qr} label={t('devices.linkQr')} size={264} />
          <p class="hint" data-testid="device-link-expiry">
            {t('devices.linkExpires', { date: formatDateTime(offer.expiresAt) })}
          </p>
          <code class="link-text" data-testid="device-link">
            {offer.link}
          </code>
        </>
      ) : state === 'code' && status?.state === 'code' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void confirm()
          }}
        >
          <p class="hint">{t('devices.codeHint', { name: status.device.name })}</p>
          <label for="link-code">{t('devices.code')}</label>
          <div class="field-row">
            <input
              id="link-code"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            />
            <button type="submit" class="button" disabled={busy || !/^\d{6}$/.test(code.trim())}>
              {t('devices.confirm')}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p class="hint" role="status" data-testid="link-status">
            {status?.state === 'transfer' && status.total > 0
              ? t('devices.transfer', { done: status.done, total: status.total })
              : t('devices.transferStarting')}
          </p>
          {status?.state === 'transfer' && status.total > 0 && (
            <progress value={status.done} max={status.total} aria-label={t('devices.transferStarting')} />
          )}
        </>
      )}
    </section>
  )
}
