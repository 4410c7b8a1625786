/**
 * Contacts: my QR code and link (what others scan or paste to add me), adding someone by link,
 * by camera, from a picture of a QR code or from an opened `#add=` link, requests to accept or
 * reject, everyone I have, found by name or remark, and the way to their labels (标签). A group's
 * invite pasted or scanned there asks to join the group instead (lib/group-join.ts says why).
 */
import type { ContactView } from '@jiayi/api'
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { isCardLink, isGroupLink } from '../lib/group-join.js'
import { groupsTouched } from '../lib/groups.js'
import { nameMatches, shownName } from '../lib/names.js'
import { decodeQrImage } from '../lib/qr-image.js'
import { go, href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { GroupJoinStatus } from '../ui/group-join-status.js'
import { Icon } from '../ui/icons.js'
import { notify, notifyError } from '../ui/notice.js'
import { QrImage } from '../ui/qr.js'
import { reachTag } from '../ui/reach-line.js'
import { Scanner } from '../ui/scanner.js'

export function ContactsScreen(props: { addLink: string | undefined; selected: string | undefined }) {
  const client = useClient()
  const card = useQuery('card', {}, { events: [] })
  const contacts = useQuery('contactList', {}, { events: ['contact'] })
  const [adding, setAdding] = useState(props.addLink !== undefined)
  const [link, setLink] = useState(props.addLink ?? '')
  const [scanning, setScanning] = useState(false)
  const [busy, setBusy] = useState(false)
  const [search, setSearch] = useState('')
  const [joining, setJoining] = useState<{ id: string; name: string } | undefined>(undefined)
  // A join waits a few seconds for the admin's peer: said, so the closed scanner is not the end.
  const [asking, setAsking] = useState(false)

  const add = async (value: string) => {
    const text = value.trim()
    if (text === '' || busy) return
    setBusy(true)
    try {
      if (isGroupLink(text)) {
        setAsking(true)
        const { group, state } = await client.call('groupJoin', { link: text })
        groupsTouched()
        setLink('')
        setAdding(false)
        setJoining({ id: group.id, name: group.name })
        if (state === 'joined') notify('groups.joined', { name: group.name })
        return
      }
      const c = await client.call('addContact', { link: text })
      notify('contacts.added', { name: c.name })
      setLink('')
      setAdding(false)
      contacts.reload()
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
      setAsking(false)
    }
  }

  // What a camera or a picture decoded: added if it is a card, joined if a group's invite, else
  // said so.
  const addScanned = (text: string) => {
    if (!isCardLink(text) && !isGroupLink(text)) notify('contacts.notACard', undefined, true)
    else void add(text)
  }

  const scanImage = async (input: HTMLInputElement) => {
    const file = input.files?.[0]
    input.value = ''
    if (file === undefined) return
    try {
      const text = await decodeQrImage(file)
      if (text === undefined) notify('contacts.noQrInImage', undefined, true)
      else addScanned(text)
    } catch {
      notify('contacts.noQrInImage', undefined, true)
    }
  }

  useEffect(() => {
    if (props.addLink !== undefined) document.getElementById('contact-link')?.focus()
  }, [])

  // A peer in a browser tab has addresses only once its relay slot is granted (a second or so
  // after it starts): until then its card could not be reached, so it is read again.
  const addressless = card.data !== undefined && card.data.addrs.length === 0
  useEffect(() => {
    if (!addressless) return
    const timer = setInterval(() => card.reload(), 2_000)
    return () => clearInterval(timer)
  }, [addressless, card.reload])

  const list = contacts.data ?? []
  const requests = list.filter((c) => c.state === 'pending-in')
  const others = list
    .filter((c) => c.state !== 'pending-in' && nameMatches(c, search))
    .sort((a, b) => shownName(a).localeCompare(shownName(b)))

  return (
    <section class="pane list contacts" aria-labelledby="contacts-title">
      <header class="pane-header">
        <h1 id="contacts-title">{t('contacts.title')}</h1>
        <button
          type="button"
          class="button primary"
          aria-expanded={adding}
          onClick={() => setAdding(!adding)}
        >
          <Icon name="plus" size={18} /> {t('contacts.add')}
        </button>
      </header>
      <div class="scroll">
        {joining !== undefined && <GroupJoinStatus group={joining} onClose={() => setJoining(undefined)} />}
        {adding && (
          <form
            class="card add-contact"
            onSubmit={(e) => {
              e.preventDefault()
              void add(link)
            }}
          >
            {props.addLink !== undefined && link === props.addLink && (
              <p class="hint">{t('contacts.openFromLink')}</p>
            )}
            <label for="contact-link">{t('contacts.link')}</label>
            <div class="field-row">
              <input
                id="contact-link"
                type="text"
                autoComplete="off"
                spellcheck={false}
                placeholder={t('contacts.linkPlaceholder')}
                value={link}
                onInput={(e) => setLink((e.target as HTMLInputElement).value)}
              />
              <button type="submit" class="button primary" disabled={busy || link.trim() === ''}>
                {t('contacts.addButton')}
              </button>
            </div>
            <p class="hint">{t('contacts.groupLinkHint')}</p>
            {asking && <p role="status">{t('groups.asking')}</p>}
            {scanning ? (
              <Scanner
                onCode={(text) => {
                  setScanning(false)
                  addScanned(text)
                }}
                onClose={() => setScanning(false)}
              />
            ) : (
              <div class="field-row scan-row">
                <button type="button" class="button" onClick={() => setScanning(true)}>
                  <Icon name="qr" size={18} /> {t('contacts.scan')}
                </button>
                <label class="button">
                  <Icon name="image" size={18} /> {t('contacts.scanImage')}
                  <input
                    type="file"
                    accept="image/*"
                    class="sr-only"
                    onChange={(e) => void scanImage(e.currentTarget)}
                  />
                </label>
              </div>
            )}
          </form>
        )}

        {requests.length > 0 && (
          <section class="card" aria-labelledby="requests-title">
            <h2 id="requests-title">{t('contacts.requests')}</h2>
            <ul class="rows">
              {requests.map((c) => (
                <Request key={c.id} c={c} onDone={contacts.reload} />
              ))}
            </ul>
          </section>
        )}

        <section class="card my-card" aria-labelledby="mycard-title">
          <h2 id="mycard-title">{t('contacts.myQr')}</h2>
          {card.data !== undefined && (
            <>
              <QrImage text={card.data.qr} label={t('contacts.myQr')} size={220} />
              <p class="hint">{t('contacts.myQrHint')}</p>
              <details>
                <summary>{t('contacts.myLink')}</summary>
                <code class="link-text" data-testid="my-link">
                  {card.data.link}
                </code>
                <button
                  type="button"
                  class="button"
                  onClick={() =>
                    navigator.clipboard
                      .writeText(card.data!.link)
                      .then(() => notify('contacts.copied'))
                      .catch(notifyError)
                  }
                >
                  {t('contacts.copyLink')}
                </button>
              </details>
            </>
          )}
        </section>

        <section class="card" aria-labelledby="list-title">
          <h2 id="list-title">{t('contacts.list')}</h2>
          <a class="row labels-link" href={href({ name: 'labels' })}>
            <span class="avatar labels-icon" aria-hidden="true">
              <Icon name="tag" size={22} />
            </span>
            <span class="row-main">
              <span class="row-title">{t('labels.title')}</span>
            </span>
          </a>
          {list.length > 1 && (
            <input
              type="search"
              class="contact-search"
              aria-label={t('contacts.search')}
              placeholder={t('contacts.search')}
              value={search}
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          )}
          {contacts.data !== undefined && others.length === 0 && (
            <p class="hint">{search.trim() === '' ? t('contacts.none') : t('contacts.noMatch')}</p>
          )}
          <ul class="rows">
            {others.map((c) => (
              <li key={c.id}>
                <a
                  class={`row ${props.selected === c.id ? 'selected' : ''}`}
                  href={href({ name: 'contact', id: c.id })}
                  aria-current={props.selected === c.id ? 'true' : undefined}
                >
                  <Avatar name={shownName(c)} id={c.id} picture={c.picture} />
                  <span class="row-main">
                    <span class="row-title">{shownName(c)}</span>
                    <span class="row-text">
                      {c.state === 'pending-out'
                        ? t('contacts.pendingOut')
                        : c.online
                          ? t('chat.online')
                          : t('chat.offline')}
                      {c.state !== 'pending-out' && reachTag(c) !== undefined && (
                        <span class="reach" data-reach={c.reach}>
                          {' · '}
                          {reachTag(c)}
                        </span>
                      )}
                      {c.lastError != null && !c.online && (
                        <span class="unreachable">
                          {' · '}
                          {t('contacts.unreachable')}
                        </span>
                      )}
                      {c.verified && (
                        <span class="verified">
                          {' · '}
                          {t('contacts.verified')}
                        </span>
                      )}
                      {c.labels.length > 0 && <span class="row-labels">{` · ${c.labels.join(', ')}`}</span>}
                    </span>
                  </span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </section>
  )
}

function Request(props: { c: ContactView; onDone: () => void }) {
  const client = useClient()
  const { c } = props
  const [busy, setBusy] = useState(false)
  const run = (method: 'accept' | 'reject') => {
    setBusy(true)
    client
      .call(method, { contact: c.id })
      .then(() => {
        props.onDone()
        if (method === 'accept') go({ name: 'chat', id: c.id })
      })
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return (
    <li class="row request">
      <Avatar name={c.name} id={c.id} />
      <span class="row-main">
        <span class="row-title">{t('contacts.wantsToAdd', { name: c.name })}</span>
      </span>
      <span class="row-actions">
        <button type="button" class="button primary" disabled={busy} onClick={() => run('accept')}>
          {t('contacts.accept')}
        </button>
        <button type="button" class="button" disabled={busy} onClick={() => run('reject')}>
          {t('contacts.reject')}
        </button>
      </span>
    </li>
  )
}
