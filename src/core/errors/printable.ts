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

/**
 * `error`, its message (and the stack that repeats it) made {@link printable} in place: for an error sluice keeps as
 * `cause` that quotes the server (JSON.parse's quotes the text it refused, ky's HTTPError the status text), as
 * `console.error` prints causes too.
 */
export function printableCause(error: Error): Error {
  const { message, stack } = error
  error.message = printable(message)
  if (stack) error.stack = stack.split(message).join(error.message)
  return error
}
