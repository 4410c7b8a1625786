/**
 * First run of a peer in this browser: create an identity, restore a backup, link to an existing
 * device, or unlock. On the
 * LAN page (lib/lan.ts) it first shows the connection check, and the passphrase lock is on unless
 * the user turns it off.
 */
import { useState } from 'preact/hooks'
import type { Onboarding as OnboardingApi } from '../client/types.js'
import { t } from '../i18n/index.js'
import { isLanPage } from '../lib/lan.js'
import { LanCheck } from '../ui/lan-check.js'
import { notifyError } from '../ui/notice.js'
import { PasswordField } from '../ui/password-field.js'

export function Onboarding(props: { onboarding: OnboardingApi; locked: boolean; onReady: () => void }) {
  const o = props.onboarding
  const [name, setName] = useState('')
  const [pass, setPass] = useState('')
  const lan = isLanPage()
  // Offered by default where another device could one day serve the same origin (lib/lan.ts).
  const [lock, setLock] = useState(lan)
  const [file, setFile] = useState<File | undefined>(undefined)
  const [backupPass, setBackupPass] = useState('')
  const [link, setLink] = useState('')
  // The code this tab shows while linking: the person types it on their other device.
  const [code, setCode] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState<'create' | 'restore' | 'unlock' | 'link' | undefined>(undefined)
  const run = (what: 'create' | 'restore' | 'unlock' | 'link', work: () => Promise<void>) => {
    setBusy(what)
    work()
      .then(props.onReady)
      .catch(notifyError)
      .finally(() => {
        setBusy(undefined)
        setCode(undefined)
      })
  }
  if (props.locked)
    return (
      <main class="onboarding">
        <img src="/icon.svg" width={72} height={72} alt="" />
        <h1>{t('onboarding.locked')}</h1>
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault()
            run('unlock', () => o.unlock(pass))
          }}
        >
          <PasswordField
            id="unlock-pass"
            label={t('onboarding.passphrase')}
            autoComplete="current-password"
            value={pass}
            onValue={setPass}
          />
          <button type="submit" class="button primary" disabled={busy !== undefined || pass === ''}>
            {t('onboarding.unlock')}
          </button>
        </form>
      </main>
    )
  return (
    <main class="onboarding">
      <img src="/icon.svg" width={72} height={72} alt="" />
      <h1>{t('onboarding.title')}</h1>
      <p class="hint">{t('onboarding.subtitle')}</p>
      {lan && <LanCheck />}
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault()
          run('create', () => o.create(name.trim(), lan && !lock ? undefined : pass || undefined))
        }}
      >
        <label for="ob-name">{t('onboarding.name')}</label>
        <input
          id="ob-name"
          type="text"
          autoComplete="nickname"
          maxLength={64}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        {lan && (
          <label class="check">
            <input
              type="checkbox"
              checked={lock}
              onChange={(e) => setLock((e.target as HTMLInputElement).checked)}
            />
            {t('onboarding.lock')}
          </label>
        )}
        {(!lan || lock) && (
          <PasswordField
            id="ob-pass"
            label={lan ? t('onboarding.passphraseRequired') : t('onboarding.passphrase')}
            autoComplete="new-password"
            value={pass}
            onValue={setPass}
          />
        )}
        <p class="hint small">{lan && !lock ? t('onboarding.lockHint') : t('onboarding.passphraseHint')}</p>
        <button
          type="submit"
          class="button primary"
          disabled={busy !== undefined || name.trim() === '' || (lan && lock && pass.length < 8)}
        >
          {busy === 'create' ? t('onboarding.creating') : t('onboarding.create')}
        </button>
      </form>
      <p class="or">{t('onboarding.or')}</p>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault()
          if (file) run('restore', () => o.restore(file, backupPass))
        }}
      >
        <h2>{t('onboarding.restoreTitle')}</h2>
        <label for="ob-file">{t('onboarding.backupFile')}</label>
        <input
          id="ob-file"
          type="file"
          accept=".jiayi,application/x-jiayi-backup"
          onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])}
        />
        <PasswordField
          id="ob-bpass"
          label={t('onboarding.backupPassphrase')}
          autoComplete="current-password"
          value={backupPass}
          onValue={setBackupPass}
        />
        <button
          type="submit"
          class="button"
          disabled={busy !== undefined || file === undefined || backupPass === ''}
        >
          {busy === 'restore' ? t('onboarding.restoring') : t('onboarding.restore')}
        </button>
      </form>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault()
          run('link', () => o.link(link.trim(), setCode, lan && !lock ? undefined : pass || undefined))
        }}
      >
        <h2>{t('onboarding.linkTitle')}</h2>
        <p class="hint small">{t('onboarding.linkHint')}</p>
        <label for="ob-link">{t('onboarding.deviceLink')}</label>
        <input
          id="ob-link"
          type="text"
          autoComplete="off"
          value={link}
          onInput={(e) => setLink((e.target as HTMLInputElement).value)}
        />
        {code !== undefined && (
          <p class="hint" role="status" data-testid="link-code">
            {t('onboarding.linkCode', { code })}
          </p>
        )}
        <button type="submit" class="button" disabled={busy !== undefined || link.trim() === ''}>
          {busy === 'link' ? t('onboarding.linking') : t('onboarding.link')}
        </button>
      </form>
    </main>
  )
}
