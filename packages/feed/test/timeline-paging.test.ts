/**
 * Paging the Moments timeline with the `beforePost` cursor: over several feeds, with many posts
 * made in the same millisecond, the pages together are the whole timeline in order, with no post
 * skipped or shown twice; `before` (by time alone) cannot promise that.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { newItemId, type PostId } from '../src/ids.js'
import { writePost } from '../src/schema.js'
import { buildTimeline, type FeedSource } from '../src/timeline.js'

const author = (n: number) => ({ id: String(n).repeat(16) as never, name: `P${n}`, me: n === 0 })

function feeds(): { sources: FeedSource[]; total: number } {
  const sources: FeedSource[] = []
  let total = 0
  for (let f = 0; f < 3; f++) {
    const doc = new Y.Doc()
    for (let i = 0; i < 70; i++) {
      // Ten posts a millisecond, in every feed.
      writePost(doc, newItemId<PostId>(), {
        text: `feed ${f} post ${i}`,
        links: [],
        attachments: [],
        createdAt: 1_700_000_000_000 + Math.floor(i / 10),
      })
      total++
    }
    sources.push({ feed: String(f).repeat(64) as never, doc, author: author(f) })
  }
  return { sources, total }
}

describe('timeline paging', () => {
  it('beforePost pages through posts of the same millisecond without gaps or repeats', () => {
    const { sources, total } = feeds()
    const whole = buildTimeline(sources, { limit: 1000 }).map((p) => p.id)
    assert.equal(whole.length, total)
    const paged: string[] = []
    let page = buildTimeline(sources, { limit: 7 })
    while (page.length > 0) {
      paged.push(...page.map((p) => p.id))
      page = buildTimeline(sources, { limit: 7, beforePost: page.at(-1)!.id })
    }
    assert.deepEqual(paged, whole)
  })

  it('a cursor post that is gone falls back to its time', () => {
    const { sources } = feeds()
    const page = buildTimeline(sources, { limit: 5, beforePost: 'f'.repeat(32), before: 1_700_000_000_003 })
    assert.ok(page.every((p) => Date.parse(p.createdAt) < 1_700_000_000_003))
    assert.equal(page.length, 5)
  })
})
