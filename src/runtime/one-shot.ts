/**
 * Whether a source can be read only once: an iterator (a generator), a web `ReadableStream` or a Node `Readable`.
 * Read again, such a source holds nothing more, or only the rest, where an array or another iterable starts over;
 * a body made of it would be empty, and its end marker would prove that complete. sluice/lambda's and
 * sluice/mock's rule for sources that serve more than one request.
 *
 * @example
 * readsOnce((function* () { yield 1 })()) // true
 * readsOnce([1]) // false
 */
export function readsOnce(source: unknown): boolean {
  const held = Object(source) as Partial<Record<'next' | 'getReader' | 'pipe' | 'read', unknown>>
  // A Node stream by its read() beside pipe(): an iterable with a pipe() alone (IxJS's) is iterated afresh each time.
  return (
    typeof held.next === 'function' ||
    typeof held.getReader === 'function' ||
    (typeof held.pipe === 'function' && typeof held.read === 'function')
  )
}
