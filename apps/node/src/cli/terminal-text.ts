/**
 * Text that other people control (their names, messages, posts, comments, file names, the titles
 * of pages they link) goes through here before the CLI prints it. A terminal acts on what it is
 * sent: ESC and C1 sequences clear the screen, move the cursor, set the window title or make
 * hidden links; a carriage return rewrites the line; bidi controls reorder what follows. So for
 * people's eyes (every view without --json) these characters are removed: C0 controls (tab and
 * newline kept only where a view shows several lines), DEL, C1 controls, the bidi marks and
 * controls (U+061C ALM, U+200E LRM, U+200F RLM, U+202A-U+202E, U+2066-U+2069) and the line and
 * paragraph separators. With --json the text stays exact: those characters are written as \u
 * escapes, which mean the same to a JSON parser and nothing to a terminal.
 *
 * This file has no imports: commands that talk to a running peer never load @jiayi/core.
 */

const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_OR_BREAK =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
// What JSON.stringify leaves raw and a terminal would act on (it escapes C0 itself).
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** One line of someone else's text (a name, a title): every control removed, breaks become spaces. */
export function shownLine(text: string): string {
  return String(text)
    .replace(/\r\n?|[\n\t]/g, ' ')
    .replace(UNSAFE_OR_BREAK, '')
}

/** Someone else's text of several lines (a message, a post): tabs and newlines stay. */
export function shownText(text: string): string {
  return String(text).replace(/\r\n?/g, '\n').replace(UNSAFE, '')
}

/** JSON for stdout: exact values, with what a terminal would act on written as \u escapes. */
export function jsonText(value: unknown): string {
  return String(JSON.stringify(value)).replace(
    RAW_IN_JSON,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
