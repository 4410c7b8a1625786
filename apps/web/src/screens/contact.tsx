/**
 * One contact: their safety number (the two 30-digit halves, one per person, in groups of five)
 * and a QR code of its scannable form to compare, marking them verified, a warning when their
 * safety number changed, how we are connected, whether the session is post-quantum, a way
 * into the chat, the user's private remark (备注) and labels (标签) for them, and removing them.
 */
import type { ContactView } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { shownName } from '../lib/names.js'
import { go, href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { Icon } from '../ui/icons.js'
import { LabelsCard } from '../ui/labels-card.js'
import { notify, notifyError } from '../ui/notice.js'
import { QrImage } from '../ui/qr.js'
import { ReachLine } from '../ui/reach-line.js'
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
  const name = shownName(c)
  return (
    <section class="pane detail contact" aria-labelledby="contact-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'contacts' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <h1 id="contact-title">{name}</h1>
      </header>
      <div class="scroll">
        <div class="card contact-head">
          <Avatar name={name} id={c.id} picture={c.picture} size="large" />
          <div>
            <p class="big">{name}</p>
            {c.remark !== undefined && <p class="muted small">{t('contact.cardName', { name: c.name })}</p>}
            <p class="muted small">
              {t('contact.peerId')} <code>{c.peerId.slice(0, 16)}…</code>
            </p>
            <p class="muted small">
              {t('contact.connection')}:{' '}
              {connection.data ? t(`route.${connection.data.route}.long`) : t('contact.notConnected')}
            </p>
            <ReachLine contact={c} />
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
            <Icon name="alert" size={18} /> {t('contact.identityChanged', { name })}
          </p>
        )}
        {accepted && (
          <section class="card safety" aria-labelledby="safety-title">
            <h2 id="safety-title">{t('contact.safetyTitle')}</h2>
            <p class="hint">{t('contact.safetyHint', { name })}</p>
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
                <Icon name="shield" size={18} /> {t('contact.isVerified', { name })}
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
        {c.state !== 'pending-in' && <RemarkCard c={c} onSaved={contact.reload} />}
        {c.state !== 'pending-in' && <LabelsCard c={c} />}
        <section class="card">
          <button
            type="button"
            class="button danger"
            disabled={busy}
            onClick={() => {
              if (!confirm(t('contact.removeConfirm', { name }))) return
              setBusy(true)
              client
                .call('reject', { contact: c.id })
                .then(() => {
                  notify('contact.removed', { name })
                  go({ name: 'contacts' })
                })
                .catch(notifyError)
                .finally(() => setBusy(false))
            }}
          >
            {t('contact.remove')}
          </button>
        </section>
      </div>
    </section>
  )
}

/** The user's private name for the contact (备注): only here, shown instead of their name. */
function RemarkCard(props: { c: ContactView; onSaved: () => void }) {
  const client = useClient()
  const saved = props.c.remark ?? ''
  const [draft, setDraft] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const value = draft ?? saved
  return (
    <form
      class="card remark"
      onSubmit={(e) => {
        e.preventDefault()
        setBusy(true)
        client
          .call('setRemark', { contact: props.c.id, remark: value })
          .then(() => {
            setDraft(undefined)
            notify('contact.remarkSaved')
            props.onSaved()
          })
          .catch(notifyError)
          .finally(() => setBusy(false))
      }}
    >
      <label for="remark">{t('contact.remark')}</label>
      <div class="field-row">
        <input
          id="remark"
          type="text"
          autoComplete="off"
          maxLength={64}
          placeholder={props.c.name}
          value={value}
          onInput={(e) => setDraft(e.currentTarget.value)}
        />
        <button type="submit" class="button primary" disabled={busy || value.trim() === saved}>
          {t('contact.remarkSave')}
        </button>
      </div>
      <p class="hint">{t('contact.remarkHint')}</p>
    </form>
  )
}
