/**
 * `generator`, whose `return()` also runs `close` once the generator is closed. A generator's own `return()` before
 * its first `next()` runs none of its body, so what it would have closed in its `finally` (the caller's parts, a
 * source suspended by a pull) stays open when an answer reads none of it: `close` lets go of that too. Run after a
 * generator that did start, it finds those closed already, and closing them again does nothing.
 *
 * @example
 * async function* parts() {
 *   yield 'a'
 * }
 * const body = closing(parts(), () => console.log('closed'))
 * await body.return?.() // logs: closed
 */
export function closing<T>(generator: AsyncGenerator<T>, close: () => unknown): AsyncIterableIterator<T> {
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    next: () => generator.next(),
    async return() {
      const result = await generator.return(undefined)
      await close()
      return result
    },
  }
}
