/**
 * A group's members and settings (聊天信息): the members with their roles (群主 owner, 管理员
 * admin), and what the user's role lets them do there: rename the group, add a contact, remove a
 * member, promote or demote one and hand ownership on (the owner), show the group's invite QR
 * code, let waiting join requests in or turn them down, and switch join approval and admins-only
 * posting (admins; members see the switches read-only); and leaving the group.
 * Which buttons show follows core's rules (groups/state.ts) as a courtesy; core decides, and its
 * refusal is shown as any other error.
 */
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { type GroupRole, type GroupView, groupsTouched, myRole, useGroupsTouched } from '../lib/groups.js'
import { useMyId } from '../lib/me.js'
import { shownName } from '../lib/names.js'
import { go, href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { GroupInvite } from '../ui/group-invite.js'
import { GroupRequests } from '../ui/group-requests.js'
import { Icon } from '../ui/icons.js'
import { notify, notifyError } from '../ui/notice.js'

/** Runs a group change, then lets every screen showing the group read it again. */
function useChange(): { busy: boolean; run: (change: () => Promise<unknown>, done?: () => void) => void } {
  const [busy, setBusy] = useState(false)
  const run = (change: () => Promise<unknown>, done?: () => void) => {
    setBusy(true)
    change()
      .then(() => {
        groupsTouched()
        done?.()
      })
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return { busy, run }
}

export function GroupInfoScreen(props: { group: string }) {
  const group = useQuery('group', { group: props.group }, { events: ['group', 'contact'] })
  useGroupsTouched(group.reload)
  const me = useMyId()
  const g = group.data
  if (g === undefined)
    return group.error !== undefined ? (
      <section class="pane detail">
        <p class="hint error">{errorText(group.error)}</p>
      </section>
    ) : (
      <section class="pane detail" aria-busy="true" />
    )
  const role = myRole(g, me)
  const admin = role === 'owner' || role === 'admin'
  return (
    <section class="pane detail group-info" aria-labelledby="group-info-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'group', id: g.id })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <h1 id="group-info-title">{t('groups.infoTitle', { name: g.name, n: g.members.length })}</h1>
      </header>
      <div class="scroll">
        {group.error !== undefined && <p class="card hint error">{errorText(group.error)}</p>}
        {admin && g.requests.length > 0 && <GroupRequests g={g} />}
        <Members g={g} me={me} role={role} />
        {(admin || (role !== undefined && !g.joinApproval)) && <AddMember g={g} />}
        {role !== undefined && <Settings g={g} admin={admin} />}
        {admin && <GroupInvite key={g.id} g={g} />}
        {admin && <Rename g={g} />}
        {role !== undefined && <Leave g={g} owner={role === 'owner'} />}
      </div>
    </section>
  )
}

/** What the user, as `me`, may do to a member with role `target` (core's rules, shown early). */
function offered(me: GroupRole | undefined, target: GroupRole) {
  return {
    remove: me === 'owner' || (me === 'admin' && target === 'member'),
    promote: me === 'owner' && target === 'member',
    demote: me === 'owner' && target === 'admin',
    transfer: me === 'owner',
  }
}

function Members(props: { g: GroupView; me: string | undefined; role: GroupRole | undefined }) {
  const { g } = props
  const client = useClient()
  const { busy, run } = useChange()
  // The owner first, then admins, then everyone else, each by name.
  const rank = { owner: 0, admin: 1, member: 2 } as const
  const members = [...g.members].sort((a, b) => rank[a.role] - rank[b.role] || a.name.localeCompare(b.name))
  return (
    <section class="card members" aria-label={t('groups.members')}>
      <h2>{t('groups.membersCount', { n: g.members.length })}</h2>
      <ul class="rows">
        {members.map((m) => {
          const mine = m.id === props.me
          const can = mine ? undefined : offered(props.role, m.role)
          const member = { group: g.id, member: m.id }
          return (
            <li key={m.id} class="row member" data-member={m.id}>
              <Avatar name={m.name} id={m.id} />
              <span class="row-main">
                <span class="row-title">
                  {m.name}
                  {mine && <span class="muted"> {t('groups.you')}</span>}
                </span>
              </span>
              {m.role !== 'member' && <span class={`role role-${m.role}`}>{t(`groups.role.${m.role}`)}</span>}
              {can !== undefined && (can.remove || can.promote || can.demote || can.transfer) && (
                <span class="row-actions">
                  {can.promote && (
                    <button
                      type="button"
                      class="button small"
                      disabled={busy}
                      aria-label={t('groups.promoteName', { name: m.name })}
                      onClick={() => run(() => client.call('groupPromote', member))}
                    >
                      {t('groups.promote')}
                    </button>
                  )}
                  {can.demote && (
                    <button
                      type="button"
                      class="button small"
                      disabled={busy}
                      aria-label={t('groups.demoteName', { name: m.name })}
                      onClick={() => run(() => client.call('groupDemote', member))}
                    >
                      {t('groups.demote')}
                    </button>
                  )}
                  {can.transfer && (
                    <button
                      type="button"
                      class="button small"
                      disabled={busy}
                      aria-label={t('groups.transferName', { name: m.name })}
                      onClick={() =>
                        confirm(t('groups.transferConfirm', { name: m.name })) &&
                        run(() => client.call('groupTransfer', member))
                      }
                    >
                      {t('groups.transfer')}
                    </button>
                  )}
                  {can.remove && (
                    <button
                      type="button"
                      class="button small danger"
                      disabled={busy}
                      aria-label={t('groups.removeName', { name: m.name })}
                      onClick={() =>
                        confirm(t('groups.removeConfirm', { name: m.name })) &&
                        run(() => client.call('groupRemove', member))
                      }
                    >
                      {t('groups.remove')}
                    </button>
                  )}
                </span>
              )}
            </li>
          )
        })}
      </ul>
    </section>
  )
}

/** An accepted contact who is not in the group yet, added. */
function AddMember(props: { g: GroupView }) {
  const client = useClient()
  const contacts = useQuery('contactList', {}, { events: ['contact'] })
  const inGroup = new Set(props.g.members.map((m) => m.id))
  const candidates = (contacts.data ?? [])
    .filter((c) => c.state === 'accepted' && !inGroup.has(c.id))
    .sort((a, b) => shownName(a).localeCompare(shownName(b)))
  const [picked, setPicked] = useState('')
  const chosen = candidates.some((c) => c.id === picked) ? picked : (candidates[0]?.id ?? '')
  const { busy, run } = useChange()
  return (
    <form
      class="card add-member"
      aria-labelledby="add-member-title"
      onSubmit={(e) => {
        e.preventDefault()
        if (chosen !== '') run(() => client.call('groupAdd', { group: props.g.id, contact: chosen }))
      }}
    >
      <h2 id="add-member-title">{t('groups.add')}</h2>
      {contacts.data !== undefined && candidates.length === 0 ? (
        <p class="hint">{t('groups.addNone')}</p>
      ) : (
        <div class="field-row">
          <select
            aria-label={t('groups.addWho')}
            value={chosen}
            onChange={(e) => setPicked(e.currentTarget.value)}
          >
            {candidates.map((c) => (
              <option key={c.id} value={c.id}>
                {shownName(c)}
              </option>
            ))}
          </select>
          <button type="submit" class="button primary" disabled={busy || chosen === ''}>
            {t('groups.addButton')}
          </button>
        </div>
      )}
    </form>
  )
}

/** Join approval (入群确认) and admins-only posting (仅群主/管理员可发言): switches for admins. */
function Settings(props: { g: GroupView; admin: boolean }) {
  const { g, admin } = props
  const client = useClient()
  const [busy, setBusy] = useState(false)
  // What the admin just chose, shown until the group read again says it (or the change fails).
  const [chosen, setChosen] = useState<{ joinApproval: boolean; adminsOnly: boolean } | undefined>()
  const shown = chosen ?? g
  const set = (change: { joinApproval?: boolean; adminsOnly?: boolean }) => {
    const next = {
      joinApproval: change.joinApproval ?? shown.joinApproval,
      adminsOnly: change.adminsOnly ?? shown.adminsOnly,
    }
    setChosen(next)
    setBusy(true)
    client
      .call('groupSettings', { group: g.id, ...next })
      .then(() => groupsTouched())
      .catch((error) => {
        setChosen(undefined)
        notifyError(error)
      })
      .finally(() => setBusy(false))
  }
  useEffect(() => {
    if (chosen?.joinApproval === g.joinApproval && chosen.adminsOnly === g.adminsOnly && !busy)
      setChosen(undefined)
  }, [chosen, g.joinApproval, g.adminsOnly, busy])
  return (
    <section class="card group-settings" aria-labelledby="group-settings-title">
      <h2 id="group-settings-title">{t('groups.settings')}</h2>
      <label class="check">
        <input
          type="checkbox"
          role="switch"
          checked={shown.joinApproval}
          aria-checked={shown.joinApproval}
          disabled={!admin || busy}
          onChange={(e) => set({ joinApproval: e.currentTarget.checked })}
        />
        {t('groups.joinApproval')}
      </label>
      <p class="hint">{t('groups.joinApprovalHint')}</p>
      <label class="check">
        <input
          type="checkbox"
          role="switch"
          checked={shown.adminsOnly}
          aria-checked={shown.adminsOnly}
          disabled={!admin || busy}
          onChange={(e) => set({ adminsOnly: e.currentTarget.checked })}
        />
        {t('groups.adminsOnlySwitch')}
      </label>
      {!admin && <p class="hint">{t('groups.settingsByAdmins')}</p>}
    </section>
  )
}

function Rename(props: { g: GroupView }) {
  const client = useClient()
  const [draft, setDraft] = useState<string | undefined>(undefined)
  const value = draft ?? props.g.name
  const { busy, run } = useChange()
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault()
        run(
          () => client.call('groupRename', { group: props.g.id, name: value.trim() }),
          () => {
            setDraft(undefined)
            notify('groups.renamed')
          },
        )
      }}
    >
      <label for="group-rename">{t('groups.name')}</label>
      <div class="field-row">
        <input
          id="group-rename"
          type="text"
          autoComplete="off"
          maxLength={64}
          value={value}
          onInput={(e) => setDraft(e.currentTarget.value)}
        />
        <button
          type="submit"
          class="button primary"
          disabled={busy || value.trim() === '' || value.trim() === props.g.name}
        >
          {t('groups.rename')}
        </button>
      </div>
    </form>
  )
}

function Leave(props: { g: GroupView; owner: boolean }) {
  const client = useClient()
  const { busy, run } = useChange()
  return (
    <section class="card">
      {props.owner && <p class="hint">{t('groups.ownerLeaves')}</p>}
      <button
        type="button"
        class="button danger"
        disabled={busy || props.owner}
        onClick={() =>
          confirm(t('groups.leaveConfirm', { name: props.g.name })) &&
          run(
            () => client.call('groupLeave', { group: props.g.id }),
            () => {
              notify('groups.left', { name: props.g.name })
              go({ name: 'chats' })
            },
          )
        }
      >
        {t('groups.leave')}
      </button>
    </section>
  )
}
