/**
 * Join requests waiting for an admin (入群申请): people who used an invite of ours while the group
 * asks for approval. Only the admin whose invite was used holds a request, so only their page
 * lists it. Each is let in (Approve) or turned down (Refuse: the joiner's page says so).
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
  /** Approves or refuses (core checks that we may; the joiner is told either way). */
  const answer = (method: 'groupApprove' | 'groupRefuse', id: string, name: string) => {
    setBusy(true)
    client
      .call(method, { group: g.id, member: id })
      .then(() => {
        groupsTouched()
        notify(method === 'groupApprove' ? 'groups.approved' : 'groups.refused', { name })
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
                onClick={() => answer('groupApprove', r.id, r.name)}
              >
                {t('groups.approve')}
              </button>
              <button
                type="button"
                class="button small danger"
                disabled={busy}
                aria-label={t('groups.refuseName', { name: r.name })}
                onClick={() => answer('groupRefuse', r.id, r.name)}
              >
                {t('groups.refuse')}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}
