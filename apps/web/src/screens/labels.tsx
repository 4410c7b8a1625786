/**
 * Labels (标签) and broadcasts (群发): every label with its contacts, a way to delete a label,
 * and a form that sends one text (and/or a file) to everyone with a label. The peer sends it to
 * each accepted contact as a message of their own (no one sees who else got it) and says whom it
 * skipped.
 */
import type { BroadcastResult } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { shownName } from '../lib/names.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { Icon } from '../ui/icons.js'
import { notify, notifyError } from '../ui/notice.js'

export function LabelsScreen() {
  const client = useClient()
  const labels = useQuery('labels', {}, { events: ['contact'] })
  const list = labels.data ?? []
  const [picked, setPicked] = useState('')
  const [text, setText] = useState('')
  const [file, setFile] = useState<File | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<BroadcastResult | undefined>(undefined)
  const chosen = list.some((l) => l.name === picked) ? picked : (list[0]?.name ?? '')

  const send = async () => {
    if (busy || (text.trim() === '' && file === undefined) || chosen === '') return
    setBusy(true)
    setResult(undefined)
    try {
      let last: BroadcastResult | undefined
      if (file !== undefined) {
        const source = await client.upload(file, file.name)
        last = await client.call('broadcastFile', {
          label: chosen,
          source,
          name: file.name,
          mime: file.type || 'application/octet-stream',
        })
        setFile(undefined)
      }
      if (text.trim() !== '') {
        last = await client.call('broadcast', { label: chosen, text })
        setText('')
      }
      setResult(last)
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  const remove = (label: string) => {
    if (!confirm(t('labels.deleteConfirm', { label }))) return
    client
      .call('deleteLabel', { label })
      .then(() => notify('labels.deleted', { label }))
      .catch(notifyError)
  }

  return (
    <section class="pane detail labels" aria-labelledby="labels-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'contacts' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <h1 id="labels-title">{t('labels.title')}</h1>
      </header>
      <div class="scroll">
        {labels.data !== undefined && list.length === 0 && <p class="card hint">{t('labels.none')}</p>}
        {list.length > 0 && (
          <form
            class="card broadcast"
            aria-labelledby="broadcast-title"
            onSubmit={(e) => {
              e.preventDefault()
              void send()
            }}
          >
            <h2 id="broadcast-title">{t('broadcast.title')}</h2>
            <p class="hint">{t('broadcast.hint')}</p>
            <label for="broadcast-label">{t('broadcast.label')}</label>
            <select
              id="broadcast-label"
              value={chosen}
              onChange={(e) => {
                setPicked(e.currentTarget.value)
                setResult(undefined)
              }}
            >
              {list.map((l) => (
                <option key={l.name} value={l.name}>
                  {l.name}
                </option>
              ))}
            </select>
            <label for="broadcast-text">{t('broadcast.text')}</label>
            <textarea
              id="broadcast-text"
              rows={3}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
            {file === undefined ? (
              <label class="button attach-file">
                <Icon name="attach" size={18} /> {t('broadcast.attach')}
                <input
                  type="file"
                  class="sr-only"
                  onChange={(e) => {
                    setFile(e.currentTarget.files?.[0])
                    e.currentTarget.value = ''
                  }}
                />
              </label>
            ) : (
              <p class="picked-file">
                <Icon name="file" size={18} /> <span>{file.name}</span>
                <button
                  type="button"
                  class="icon-button tiny"
                  aria-label={t('broadcast.removeFile', { name: file.name })}
                  onClick={() => setFile(undefined)}
                >
                  <Icon name="close" size={14} />
                </button>
              </p>
            )}
            <button
              type="submit"
              class="button primary"
              disabled={busy || (text.trim() === '' && file === undefined)}
            >
              <Icon name="send" size={18} /> {t('broadcast.send')}
            </button>
            <p role="status" class="broadcast-result">
              {result !== undefined && t('broadcast.sent', { n: result.sent })}
              {result !== undefined && result.skipped.length > 0 && (
                <> {t('broadcast.skipped', { names: result.skipped.map((c) => shownName(c)).join(', ') })}</>
              )}
            </p>
          </form>
        )}
        {list.map((l) => (
          <section key={l.name} class="card label-group" aria-label={l.name}>
            <div class="label-head">
              <Icon name="tag" size={18} />
              <h2>{l.name}</h2>
              <span class="muted small">{t('labels.count', { n: l.contacts.length })}</span>
              <button
                type="button"
                class="icon-button"
                aria-label={t('labels.delete', { label: l.name })}
                onClick={() => remove(l.name)}
              >
                <Icon name="trash" size={18} />
              </button>
            </div>
            <ul class="rows">
              {l.contacts.map((c) => (
                <li key={c.id}>
                  <a class="row" href={href({ name: 'contact', id: c.id })}>
                    <Avatar name={shownName(c)} id={c.id} />
                    <span class="row-main">
                      <span class="row-title">{shownName(c)}</span>
                      {c.state !== 'accepted' && <span class="row-text">{t('labels.notAccepted')}</span>}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </section>
  )
}
