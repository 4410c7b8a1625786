/**
 * What search matches on: the words of a text, in Chinese as in English. Intl.Segmenter finds
 * the words; a word in a script written without spaces (Han, kana, Hangul) is also cut into
 * overlapping character pairs, so "绿茶" is found inside "今天的绿茶很好" whatever the segmenter
 * made of it. Everything is NFKC-normalised and lower-cased first (full-width Ａ is A).
 */

/** Characters of scripts written without spaces between words. */
const DENSE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u
/** Tokens longer than this are cut (a pasted hash or URL must not make huge keys). */
const MAX_TOKEN_CHARS = 32

const segmenter = new Intl.Segmenter('und', { granularity: 'word' })

/**
 * The tokens of `text`: whole words; in Chinese, Japanese and Korean runs each character and each
 * pair of neighbours (a query of one character finds it, a longer one asks for its pairs).
 */
export function tokensOf(text: string, forQuery = false): Set<string> {
  const out = new Set<string>()
  const normal = text.normalize('NFKC').toLowerCase()
  for (const { segment, isWordLike } of segmenter.segment(normal)) {
    if (!isWordLike) continue
    const chars = [...segment]
    if (!chars.some((c) => DENSE.test(c))) {
      out.add(chars.slice(0, MAX_TOKEN_CHARS).join(''))
      continue
    }
    // A run of dense characters: its pairs (and, indexed, its characters too).
    let run: string[] = []
    const flush = () => {
      if (run.length === 1 || !forQuery) for (const c of run) out.add(c)
      for (let i = 0; i + 1 < run.length; i++) out.add(run[i]! + run[i + 1]!)
      run = []
    }
    for (const c of chars) {
      if (DENSE.test(c)) run.push(c)
      else {
        flush()
        if (/\p{L}|\p{N}/u.test(c)) out.add(c)
      }
    }
    flush()
  }
  return out
}

/**
 * The tokens a query must all find. A single dense character is a token of its own; longer dense
 * runs ask for each of their pairs (so "绿茶园" needs "绿茶" and "茶园").
 */
export function queryTokens(query: string): string[] {
  return [...tokensOf(query, true)]
}
