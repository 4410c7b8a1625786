/**
 * The web app as the UI of a node, in Debian's Chromium against real `jiayi start` processes on
 * 127.0.0.1: Alice uses the app (token URL), Bob is another `jiayi` process driven over its
 * control socket. Contact by link; chat both ways until the ticks read "Read"; a document and a
 * voice message each way with equal SHA-256; a Moments post with a link and a picture, liked and
 * commented on the other side; every screen in 中文 with no English left; the phone-sized layout
 * without horizontal scroll; screenshots of each screen in both languages in test-output/web.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { en } from '../../apps/web/src/i18n/en.js'
import { zhCN } from '../../apps/web/src/i18n/zh-CN.js'
import {
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  outputDir,
  sha256,
  sha256File,
  toneWav,
} from './helpers.js'

interface Contact {
  id: string
  name: string
  state: string
}
interface Message {
  id: string
  direction: 'in' | 'out'
  text: string
  status: string
  reactions?: { mine?: string; theirs?: string }
}
interface FileEntry {
  id: string
  name: string
  sha256: string
  path: string | null
  status: string
  mime: string
  direction: 'in' | 'out'
}
interface Transfer extends FileEntry {
  direction: 'in' | 'out'
  kind: string
}
interface Post {
  id: string
  text: string
  author: { name: string; me: boolean }
  links: { url: string }[]
  attachments: { ref: string; type: string }[]
  likes: { author: { name: string } }[]
  comments: { text: string; author: { name: string } }[]
}

const SCREENS = ['chats', 'conversation', 'contacts', 'contact', 'moments', 'settings'] as const

describe('the web app as the UI of a node', () => {
  let alice: NodePeer
  let bob: NodePeer
  let carol: NodePeer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let dir: string
  let files: string
  let bobAtAlice: Contact
  let aliceAtBob: Contact

  const nav = async (p: Page, name: string) => {
    await p.getByRole('navigation').getByRole('link', { name, exact: true }).click()
  }
  const openChat = async (p: Page) => {
    await p.goto(`${alice.origin}/#/chat/${bobAtAlice.id}`)
    await p.getByRole('textbox', { name: 'Message' }).waitFor()
  }

  before(async () => {
    ensureWebBuilt()
    dir = await outputDir('screens')
    files = await outputDir('files')
    await writeFile(join(files, 'tone.wav'), toneWav(3))
    ;[alice, bob, carol] = await Promise.all([
      NodePeer.start('Alice'),
      NodePeer.start('Bob'),
      NodePeer.start('Carol'),
    ])
    browser = await launchBrowser({ fakeAudio: join(files, 'tone.wav') })
    ;({ context, page } = await openApp(browser, alice.web))
  })

  after(async () => {
    await context?.close()
    await browser?.close()
    await cleanup()
  })

  test('add a contact by link; the other side accepts', async () => {
    await page.getByRole('heading', { name: 'Chats' }).waitFor()
    await nav(page, 'Contacts')
    await page.getByRole('img', { name: 'My QR code' }).waitFor()
    const card = await bob.call<{ link: string }>('card')
    await page.getByRole('button', { name: 'Add contact' }).click()
    await page.getByRole('textbox', { name: 'Contact link' }).fill(card.link)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    aliceAtBob = await eventually(
      async () => (await bob.call<Contact[]>('contactList')).find((c) => c.state === 'pending-in'),
      'the request at Bob',
    )
    await bob.call('accept', { contact: aliceAtBob.id })
    bobAtAlice = await eventually(
      async () => (await alice.call<Contact[]>('contactList')).find((c) => c.state === 'accepted'),
      'Bob accepted at Alice',
    )
    const row = page.locator('.contacts .row', { hasText: 'Bob' })
    await row.getByText('Request sent').waitFor({ state: 'detached', timeout: 15_000 })
  })

  test('chat both ways: links, typing, reactions, ticks reach read', async () => {
    await nav(page, 'Chats')
    await page.getByRole('link', { name: /Bob/ }).first().click()
    await page.getByRole('textbox', { name: 'Message' }).fill('Hello Bob, see https://example.com/docs')
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    // Bob reads it: Alice's tick turns to "Read".
    const sent = await eventually(
      async () =>
        (await bob.call<Message[]>('messages', { contact: aliceAtBob.id, peek: true })).find((m) =>
          m.text.startsWith('Hello Bob'),
        ),
      'the message at Bob',
    )
    await bob.call('messages', { contact: aliceAtBob.id })
    const bubble = page.locator(`li.msg[data-id="${sent.id}"]`)
    await bubble.getByRole('img', { name: 'Read' }).waitFor({ timeout: 15_000 })
    const link = bubble.getByRole('link', { name: 'https://example.com/docs' })
    assert.equal(await link.getAttribute('target'), '_blank')
    assert.match((await link.getAttribute('rel')) ?? '', /noopener/)
    // How it travelled is in the message's menu, not on the bubble.
    assert.equal(await bubble.getByText(/^(LAN|Direct|Relayed)$/).count(), 0)
    await bubble.hover()
    await bubble.getByRole('button', { name: 'Message actions' }).click()
    await page
      .getByRole('menu')
      .getByText(/^Sent (over your local network|straight to their device)$/)
      .waitFor()
    await bubble.getByRole('button', { name: 'Message actions' }).click()

    // The keyboard alone: Enter sends (Shift+Enter would add a line).
    const box = page.getByRole('textbox', { name: 'Message' })
    await box.focus()
    await page.keyboard.type('Typed and sent with Enter')
    await page.keyboard.press('Enter')
    await eventually(
      async () =>
        (await bob.call<Message[]>('messages', { contact: aliceAtBob.id, peek: true })).find(
          (m) => m.text === 'Typed and sent with Enter',
        ),
      'the Enter-sent message at Bob',
    )
    assert.equal(await box.inputValue(), '')

    // Bob types, then writes; Alice has the chat open, so it is read at once.
    await bob.call('setTyping', { contact: aliceAtBob.id, active: true })
    await page.getByText('typing…').waitFor({ timeout: 10_000 })
    const reply = await bob.call<Message>('send', { contact: aliceAtBob.id, text: 'Hi Alice 你好!' })
    await page.getByTestId('messages').getByText('Hi Alice 你好!').waitFor()
    await eventually(
      async () =>
        (await bob.call<Message[]>('messages', { contact: aliceAtBob.id, peek: true })).find(
          (m) => m.id === reply.id && m.status === 'read',
        ),
      "Bob's tick reaching read",
    )

    // A reaction from the message's menu reaches Bob.
    const theirs = page.locator(`li.msg[data-id="${reply.id}"]`)
    await theirs.hover()
    await theirs.getByRole('button', { name: 'Message actions' }).click()
    await theirs.getByRole('menuitem', { name: '👍' }).click()
    await eventually(
      async () =>
        (await bob.call<Message[]>('messages', { contact: aliceAtBob.id, peek: true })).find(
          (m) => m.id === reply.id && m.reactions?.theirs === '👍',
        ),
      'the reaction at Bob',
    )
  })

  test('a document each way, received with the same SHA-256', async () => {
    const doc = join(files, 'report.pdf')
    const docBytes = randomBytes(300_000)
    await writeFile(doc, docBytes)
    await openChat(page)
    await page.locator('.composer input[type=file]').setInputFiles(doc)
    const atBob = await eventually(
      async () =>
        (await bob.call<FileEntry[]>('files')).find(
          (f) => f.name === 'report.pdf' && f.status === 'complete',
        ),
      'the document at Bob',
    )
    assert.equal(atBob.sha256, sha256(docBytes))
    assert.equal(await sha256File(atBob.path!), sha256(docBytes))

    const back = join(files, 'price list.xlsx')
    const backBytes = randomBytes(150_000)
    await writeFile(back, backBytes)
    await bob.call('sendFile', { contact: aliceAtBob.id, source: back })
    const download = page.getByRole('button', { name: 'Download price list.xlsx' })
    await download.waitFor({ timeout: 20_000 })
    await page
      .locator('li.msg.in', { hasText: 'price list.xlsx' })
      .getByText('Spreadsheet', { exact: false })
      .waitFor()
    const [saved] = await Promise.all([page.waitForEvent('download'), download.click()])
    assert.equal(saved.suggestedFilename(), 'price list.xlsx')
    assert.equal(await sha256File((await saved.path())!), sha256(backBytes))
  })

  test('a voice message each way: recorded with MediaRecorder, and a generated audio file', async () => {
    await openChat(page)
    await page.getByRole('button', { name: 'Record voice message' }).click()
    await page.getByRole('timer').waitFor()
    await page.waitForTimeout(1_500)
    await page.getByRole('button', { name: 'Stop and send' }).click()
    const sent = await eventually(
      async () =>
        (await alice.call<Transfer[]>('transfers')).find((t) => t.direction === 'out' && t.kind === 'voice'),
      "Alice's voice transfer",
    )
    const atBob = await eventually(
      async () =>
        (await bob.call<FileEntry[]>('files')).find(
          (f) => f.sha256 === sent.sha256 && f.status === 'complete',
        ),
      'the voice message at Bob',
    )
    assert.match(atBob.mime, /^audio\//)
    assert.equal(await sha256File(atBob.path!), await sha256File(sent.path!), 'received = recorded upload')
    // Chromium's recordings carry no duration; the player still shows the real one before playing.
    const recorded = page.locator('li.msg.out audio[aria-label="Play voice message"]').last()
    await recorded.waitFor({ timeout: 20_000 })
    // The app finds the duration by seeking past the end and goes back to 0 on the next
    // timeupdate: the duration is known a moment before the position is back, so both are
    // checked in one poll.
    const recordedSeconds = await eventually(
      () =>
        recorded.evaluate((el: HTMLAudioElement) =>
          Number.isFinite(el.duration) && !el.seeking && el.currentTime === 0 ? el.duration : 0,
        ),
      'the recorded message shows its duration and is back at the start',
    )
    assert.ok(recordedSeconds > 0.5 && recordedSeconds < 10, `recorded duration ${recordedSeconds}`)

    const wav = join(files, 'hello.wav')
    const wavBytes = toneWav(2, 660)
    await writeFile(wav, wavBytes)
    await bob.call('sendFile', {
      contact: aliceAtBob.id,
      source: wav,
      kind: 'voice',
      mime: 'audio/wav',
      voice: { durationMs: 2000, waveform: Array.from({ length: 32 }, (_, i) => (i * 8) % 256) },
    })
    const audio = page.locator('li.msg.in audio[aria-label="Play voice message"]')
    await audio.waitFor({ timeout: 20_000 })
    // The page decoded it (a blob: URL of the bytes it fetched from the node)...
    const duration = await audio.evaluate(
      (el: HTMLAudioElement) =>
        new Promise<number>((resolve) => {
          if (el.readyState >= 1) resolve(el.duration)
          else el.addEventListener('loadedmetadata', () => resolve(el.duration), { once: true })
        }),
    )
    assert.ok(Math.abs(duration - 2) < 0.1, `duration ${duration}`)
    assert.match((await audio.getAttribute('src')) ?? '', /^blob:/)
    // ... which are the bytes Bob sent (the same endpoint, with the token).
    const id = await page
      .locator('li.msg.in', { has: page.locator('audio[aria-label="Play voice message"]') })
      .last()
      .getAttribute('data-id')
    const r = await fetch(`${alice.origin}/api/files/${id}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    })
    assert.equal(r.headers.get('content-type'), 'audio/wav')
    assert.equal(sha256(new Uint8Array(await r.arrayBuffer())), sha256(wavBytes))
  })

  test('Moments: a post with a link and a picture; likes and comments on the other side', async () => {
    await nav(page, 'Moments')
    const picture = join(files, 'shop.png')
    await page.setViewportSize({ width: 1280, height: 800 })
    await writeFile(picture, await page.screenshot({ clip: { x: 0, y: 0, width: 120, height: 90 } }))
    const pictureSha = await sha256File(picture)
    await page
      .getByRole('textbox', { name: 'New post' })
      .fill('Our new shop is open https://example.com/shop')
    await page.locator('.new-post input[type=file]').setInputFiles(picture)
    await page.getByRole('button', { name: 'Post', exact: true }).click()
    const post = await eventually(
      async () => (await bob.call<Post[]>('timeline')).find((p) => p.text.startsWith('Our new shop')),
      'the post at Bob',
    )
    assert.deepEqual(
      post.links.map((l) => l.url),
      ['https://example.com/shop'],
    )
    assert.equal(post.attachments[0]?.ref, `sha256:${pictureSha}`)
    await eventually(
      async () =>
        (await bob.call<FileEntry[]>('files')).find(
          (f) => f.sha256 === pictureSha && f.status === 'complete',
        ),
      'the picture at Bob',
    )
    // The picture came as a file, but it belongs to Moments: not a message in the chat.
    const chat = await bob.call<{ extension?: { data?: { sha256?: string } } }[]>('messages', {
      contact: aliceAtBob.id,
      peek: true,
    })
    assert.ok(!chat.some((m) => m.extension?.data?.sha256 === pictureSha))
    await bob.call('like', { postId: post.id })
    await bob.call('comment', { postId: post.id, text: 'Looks great' })
    const mine = page.locator('li.post', { hasText: 'Our new shop' })
    await mine.getByText('Liked by Bob').waitFor({ timeout: 15_000 })
    await mine.getByText('Looks great').waitFor()
    await mine.getByRole('img', { name: 'Photo 1' }).waitFor()

    // Bob's post, liked and commented on in the app.
    const bobs = await bob.call<Post>('post', { text: "Bob's news: we ship to Shanghai now" })
    const theirs = page.locator('li.post', { hasText: "Bob's news" })
    await theirs.waitFor({ timeout: 15_000 })
    await theirs.getByRole('button', { name: 'Like', exact: true }).click()
    await theirs.getByRole('textbox', { name: 'Comment' }).fill('Congrats!')
    await theirs.getByRole('button', { name: 'Send comment' }).click()
    await eventually(async () => {
      const p = (await bob.call<Post[]>('timeline')).find((x) => x.id === bobs.id)
      return p?.likes.some((l) => l.author.name === 'Alice') && p.comments.some((c) => c.text === 'Congrats!')
    }, "Alice's like and comment at Bob")
  })

  test('an opened #add= link offers that contact; the safety number can be marked verified; a backup exports', async () => {
    const card = await carol.call<{ link: string }>('card')
    await page.goto(`${alice.origin}/#add=${card.link.slice('jiayi:add/'.length)}`)
    await page.reload()
    await page.getByText('Add the contact from the link you opened?').waitFor()
    assert.equal(
      await page.getByRole('textbox', { name: 'Contact link' }).inputValue(),
      `${alice.origin}/#add=${card.link.slice(10)}`,
    )
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await eventually(
      async () =>
        (await carol.call<Contact[]>('contactList')).find(
          (c) => c.name === 'Alice' && c.state === 'pending-in',
        ),
      "Alice's request at Carol",
    )

    await page.goto(`${alice.origin}/#/contact/${bobAtAlice.id}`)
    await page.getByTestId('safety-a').waitFor()
    // Added while both were online: the session was agreed with ML-KEM, and the page says so.
    assert.match((await page.getByTestId('session-kind').textContent()) ?? '', /post-quantum/)
    assert.equal(await page.getByTestId('identity-changed').count(), 0)
    const [a, b] = [
      await page.getByTestId('safety-a').innerText(),
      await page.getByTestId('safety-b').innerText(),
    ]
    const digits = (a + b).replace(/\s+/g, '')
    assert.match(digits, /^\d{60}$/)
    const atBob = await bob.call<{ safetyNumber: string }>('verify', { contact: aliceAtBob.id })
    assert.equal(atBob.safetyNumber.replace(/\s+/g, ''), digits, 'both sides show the same number')
    await page.getByRole('img', { name: 'Safety number QR code' }).waitFor()
    await page.getByRole('button', { name: 'Mark as verified' }).click()
    await page.getByText('You verified Bob.').waitFor()

    await page.goto(`${alice.origin}/#/settings`)
    // A goto that changes only the hash returns before the app has handled hashchange.
    await page.getByRole('combobox', { name: 'Language' }).waitFor()
    await page.getByLabel('Backup passphrase').fill('correct horse battery staple')
    const [saved] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export backup' }).click(),
    ])
    assert.match(saved.suggestedFilename(), /^jiayi-backup-Alice-\d{4}-\d{2}-\d{2}\.jiayi$/)
    const bytes = await readFile((await saved.path())!)
    assert.equal(bytes.subarray(0, 12).toString('latin1'), 'JIAYI-BACKUP')
  })

  test('a received document and a text forwarded to another contact', async () => {
    const request = await eventually(
      async () =>
        (await carol.call<Contact[]>('contactList')).find(
          (c) => c.name === 'Alice' && c.state === 'pending-in',
        ),
      "Alice's request at Carol",
    )
    await carol.call('accept', { contact: request.id })
    await eventually(
      async () =>
        (await alice.call<Contact[]>('contactList')).find(
          (c) => c.name === 'Carol' && c.state === 'accepted',
        ),
      'Carol accepted at Alice',
    )
    const doc = (await alice.call<FileEntry[]>('files')).find(
      (f) => f.name === 'price list.xlsx' && f.direction === 'in',
    )
    assert.equal(doc?.status, 'complete')

    const forward = async (bubble: ReturnType<Page['locator']>) => {
      await bubble.hover()
      await bubble.getByRole('button', { name: 'Message actions' }).click()
      await bubble.getByRole('menuitem', { name: 'Forward' }).click()
      const dialog = page.getByRole('dialog', { name: 'Forward to…' })
      await dialog.getByRole('button', { name: 'Carol' }).waitFor()
      await page.screenshot({ path: join(dir, 'desktop-en-forward.png') })
      await dialog.getByRole('button', { name: 'Carol' }).click()
      await page.getByText('Forwarded to Carol').first().waitFor()
      await dialog.waitFor({ state: 'hidden' })
    }
    await openChat(page)
    await forward(page.locator('li.msg.in', { hasText: 'price list.xlsx' }))
    const atCarol = await eventually(
      async () =>
        (await carol.call<FileEntry[]>('files')).find(
          (f) => f.sha256 === doc!.sha256 && f.status === 'complete',
        ),
      'the forwarded document at Carol',
    )
    assert.equal(atCarol.name, 'price list.xlsx')
    assert.equal(await sha256File(atCarol.path!), doc!.sha256)

    await forward(page.locator('li.msg.in', { hasText: 'Hi Alice 你好!' }))
    await eventually(
      async () =>
        (await carol.call<Message[]>('messages', { contact: request.id, peek: true })).find(
          (m) => m.text === 'Hi Alice 你好!',
        ),
      'the forwarded text at Carol',
    )
  })

  /** Goes to a screen and waits for it to settle. */
  const show = async (p: Page, screen: (typeof SCREENS)[number]) => {
    const routes: Record<(typeof SCREENS)[number], string> = {
      chats: '#/chats',
      conversation: `#/chat/${bobAtAlice.id}`,
      contacts: '#/contacts',
      contact: `#/contact/${bobAtAlice.id}`,
      moments: '#/moments',
      settings: '#/settings',
    }
    await p.evaluate((h) => {
      location.hash = h
    }, routes[screen])
    const ready: Record<(typeof SCREENS)[number], string> = {
      chats: '[data-testid=chat-list] .row',
      conversation: 'li.msg',
      contacts: 'img.qr',
      contact: '[data-testid=safety-a]',
      moments: 'li.post',
      settings: 'select#language',
    }
    await p.locator(ready[screen]).first().waitFor()
    // Notices from earlier steps would cover the screenshots. One may go on its own meanwhile (they
    // last 3.5 s): a short wait for its button, not the 30 s default.
    for (const close of await p.locator('.notice button').all())
      await close.click({ timeout: 500 }).catch(() => undefined)
    await p.waitForTimeout(150)
  }

  const setLanguage = async (p: Page, lang: 'en' | 'zh-CN') => {
    await show(p, 'settings')
    await p.locator('select#language').selectOption(lang)
    await p.waitForFunction((l) => document.documentElement.lang === l, lang)
  }

  test('switching to 中文 shows Chinese on every screen; screenshots in both languages', async () => {
    // English words of the catalogue that must not be left on a Chinese screen.
    const english = Object.entries(en)
      .filter(([k, v]) => !k.startsWith('lang.') && v !== zhCN[k as keyof typeof zhCN])
      .map(([, v]) => v.replace(/\{\w+\}/g, '').trim())
      .filter((v) => /[A-Za-z]{3}/.test(v) && !/^LAN$/.test(v))
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLanguage(page, lang)
      for (const screen of SCREENS) {
        await show(page, screen)
        await page.screenshot({ path: join(dir, `desktop-${lang}-${screen}.png`) })
        if (lang !== 'zh-CN') continue
        const nav = await page.getByRole('navigation').innerText()
        for (const word of ['聊天', '通讯录', '朋友圈', '设置'])
          assert.ok(nav.includes(word), `${screen}: nav has ${word}`)
        const text = await page.evaluate(() => {
          const parts = [document.body.innerText]
          for (const el of document.querySelectorAll('[aria-label],[title],[placeholder],[alt]'))
            for (const a of ['aria-label', 'title', 'placeholder', 'alt'])
              parts.push(el.getAttribute(a) ?? '')
          return parts.join('\n')
        })
        const left = english.filter((w) =>
          new RegExp(`(^|[^A-Za-z])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z])`).test(text),
        )
        assert.deepEqual(left, [], `${screen} in 中文 still shows English`)
        assert.match(text, /\p{Script=Han}{2}/u)
      }
    }
    await setLanguage(page, 'en')
  })

  test('the phone-sized layout (375×667) has no horizontal scroll', async () => {
    const phone = await openApp(browser, alice.web, { viewport: { width: 375, height: 667 } })
    try {
      for (const lang of ['en', 'zh-CN'] as const) {
        await setLanguage(phone.page, lang)
        for (const screen of SCREENS) {
          await show(phone.page, screen)
          await phone.page.screenshot({ path: join(dir, `phone-${lang}-${screen}.png`) })
          const overflow = await phone.page.evaluate(() => {
            const wide: string[] = []
            if (document.documentElement.scrollWidth > innerWidth)
              wide.push(`document ${document.documentElement.scrollWidth}`)
            for (const el of document.querySelectorAll<HTMLElement>(
              '.pane, .scroll, .messages, .rows, .composer',
            )) {
              const style = getComputedStyle(el)
              if (style.display !== 'none' && el.scrollWidth > el.clientWidth + 1)
                wide.push(`${el.className} ${el.scrollWidth}>${el.clientWidth}`)
            }
            return wide
          })
          assert.deepEqual(overflow, [], `${lang} ${screen} scrolls sideways`)
        }
      }
      // On a phone the conversation takes the whole screen: no tab bar there, a back link instead.
      await show(phone.page, 'conversation')
      assert.equal(await phone.page.getByRole('navigation').isVisible(), false)
      await setLanguage(phone.page, 'en')
    } finally {
      await phone.context.close()
    }
  })

  test('Bob away with a home node: the contact says so, and a message says it is stored there', async () => {
    const homeNode = await NodePeer.serve()
    const link = (homeNode.ready as unknown as { serveLink: string }).serveLink
    await bob.call('addHomeNode', { link })
    // Alice learns it from Bob's address update (once his outbox to her is empty, it arrived).
    await eventually(
      async () => (await bob.call<number>('outboxSize', { contact: aliceAtBob.id })) === 0,
      'address update delivered',
    )
    await bob.stop()
    await eventually(
      async () =>
        (await alice.call<{ reach: string }>('contact', { contact: bobAtAlice.id })).reach === 'mailbox',
      'Bob reached through his mailbox',
    )
    await openChat(page)
    await page.getByText('offline · home node mailbox').waitFor()
    await page.getByRole('textbox', { name: 'Message' }).fill('see you when you are back')
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await page
      .getByRole('note')
      .filter({ hasText: 'Stored on Bob’s home node: delivered when Bob comes online' })
      .waitFor({ timeout: 30_000 })
    await page.getByRole('img', { name: 'In their mailbox' }).last().waitFor()
    await setLanguage(page, 'zh-CN')
    await page.goto(`${alice.origin}/#/chat/${bobAtAlice.id}`)
    await page.getByRole('note').filter({ hasText: '已存放在 Bob 的家庭节点上，Bob 上线后送达' }).waitFor()
    await page.getByText('离线 · 家庭节点信箱').waitFor()
    await setLanguage(page, 'en')
    await page.goto(`${alice.origin}/#/contact/${bobAtAlice.id}`)
    await page.getByText('Offline: messages go to the mailbox on their home node').waitFor()
  })
})
