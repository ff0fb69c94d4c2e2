// Control characters (C0 with the tab, DEL, C1: U+009B is a CSI to some terminals), the bidi controls that reorder
// what follows, and the separators that break a line.
const CONTROL = /[\p{Cc}\p{Bidi_C}\u2028\u2029]/gu

/**
 * `text` with its control characters shown escaped (`\u001b`), its printable text as it is: a message that quotes
 * a server (its error page, status text or headers) can then neither forge a line in a log nor drive a terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
