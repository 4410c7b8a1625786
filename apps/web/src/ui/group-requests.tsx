/**
 * Join requests waiting for an admin (入群申请): people who used an invite of ours while the group
 * asks for approval. Only the admin whose invite was used holds a request, so only their page
 * lists it.
 */
import { useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { type GroupView, groupsTouched } from '../lib/groups.js'
import { Avatar } from './avatar.js'
import { notify, notifyError } from './notice.js'

export function GroupRequests(props: { g: GroupView }) {
  const { g } = props
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const approve = (id: string, name: string) => {
    setBusy(true)
    client
      .call('groupApprove', { group: g.id, member: id })
      .then(() => {
        groupsTouched()
        notify('groups.approved', { name })
      })
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return (
    <section class="card join-requests" aria-labelledby="join-requests-title">
      <h2 id="join-requests-title">{t('groups.requests', { n: g.requests.length })}</h2>
      <ul class="rows">
        {g.requests.map((r) => (
          <li key={r.id} class="row request" data-member={r.id}>
            <Avatar name={r.name} id={r.id} />
            <span class="row-main">
              <span class="row-title">{r.name}</span>
            </span>
            <span class="row-actions">
              <button
                type="button"
                class="button small primary"
                disabled={busy}
                aria-label={t('groups.approveName', { name: r.name })}
                onClick={() => approve(r.id, r.name)}
              >
                {t('groups.approve')}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}
