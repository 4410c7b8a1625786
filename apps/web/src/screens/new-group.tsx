/**
 * A new group (发起群聊): a name and the accepted contacts to start it with, picked by checkbox
 * (found by name or remark). Core makes us its owner and tells each member; the group opens.
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { groupsTouched } from '../lib/groups.js'
import { nameMatches, shownName } from '../lib/names.js'
import { go, href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { Icon } from '../ui/icons.js'
import { notifyError } from '../ui/notice.js'

export function NewGroupScreen() {
  const client = useClient()
  const contacts = useQuery('contactList', {}, { events: ['contact'] })
  const accepted = (contacts.data ?? [])
    .filter((c) => c.state === 'accepted')
    .sort((a, b) => shownName(a).localeCompare(shownName(b)))
  const [name, setName] = useState('')
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set())
  const [search, setSearch] = useState('')
  const [busy, setBusy] = useState(false)
  const shown = accepted.filter((c) => picked.has(c.id) || nameMatches(c, search))
  const chosen = accepted.filter((c) => picked.has(c.id))

  const toggle = (id: string, on: boolean) =>
    setPicked((now) => {
      const next = new Set(now)
      if (on) next.add(id)
      else next.delete(id)
      return next
    })

  const create = async () => {
    if (busy || name.trim() === '') return
    setBusy(true)
    try {
      const group = await client.call('createGroup', {
        name: name.trim(),
        contacts: chosen.map((c) => c.id),
      })
      groupsTouched()
      go({ name: 'group', id: group.id })
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="pane detail new-group" aria-labelledby="new-group-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'chats' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <h1 id="new-group-title">{t('groups.new')}</h1>
      </header>
      <form
        class="scroll"
        aria-labelledby="new-group-title"
        onSubmit={(e) => {
          e.preventDefault()
          void create()
        }}
      >
        <div class="card">
          <label for="group-name">{t('groups.name')}</label>
          <input
            id="group-name"
            type="text"
            autoComplete="off"
            maxLength={64}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <fieldset class="card member-picker">
          <legend>{t('groups.pick')}</legend>
          {contacts.data !== undefined && accepted.length === 0 ? (
            <p class="hint">
              {t('groups.noContacts')} <a href={href({ name: 'contacts' })}>{t('chats.addContact')}</a>
            </p>
          ) : (
            <>
              <input
                type="search"
                class="contact-search"
                aria-label={t('contacts.search')}
                placeholder={t('contacts.search')}
                value={search}
                onInput={(e) => setSearch(e.currentTarget.value)}
              />
              <ul class="rows">
                {shown.map((c) => (
                  <li key={c.id}>
                    <label class="row pick">
                      <input
                        type="checkbox"
                        checked={picked.has(c.id)}
                        onChange={(e) => toggle(c.id, e.currentTarget.checked)}
                      />
                      <Avatar name={shownName(c)} id={c.id} picture={c.picture} />
                      <span class="row-title">{shownName(c)}</span>
                    </label>
                  </li>
                ))}
              </ul>
              {shown.length === 0 && <p class="hint">{t('contacts.noMatch')}</p>}
            </>
          )}
        </fieldset>
        <div class="card">
          <p class="hint" role="status">
            {t('groups.picked', { n: chosen.length })}
          </p>
          <button type="submit" class="button primary" disabled={busy || name.trim() === ''}>
            {t('groups.create')}
          </button>
        </div>
      </form>
    </section>
  )
}
