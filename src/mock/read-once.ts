import { readsOnce } from '../runtime/one-shot.ts'
import { describeValue, type MockStreamParts } from './parts.ts'

/** Parts given as they are, watched for a second reading (see {@link readOnce}). */
export interface ReadOnce {
  /** The parts to answer with: the same items, read through a watch when they can be read only once. */
  parts: MockStreamParts
  /** Throws the `TypeError` of {@link readOnce} when a request has read the parts already. */
  check(): void
}

/**
 * Parts that a handler serves to every request, watched when they can be read only once: a generator, another
 * iterator, a web `ReadableStream` or a Node `Readable`. Read by one request, they hold nothing more (or only the
 * rest) for the next, which would get an empty body — one the end marker proves complete — where it should get the
 * body: a handler given to `setupServer()` serves every test, and a client's reconnect is a second request. A
 * second reading is a `TypeError` that says to pass a function instead; a request that reads none of them (a HEAD,
 * a refusal) leaves them to the next. An array, or any other iterable, is left as it is.
 *
 * @example
 * const lines = (function* () { yield 'a\n' })()
 * const { parts, check } = readOnce(lines, 'streamHandler')
 * check() // throws once a request has read `parts`
 */
export function readOnce(given: MockStreamParts, where: string): ReadOnce {
  if (!readsOnce(given)) return { parts: given, check: () => {} }
  let read = false
  const check = (): void => {
    if (!read) return
    throw new TypeError(
      `${where}: pass a function that returns new parts per request, such as () => rows(): its parts, ${describeValue(given)}, can be read only once, and an earlier request read them, so this one would get what is left of them (nothing, once they ended) as if it were the whole body.`,
    )
  }
  const key = Symbol.iterator in given ? Symbol.iterator : Symbol.asyncIterator
  const source = given as unknown as Record<symbol, () => unknown>
  const parts = {
    [key]: () => {
      check()
      read = true
      return source[key]!.call(given)
    },
  } as unknown as MockStreamParts
  return { parts, check }
}

const given = new WeakSet<object>()

/**
 * Refuses parts that can be read only once (see {@link readOnce}) when an earlier `mockStream()` was given them: its
 * response read them, or let go of them, so this one would get what is left (nothing, once they ended) as if it were
 * the whole body — what a generator made outside an msw resolver does to every request after the first. Notes them
 * otherwise.
 *
 * @example
 * const lines = (function* () { yield 'a\n' })()
 * givenOnce(lines) // notes them
 * givenOnce(lines) // throws
 */
export function givenOnce(parts: MockStreamParts): void {
  if (given.has(parts)) {
    throw new TypeError(
      `mockStream: its parts, ${describeValue(parts)}, can be read only once, and an earlier mockStream() was given them: this response would get what is left as the whole body. Make new parts for each, such as mockStream(rows()).`,
    )
  }
  if (readsOnce(parts)) given.add(parts)
}
