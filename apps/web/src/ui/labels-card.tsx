/**
 * A contact's labels (标签) on their page: each with a button that takes it away, and a field
 * that adds one (offering the labels in use, so that one label is not typed two ways). Labels
 * stay on this device; the contact never learns them.
 */
import type { ContactView } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { Icon } from './icons.js'
import { notifyError } from './notice.js'

export function LabelsCard(props: { c: ContactView }) {
  const client = useClient()
  const all = useQuery('labels', {}, { events: ['contact'] })
  const [draft, setDraft] = useState('')
  const [busy, setBusy] = useState(false)
  const mine = props.c.labels
  const have = new Set(mine.map((l) => l.toLowerCase()))
  const offered = (all.data ?? []).map((l) => l.name).filter((n) => !have.has(n.toLowerCase()))
  const run = (call: Promise<unknown>, done?: () => void) => {
    setBusy(true)
    call
      .then(() => done?.())
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return (
    <section class="card labels-card" aria-labelledby="labels-card-title">
      <h2 id="labels-card-title">{t('contact.labels')}</h2>
      {mine.length === 0 ? (
        <p class="muted">{t('contact.labelsNone')}</p>
      ) : (
        <ul class="chips">
          {mine.map((label) => (
            <li key={label} class="chip">
              <span>{label}</span>
              <button
                type="button"
                class="icon-button tiny"
                aria-label={t('contact.labelRemove', { label })}
                disabled={busy}
                onClick={() => run(client.call('removeLabel', { label, contacts: [props.c.id] }))}
              >
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="field-row"
        onSubmit={(e) => {
          e.preventDefault()
          // An empty name goes too: the peer says what is wrong with it, in the user's language.
          run(client.call('addLabel', { label: draft, contacts: [props.c.id] }), () => setDraft(''))
        }}
      >
        <input
          type="text"
          list="label-names"
          autoComplete="off"
          maxLength={32}
          aria-label={t('contact.labelNew')}
          placeholder={t('contact.labelNew')}
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
        />
        <datalist id="label-names">
          {offered.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="submit" class="button primary" disabled={busy}>
          {t('contact.labelAdd')}
        </button>
      </form>
      <p class="hint">{t('contact.labelsHint')}</p>
    </section>
  )
}
