/**
 * Joining a group by its QR code (群二维码) in the web app, in Debian's Chromium against real
 * `jiayi start` processes on 127.0.0.1: Alice's page makes a group and shows its invite QR code
 * with link and expiry; a screenshot of that image becomes the fake camera's video; Bob (no
 * contact of Alice's) scans it with the add-contact scanner (where a broken pasted link is
 * refused in words) and waits for approval, Alice lets him in from Group info, they write to
 * each other in the group, and Bob's page in 中文 lists the members with their roles. Carol
 * pastes the link and Alice refuses her: Carol's page says she was turned down. Finally Alice
 * revokes the invite.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import {
  cleanup,
  ensureWebBuilt,
  launchBrowser,
  NodePeer,
  openApp,
  outputDir,
  screenshotQr,
} from './helpers.js'

const GROUP = '茶友 Tea friends'

let alice: NodePeer
let bob: NodePeer
let carol: NodePeer
let browser: Browser
let work: string
let video: string

before(async () => {
  ensureWebBuilt()
  work = await mkdtemp(join(tmpdir(), 'jyw-join-'))
  video = join(work, 'invite.y4m')
  ;[alice, bob, carol] = await Promise.all([
    NodePeer.start('Alice'),
    NodePeer.start('Bob'),
    NodePeer.start('Carol'),
  ])
  // One browser for both pages: Chromium opens the fake camera's file only when a page asks for
  // the camera, so the file can be written after launch, once Alice's page has shown the code.
  browser = await launchBrowser({ fakeVideo: video })
})

after(async () => {
  await browser?.close()
  await cleanup()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

/** A one-second .y4m of the picture centred on a white 640×480 frame, at its own pixel size. */
function toVideo(png: string, y4m: string): void {
  const ffmpeg = spawnSync(
    'ffmpeg',
    [
      '-y',
      '-loop',
      '1',
      '-i',
      png,
      '-vf',
      'pad=640:480:(ow-iw)/2:(oh-ih)/2:color=white,format=yuv420p',
      '-r',
      '10',
      '-t',
      '1',
      '-pix_fmt',
      'yuv420p',
      y4m,
    ],
    { stdio: 'pipe' },
  )
  assert.equal(
    ffmpeg.status,
    0,
    `ffmpeg (apt-get install -y ffmpeg): ${ffmpeg.stderr?.toString().slice(-500)}`,
  )
}

test('an invite QR code shown by an admin, scanned by a stranger, approved, then a group chat', async () => {
  const shots = await outputDir('group-join')
  const [a, b] = await Promise.all([
    openApp(browser, alice.web),
    openApp(browser, bob.web, { viewport: { width: 375, height: 667 } }),
  ])
  try {
    await a.page.getByRole('link', { name: 'New group' }).click()
    await a.page.getByLabel('Group name').fill(GROUP)
    await a.page.getByRole('button', { name: 'Create group' }).click()
    await a.page.getByRole('heading', { level: 1, name: GROUP }).waitFor({ timeout: 15_000 })
    const groupId = /#\/group\/([0-9a-f]+)$/.exec(a.page.url())![1]!
    await a.page.getByRole('link', { name: 'Group info' }).click()

    const invite = a.page.getByRole('region', { name: 'Group QR code' })
    await invite.getByRole('button', { name: 'Invite', exact: true }).click()
    const link = (await invite.getByTestId('group-invite-link').textContent()) ?? ''
    assert.match(link, /^jiayi:group\//)
    await invite.getByText(/^Valid until /).waitFor()
    await invite.getByRole('button', { name: 'Copy invite link' }).waitFor()
    const qr = await screenshotQr(a.page.getByRole('img', { name: `QR code to join ${GROUP}` }))
    assert.equal(qr.text.toLowerCase(), link.toLowerCase(), 'the image holds the link (upper-cased)')
    const png = join(work, 'invite.png')
    await writeFile(png, qr.png)
    toVideo(png, video)
    await a.page.screenshot({ path: join(shots, 'invite-en.png'), fullPage: true })

    // Bob scans it where he would scan a contact's code.
    await b.page.getByRole('navigation').getByRole('link', { name: 'Contacts', exact: true }).click()
    await b.page.getByRole('button', { name: 'Add contact' }).click()
    // A pasted group link goes the same way; a broken one is refused in words.
    await b.page.getByRole('textbox', { name: 'Contact link' }).fill('jiayi:group/NOT-AN-INVITE')
    await b.page.getByRole('button', { name: 'Add', exact: true }).click()
    await b.page.getByRole('alert').getByText('That is not a valid Jiayi group invite.').waitFor()
    await b.page.getByRole('button', { name: 'Scan QR code' }).click()
    const state = b.page.getByTestId('group-join-state')
    await state
      .getByText(`You asked to join ${GROUP}. Waiting for an admin's approval.`)
      .waitFor({ timeout: 20_000 })
    assert.equal(await b.page.locator('.scanner video').count(), 0, 'the camera is released')
    await b.page.screenshot({ path: join(shots, 'join-pending-phone.png') })

    // Alice's page lists the request as it arrives, and lets him in.
    const requests = a.page.getByRole('region', { name: 'Join requests (1)' })
    await requests.getByRole('button', { name: 'Let Bob join' }).click({ timeout: 15_000 })
    await a.page
      .getByRole('region', { name: 'Members' })
      .getByRole('heading', { name: 'Members (2)' })
      .waitFor()
    assert.equal(await requests.count(), 0, 'no request left')

    await state.getByText(`You joined ${GROUP}.`).waitFor({ timeout: 20_000 })
    await b.page.getByRole('link', { name: 'Open group' }).click()
    await b.page.getByRole('heading', { level: 1, name: GROUP }).waitFor()
    await b.page.getByLabel('Message', { exact: true }).fill('扫码进群了 scanned in')
    await b.page.getByRole('button', { name: 'Send' }).click()

    await a.page.goto(`${alice.origin}/#/group/${groupId}`)
    const aMessages = a.page.getByTestId('group-messages')
    const bobs = aMessages.locator('li', { hasText: '扫码进群了 scanned in' })
    await bobs.waitFor({ timeout: 20_000 })
    assert.equal(await bobs.locator('.msg-sender').textContent(), 'Bob')
    await a.page.getByLabel('Message', { exact: true }).fill('欢迎 welcome, Bob')
    await a.page.getByRole('button', { name: 'Send' }).click()
    await b.page.getByTestId('group-messages').getByText('欢迎 welcome, Bob').waitFor({ timeout: 20_000 })

    // Bob's page in 中文: the members with their roles.
    await b.page.goto(`${bob.origin}/#/settings`)
    await b.page.locator('select#language').selectOption('zh-CN')
    await b.page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
    await b.page.goto(`${bob.origin}/#/group-info/${groupId}`)
    const members = b.page.getByRole('region', { name: '群成员' })
    await members.getByRole('heading', { name: '群成员（2）' }).waitFor({ timeout: 15_000 })
    const member = (name: string) => members.getByRole('listitem').filter({ hasText: name })
    await member('Alice').getByText('群主', { exact: true }).waitFor()
    await member('Bob').getByText('（我）').waitFor()
    assert.equal(
      await b.page.getByRole('region', { name: '群二维码' }).count(),
      0,
      'a member makes no invites',
    )
    await b.page.screenshot({ path: join(shots, 'members-zh-phone.png'), fullPage: true })

    // Carol pastes the same link; Alice turns her down, and Carol's page says so.
    const c = await openApp(browser, carol.web)
    try {
      await c.page.getByRole('navigation').getByRole('link', { name: 'Contacts', exact: true }).click()
      await c.page.getByRole('button', { name: 'Add contact' }).click()
      await c.page.getByRole('textbox', { name: 'Contact link' }).fill(link)
      await c.page.getByRole('button', { name: 'Add', exact: true }).click()
      const carolState = c.page.getByTestId('group-join-state')
      await carolState.getByText(/Waiting for an admin's approval/).waitFor({ timeout: 20_000 })
      await a.page.getByRole('link', { name: 'Group info' }).click()
      await a.page
        .getByRole('region', { name: 'Join requests (1)' })
        .getByRole('button', { name: 'Refuse Carol' })
        .click({ timeout: 15_000 })
      await a.page.getByText('You turned down Carol; they are told.').waitFor()
      await carolState
        .getByText(`An admin of ${GROUP} turned down your request to join.`)
        .waitFor({ timeout: 20_000 })
      assert.equal((await carol.call<unknown[]>('groups')).length, 0, 'Carol is not in')
      assert.ok(
        !(await alice.call<{ members: { name: string }[] }>('group', { group: groupId })).members.some(
          (m) => m.name === 'Carol',
        ),
      )
      await c.page.screenshot({ path: join(shots, 'join-refused.png') })
    } finally {
      await c.context.close()
    }

    // Alice withdraws the invite: the page offers to make a new one.
    await invite.getByRole('button', { name: 'Revoke invite' }).click()
    await invite.getByRole('button', { name: 'Invite', exact: true }).waitFor({ timeout: 15_000 })
    await a.page.getByText('Invite revoked').waitFor()
  } finally {
    await a.context.close()
    await b.context.close()
  }
})
