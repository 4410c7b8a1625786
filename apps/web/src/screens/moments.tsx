/**
 * Moments: the timeline of my posts and my contacts', newest first; a new post with text, its
 * links and pictures; likes and comments. A picture travels as a file to each contact and the
 * post names it by SHA-256, so it shows once that file has arrived here.
 */
import type { PostView, TransferView } from '@jiayi/api'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { formatList, formatRelative, t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { fileUrl } from '../lib/files.js'
import { focusPost } from '../lib/focus-message.js'
import { INLINE_IMAGE } from '../lib/media.js'
import { Avatar } from '../ui/avatar.js'
import { Icon } from '../ui/icons.js'
import { extractLinks, Linkified } from '../ui/linkify.js'
import { notifyError } from '../ui/notice.js'

/** Pictures posted from this tab, by SHA-256, until the transfers list has them too. */
const localPictures = new Map<string, string>()

async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Posts per page: the newest page stays live (reloaded on feed events), older ones load on scroll. */
const PAGE = 50
/** How close to the end of the list (px) the next page is loaded. */
const EDGE_PX = 600

/**
 * The newest page merged with what was shown before: posts older than the page's last stay as
 * they were (older pages, and posts a new one pushed out of the page), those in its range are
 * the page's. So new posts never leave a gap before the older pages.
 */
function merged(shown: readonly PostView[], page: readonly PostView[]): PostView[] {
  if (page.length < PAGE) return [...page]
  const last = page.at(-1)!
  const inPage = new Set(page.map((p) => p.id))
  const older = shown.filter((p) => !inPage.has(p.id) && p.createdAt < last.createdAt)
  return [...page, ...older]
}

function useTimeline() {
  const client = useClient()
  const newest = useQuery('timeline', { limit: PAGE }, { events: ['feed'] })
  const [posts, setPosts] = useState<PostView[] | undefined>(undefined)
  const [atEnd, setAtEnd] = useState(false)
  const loading = useRef(false)
  const current = useRef(posts)
  current.current = posts
  useEffect(() => {
    if (newest.data === undefined) return
    setPosts((shown) => merged(shown ?? [], newest.data!))
    if (newest.data.length < PAGE) setAtEnd(true)
  }, [newest.data])
  const loadMore = async () => {
    const shown = current.current
    const last = shown?.at(-1)
    if (last === undefined || atEnd || loading.current) return
    loading.current = true
    try {
      const page = await client.call('timeline', {
        limit: PAGE,
        beforePost: last.id,
        before: Date.parse(last.createdAt),
      })
      setPosts((now) => {
        const known = new Set((now ?? []).map((p) => p.id))
        return [...(now ?? []), ...page.filter((p) => !known.has(p.id))]
      })
      if (page.length < PAGE) setAtEnd(true)
    } finally {
      loading.current = false
    }
  }
  return { posts, atEnd, loadMore, reload: newest.reload }
}

export function MomentsScreen() {
  const timeline = useTimeline()
  const transfers = useQuery('transfers', {}, { events: ['transfer'] })
  const bySha = useMemo(() => {
    const m = new Map<string, TransferView>()
    for (const x of transfers.data ?? []) {
      const have = m.get(x.sha256)
      const usable = x.status === 'complete' || (x.direction === 'out' && x.path !== null)
      if (usable && (have === undefined || have.status !== 'complete')) m.set(x.sha256, x)
    }
    return m
  }, [transfers.data])
  const posts = timeline.posts ?? []
  const more = () => void timeline.loadMore().catch(notifyError)
  const listRef = useRef<HTMLUListElement>(null)
  focusPost.useFocus(listRef, timeline.posts)
  // A search hit older than the page shown: older pages until it is there (or the end).
  useEffect(() => {
    if (timeline.posts === undefined || focusPost.seeking(new Set(posts.map((p) => p.id))) === undefined)
      return
    if (timeline.atEnd) focusPost.giveUp()
    else more()
  }, [timeline.posts, timeline.atEnd])
  return (
    <section class="pane wide moments" aria-labelledby="moments-title">
      <header class="pane-header">
        <h1 id="moments-title">{t('moments.title')}</h1>
      </header>
      <div
        class="scroll"
        onScroll={(e) => {
          const el = e.currentTarget
          if (el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX) more()
        }}
      >
        <NewPost onPosted={timeline.reload} />
        {timeline.posts !== undefined && posts.length === 0 && <p class="empty">{t('moments.empty')}</p>}
        <ul class="posts" data-testid="timeline" ref={listRef}>
          {posts.map((p) => (
            <Post key={p.id} post={p} bySha={bySha} onChange={timeline.reload} />
          ))}
        </ul>
        {posts.length > 0 && !timeline.atEnd && (
          <p class="history-edge">
            <button type="button" class="button" onClick={more}>
              {t('moments.loadMore')}
            </button>
          </p>
        )}
      </div>
    </section>
  )
}

function NewPost(props: { onPosted: () => void }) {
  const client = useClient()
  const [text, setText] = useState('')
  const [photos, setPhotos] = useState<File[]>([])
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  const previews = useMemo(() => photos.map((f) => URL.createObjectURL(f)), [photos])
  useEffect(
    () => () => {
      for (const u of previews) URL.revokeObjectURL(u)
    },
    [previews],
  )

  const post = async () => {
    if (busy || (text.trim() === '' && photos.length === 0)) return
    setBusy(true)
    try {
      const attachments = []
      for (const f of photos) {
        const sha = await sha256Hex(f)
        localPictures.set(sha, URL.createObjectURL(f))
        attachments.push({
          source: await client.upload(f, f.name),
          name: f.name,
          mime: f.type || 'image/jpeg',
        })
      }
      await client.call('post', { text: text.trim(), links: extractLinks(text).slice(0, 8), attachments })
      setText('')
      setPhotos([])
      props.onPosted()
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form
      class="card new-post"
      onSubmit={(e) => {
        e.preventDefault()
        void post()
      }}
    >
      <textarea
        aria-label={t('moments.newPost')}
        placeholder={t('moments.placeholder')}
        rows={3}
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      {photos.length > 0 && (
        <ul class="photo-picks">
          {photos.map((f, i) => (
            <li key={previews[i]}>
              <img src={previews[i]} alt={f.name} width={72} height={72} />
              <button
                type="button"
                class="icon-button"
                aria-label={t('moments.removePhoto', { name: f.name })}
                onClick={() => setPhotos(photos.filter((_, j) => j !== i))}
              >
                <Icon name="close" size={16} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button type="button" class="button" onClick={() => input.current?.click()}>
          <Icon name="image" size={18} /> {t('moments.addPhotos')}
        </button>
        <input
          ref={input}
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const files = [...((e.target as HTMLInputElement).files ?? [])]
            setPhotos([...photos, ...files].slice(0, 9))
            ;(e.target as HTMLInputElement).value = ''
          }}
        />
        <button
          type="submit"
          class="button primary"
          disabled={busy || (text.trim() === '' && photos.length === 0)}
        >
          {busy ? t('moments.posting') : t('moments.post')}
        </button>
      </div>
    </form>
  )
}

function Picture(props: {
  sha: string
  name: string
  type: string
  transfer: TransferView | undefined
  n: number
}) {
  const client = useClient()
  const [url, setUrl] = useState<string | undefined>(localPictures.get(props.sha))
  useEffect(() => {
    if (url !== undefined || props.transfer === undefined || !INLINE_IMAGE.has(props.type)) return
    let live = true
    fileUrl(client, props.transfer.id, props.type).then(
      (u) => live && setUrl(u),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [props.transfer?.id, url])
  return url !== undefined ? (
    <a href={url} target="_blank" rel="noopener noreferrer">
      <img src={url} alt={t('moments.photo', { n: props.n })} loading="lazy" />
    </a>
  ) : (
    <span class="photo-missing" role="img" aria-label={t('moments.photoMissing')}>
      <Icon name="image" size={28} />
    </span>
  )
}

function Post(props: { post: PostView; bySha: Map<string, TransferView>; onChange: () => void }) {
  const client = useClient()
  const { post: p } = props
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState(false)
  const run = (work: () => Promise<unknown>) => {
    setBusy(true)
    work()
      .then(props.onChange)
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  const pictures = p.attachments.filter((a) => a.type.startsWith('image/') && a.ref.startsWith('sha256:'))
  const author = p.author.me ? t('moments.you') : p.author.name
  const likeNames = p.likes.map((l) => (l.author.me ? t('moments.you') : l.author.name))
  return (
    <li class="card post" data-post={p.id}>
      <article aria-label={author}>
        <header class="post-head">
          <Avatar name={p.author.name} id={p.author.id} />
          <span class="post-author">{author}</span>
          <time class="muted small" dateTime={p.createdAt}>
            {formatRelative(p.createdAt)}
          </time>
          {p.editedAt !== undefined && <span class="muted small">{t('moments.edited')}</span>}
          {p.author.me && (
            <button
              type="button"
              class="icon-button"
              aria-label={t('moments.delete')}
              disabled={busy}
              onClick={() =>
                confirm(t('moments.deleteConfirm')) && run(() => client.call('deletePost', { postId: p.id }))
              }
            >
              <Icon name="trash" size={18} />
            </button>
          )}
        </header>
        {p.text !== '' && (
          <p class="post-text">
            <Linkified text={p.text} />
          </p>
        )}
        {p.links.length > 0 && (
          <ul class="link-cards">
            {p.links.map((l) => (
              <li key={l.url}>
                <a href={l.url} target="_blank" rel="noopener noreferrer nofollow" class="link-card">
                  {l.image !== undefined && /^data:image\/(png|jpeg|gif|webp);/.test(l.image) && (
                    <img src={l.image} alt="" />
                  )}
                  <span>
                    <strong>{l.title ?? new URL(l.url).host}</strong>
                    {l.description !== undefined && <span class="muted small">{l.description}</span>}
                    <span class="muted small link-url">
                      <Icon name="link" size={14} /> {l.url}
                    </span>
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
        {pictures.length > 0 && (
          <div class={`pictures n${Math.min(pictures.length, 3)}`}>
            {pictures.map((a, i) => {
              const sha = a.ref.slice('sha256:'.length)
              return (
                <Picture
                  key={a.ref}
                  sha={sha}
                  name={a.name}
                  type={a.type}
                  transfer={props.bySha.get(sha)}
                  n={i + 1}
                />
              )
            })}
          </div>
        )}
        <div class="post-actions">
          <button
            type="button"
            class={`button small ${p.liked ? 'liked' : ''}`}
            aria-pressed={p.liked}
            disabled={busy}
            onClick={() =>
              run(() =>
                p.liked ? client.call('unlike', { postId: p.id }) : client.call('like', { postId: p.id }),
              )
            }
          >
            <Icon name="heart" size={16} /> {t('moments.like')}
          </button>
        </div>
        {(likeNames.length > 0 || p.comments.length > 0) && (
          <div class="post-social">
            {likeNames.length > 0 && (
              <p class="likes">
                <Icon name="heart" size={14} /> {t('moments.likedBy', { names: formatList(likeNames) })}
              </p>
            )}
            {p.comments.length > 0 && (
              <ul class="comments">
                {p.comments.map((c) => (
                  <li key={c.id}>
                    <strong>{c.author.me ? t('moments.you') : c.author.name}</strong>
                    {': '}
                    <span>{c.text}</span>
                    {c.author.me && (
                      <button
                        type="button"
                        class="icon-button tiny"
                        aria-label={t('moments.deleteComment')}
                        onClick={() => run(() => client.call('deleteComment', { commentId: c.id }))}
                      >
                        <Icon name="close" size={12} />
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <form
          class="comment-row"
          onSubmit={(e) => {
            e.preventDefault()
            const text = comment.trim()
            if (text === '') return
            run(async () => {
              await client.call('comment', { postId: p.id, text })
              setComment('')
            })
          }}
        >
          <input
            type="text"
            aria-label={t('moments.comment')}
            placeholder={t('moments.comment')}
            value={comment}
            onInput={(e) => setComment((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="button small" disabled={busy || comment.trim() === ''}>
            {t('moments.commentButton')}
          </button>
        </form>
      </article>
    </li>
  )
}
