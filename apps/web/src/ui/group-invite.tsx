/**
 * An admin's group invite (WeChat's 群二维码): a QR code and its `jiayi:group/…` link, signed by
 * the admin's peer, with its expiry, to copy or revoke. Core makes and checks invites; the page
 * shows the one it asked for.
 */
import type { ResultOf } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { formatDateTime, t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { type GroupView, groupsTouched } from '../lib/groups.js'
import { notify, notifyError } from './notice.js'
import { QrImage } from './qr.js'

type Invite = ResultOf<'groupInvite'>

/**
 * The invite this page last made for each group, so that leaving the group's page and coming
 * back shows the same one (and can still revoke it) instead of making another each time. Core
 * keeps no list of an admin's invites to read back.
 */
const shown = new Map<string, Invite>()

function current(group: string): Invite | undefined {
  const invite = shown.get(group)
  if (invite !== undefined && Date.parse(invite.expiresAt) <= Date.now()) shown.delete(group)
  return shown.get(group)
}

export function GroupInvite(props: { g: GroupView }) {
  const { g } = props
  const client = useClient()
  const [invite, setInvite] = useState(() => current(g.id))
  const [busy, setBusy] = useState(false)

  const run = (work: () => Promise<void>) => {
    setBusy(true)
    work()
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  const make = () =>
    run(async () => {
      const made = await client.call('groupInvite', { group: g.id })
      shown.set(g.id, made)
      setInvite(made)
    })
  const revoke = (made: Invite) => {
    if (!confirm(t('groups.revokeConfirm'))) return
    run(async () => {
      await client.call('groupRevokeInvite', { group: g.id, invite: made.id })
      shown.delete(g.id)
      setInvite(undefined)
      groupsTouched()
      notify('groups.revoked')
    })
  }

  return (
    <section class="card group-invite" aria-labelledby="group-invite-title">
      <h2 id="group-invite-title">{t('groups.inviteTitle')}</h2>
      <p class="hint">{t(g.joinApproval ? 'groups.inviteHintApproval' : 'groups.inviteHintOpen')}</p>
      {invite === undefined ? (
        <button type="button" class="button primary" disabled={busy} onClick={make}>
          {t('groups.invite')}
        </button>
      ) : (
        <>
          <QrImage text={invite.qr} label={t('groups.inviteQr', { name: g.name })} size={264} />
          <p class="hint" data-testid="group-invite-expiry">
            {t('groups.inviteExpires', { date: formatDateTime(invite.expiresAt) })}
          </p>
          <code class="link-text" data-testid="group-invite-link">
            {invite.link}
          </code>
          <div class="field-row">
            <button
              type="button"
              class="button"
              onClick={() =>
                navigator.clipboard
                  .writeText(invite.link)
                  .then(() => notify('contacts.copied'))
                  .catch(notifyError)
              }
            >
              {t('groups.copyInvite')}
            </button>
            <button type="button" class="button danger" disabled={busy} onClick={() => revoke(invite)}>
              {t('groups.revokeInvite')}
            </button>
          </div>
        </>
      )}
    </section>
  )
}
