/**
 * Lets go of a source that will not be read (sluice/lambda's helpers, sluice/mock's parts): a request answered
 * `409` or `416`, a HEAD, a body cancelled before its first read. As when the client goes away (what was being
 * read is then closed), a Node stream is destroyed and a web stream cancelled, or the file, connection or
 * database cursor behind it would stay open (in a warm function, one per such request); a generator or other
 * iterator is closed with `return()` (a started generator's `finally` runs). Data (an array, a string) and a
 * function source hold nothing.
 *
 * @example
 * release(createReadStream(path)) // destroyed
 */
export function release(source: unknown): void {
  const held = Object(source) as { destroy?: unknown; cancel?: unknown; return?: unknown }
  const result =
    typeof held.destroy === 'function'
      ? held.destroy()
      : typeof held.cancel === 'function'
        ? held.cancel()
        : typeof held.return === 'function'
          ? held.return()
          : undefined
  // A cancel() or return() may settle later, or fail (a locked web stream): nothing waits for it, and nothing is
  // left to tell.
  if (result instanceof Promise) result.catch(() => {})
}
