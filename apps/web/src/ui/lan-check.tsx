/**
 * The LAN page's two checks (lib/lan.ts): the certificate fingerprint, as text and as a QR code,
 * against the one the scanned code named; and a warning when the page's origin is a bare IP.
 * And, for the node's own UI, the card that shows phones how to open the LAN page.
 */
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { expectedFingerprint, fetchLanInfo, isBareIpHost, type LanInfo } from '../lib/lan.js'
import { QrImage } from './qr.js'

/** The fingerprint, breaking only between bytes. */
function Fingerprint(props: { value: string }) {
  return (
    <code class="fingerprint">
      {props.value.split(':').map((byte, i) => (
        <span key={i}>
          {i > 0 && ':'}
          {i > 0 && <wbr />}
          {byte}
        </span>
      ))}
    </code>
  )
}

function useLanInfo(): LanInfo | undefined {
  const [info, setInfo] = useState<LanInfo | undefined>(undefined)
  useEffect(() => {
    let live = true
    void fetchLanInfo().then((i) => live && setInfo(i))
    return () => {
      live = false
    }
  }, [])
  return info
}

/** Shown where a profile is created on the LAN page. */
export function LanCheck() {
  const info = useLanInfo()
  const expected = expectedFingerprint()
  const host = location.hostname
  const fingerprint = info?.fingerprint ?? expected
  const matches = expected === undefined || info === undefined ? undefined : expected === info.fingerprint
  return (
    <section class="card lan-check" aria-labelledby="lan-check-title">
      <h2 id="lan-check-title">{t('lan.title')}</h2>
      {isBareIpHost(host) && (
        <p class="warning" role="alert">
          {t('lan.bareIp', { host })}
        </p>
      )}
      {fingerprint !== undefined && (
        <>
          <p class="hint">{t('lan.compare')}</p>
          <p class="lan-label">{t('lan.fingerprint')}</p>
          <Fingerprint value={fingerprint} />
          {matches === true && (
            <p class="ok" role="status">
              {t('lan.match')}
            </p>
          )}
          {matches === false && (
            <p class="warning" role="alert">
              {t('lan.mismatch')}
            </p>
          )}
          <QrImage text={fingerprint} label={t('lan.qr')} size={160} />
        </>
      )}
    </section>
  )
}

/** Settings of a node's own UI: how a phone opens the LAN page, and what it should see there. */
export function LanAccessCard() {
  const info = useLanInfo()
  const link = info?.links[0]
  if (info === undefined || link === undefined) return null
  return (
    <section class="card lan-access" aria-labelledby="lan-access-title">
      <h2 id="lan-access-title">{t('settings.lan')}</h2>
      <p class="hint">{t('settings.lanHint')}</p>
      <QrImage text={link} label={t('settings.lanQr')} size={200} />
      <ul class="lan-urls">
        {info.urls.map((u) => (
          <li key={u}>
            <code>{u}</code>
          </li>
        ))}
      </ul>
      <p class="lan-label">{t('lan.fingerprint')}</p>
      <Fingerprint value={info.fingerprint} />
    </section>
  )
}
