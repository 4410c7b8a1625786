/**
 * One contact: their safety number (the two 30-digit halves, one per person, in groups of five)
 * and a QR code of its scannable form to compare, marking them verified, a warning when their
 * safety number changed, how we are connected, whether the session is post-quantum, and a way
 * into the chat.
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { Icon } from '../ui/icons.js'
import { notifyError } from '../ui/notice.js'
import { QrImage } from '../ui/qr.js'
import { ReachNotice } from '../ui/reach-notice.js'

function halves(formatted: string): [string[], string[]] {
  const groups = formatted.split(/\s+/).filter(Boolean)
  return [groups.slice(0, 6), groups.slice(6, 12)]
}

export function ContactScreen(props: { contact: string }) {
  const client = useClient()
  const contact = useQuery('contact', { contact: props.contact }, { events: ['contact'] })
  const c = contact.data
  const accepted = c?.state === 'accepted'
  const safety = useQuery('verify', c && accepted ? { contact: c.id } : null, { events: ['contact'] })
  const code = useQuery('safetyNumberCode', c && accepted ? { contact: c.id } : null)
  const connection = useQuery('connection', { contact: props.contact }, { events: ['contact'] })
  const [busy, setBusy] = useState(false)

  if (contact.error !== undefined && c === undefined)
    return (
      <section class="pane detail">
        <p class="hint error">{errorText(contact.error)}</p>
      </section>
    )
  if (c === undefined) return <section class="pane detail" aria-busy="true" />
  const [a, b] = safety.data ? halves(safety.data.safetyNumber) : [[], []]
  return (
    <section class="pane detail contact" aria-labelledby="contact-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'contacts' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <h1 id="contact-title">{c.name}</h1>
      </header>
      <div class="scroll">
        <div class="card contact-head">
          <Avatar name={c.name} id={c.id} size="large" />
          <div>
            <p class="big">{c.name}</p>
            <p class="muted small">
              {t('contact.peerId')} <code>{c.peerId.slice(0, 16)}…</code>
            </p>
            <p class="muted small">
              {t('contact.connection')}:{' '}
              {connection.data ? t(`route.${connection.data.route}.long`) : t('contact.notConnected')}
            </p>
            <p class="muted small" data-testid="session-kind">
              {t('contact.encryption')}: {c.postQuantum ? t('contact.postQuantum') : t('contact.classical')}
            </p>
          </div>
          {c.state !== 'pending-in' && (
            <a class="button primary" href={href({ name: 'chat', id: c.id })}>
              <Icon name="chats" size={18} /> {t('contact.message')}
            </a>
          )}
        </div>
        <ReachNotice contact={c} />
        {c.identityChanged && (
          <p class="card warning" role="alert" data-testid="identity-changed">
            <Icon name="alert" size={18} /> {t('contact.identityChanged', { name: c.name })}
          </p>
        )}
        {accepted && (
          <section class="card safety" aria-labelledby="safety-title">
            <h2 id="safety-title">{t('contact.safetyTitle')}</h2>
            <p class="hint">{t('contact.safetyHint', { name: c.name })}</p>
            {safety.data && (
              <div class="numbers">
                <div>
                  <h3>{t('contact.numberA')}</h3>
                  <p class="digits" data-testid="safety-a">
                    {a.map((g, i) => (
                      <span key={i}>{g}</span>
                    ))}
                  </p>
                </div>
                <div>
                  <h3>{t('contact.numberB')}</h3>
                  <p class="digits" data-testid="safety-b">
                    {b.map((g, i) => (
                      <span key={i}>{g}</span>
                    ))}
                  </p>
                </div>
              </div>
            )}
            {code.data && <QrImage text={code.data.toUpperCase()} label={t('contact.safetyQr')} size={200} />}
            {safety.data?.verified ? (
              <p class="ok">
                <Icon name="shield" size={18} /> {t('contact.isVerified', { name: c.name })}
              </p>
            ) : (
              <>
                <p class="muted">{t('contact.notVerified')}</p>
                <button
                  type="button"
                  class="button primary"
                  disabled={busy}
                  onClick={() => {
                    setBusy(true)
                    client
                      .call('verify', { contact: c.id, mark: true })
                      .then(() => safety.reload())
                      .catch(notifyError)
                      .finally(() => setBusy(false))
                  }}
                >
                  {t('contact.markVerified')}
                </button>
              </>
            )}
          </section>
        )}
      </div>
    </section>
  )
}
