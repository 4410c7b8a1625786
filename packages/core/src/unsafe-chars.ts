/**
 * Characters that never belong in a name shown to a person (a display name, a file name): C0 and
 * C1 controls and DEL (terminal escapes, line breaks), and the Unicode format characters that
 * reorder, hide or split text: the bidi marks and controls (U+061C ALM, U+200E LRM, U+200F RLM,
 * U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates), the zero-width characters
 * (U+200B-U+200D, U+2060-U+2064, U+FEFF) and the line and paragraph separators (U+2028, U+2029).
 * "Alice\u202Egnp.exe" shows as "Aliceexe.png", and "Ali\u200Bce" looks like "Alice" but is not.
 *
 * One set for every name: files/names.ts strips them from offered file names; card.ts and
 * messenger/account.ts refuse names that hold them. A display name may keep one thing a file name
 * loses: the zero-width joiner between two emoji, which makes one picture of them (👩‍💻, 🏳️‍🌈);
 * it hides nothing there, since an emoji cannot pass for a letter.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g')

// A ZWJ after an emoji (with its skin-tone modifier or variation selector) and before another.
const EMOJI_ZWJ =
  /(?<=[\p{Extended_Pictographic}\p{Emoji_Modifier}]\ufe0f?)\u200d(?=\p{Extended_Pictographic})/gu

/** Whether a display name holds a character of the set (a ZWJ inside an emoji sequence is fine). */
export function hasUnsafeNameChars(text: string): boolean {
  return UNSAFE.test(text.replace(EMOJI_ZWJ, ''))
}

export function stripUnsafeNameChars(text: string): string {
  return text.replace(UNSAFE_ALL, '')
}
