import { describeValue } from '../runtime/describe-value.ts'
import { readsOnce } from '../runtime/one-shot.ts'
import { CURSOR_PARAM, cursorConflict } from '../runtime/refusal-text.ts'
import { release } from '../runtime/release.ts'
import type { CursorOptions, Source } from './options.ts'
import { bounded, CONFLICT, Refusal } from './refusal.ts'
import { queryOf, type RequestLike } from './request.ts'

/**
 * Takes a plain iterable for a request that carries `cursor`, which only a request without one (or with an empty
 * one, which names no position) may get: a plain iterable starts from its first item, so a resuming client would
 * get the items it already has again, as if new, and then a clean end. Refuses instead; the helpers pull their
 * source before their first byte, so the client gets a 409 that says why (see {@link Refusal}), not duplicates.
 */
export function plainSource<T>(
  source: Source<T>,
  cursor: string | undefined,
  helper: string,
  options: CursorOptions & { request?: RequestLike | undefined },
): Source<T> {
  if (cursor === undefined || cursor === '') return source
  release(source)
  const inQuery = queryOf(options.request, options.cursorParam ?? CURSOR_PARAM) !== undefined
  throw new Refusal(CONFLICT, cursorConflict(`sluice/lambda: ${helper}`, cursor, inQuery, options), {
    cursor: bounded(cursor),
  })
}

/**
 * Runs a helper's `work` over `source`, and lets go of the source when the work fails: an option found wrong
 * (an unknown name, a weak ETag, no `awslambda`) fails the call before the source is read, and nothing else would
 * close it. A failure once reading has begun has closed it already (see `writeBody`); releasing it again does
 * nothing.
 */
export async function releasedOnFailure(source: unknown, work: () => Promise<void>): Promise<void> {
  try {
    await work()
  } catch (error) {
    releaseSource(source)
    throw error
  }
}

/** The readers of the web streams the helpers read (see {@link readerChunks}), by stream. */
const readers = new WeakMap<object, ReadableStreamDefaultReader<unknown>>()

/**
 * A web stream's chunks, read with a reader the helper holds: `for await` over the stream itself reads it with one
 * no one else can reach, so that, with the stream locked, `cancel()` fails, and its iterator's `return()` waits for
 * the pending read, which an upstream gone quiet may never end. The reader's `cancel()` ends that read at once. A
 * helper that stops early has failed its response stream, and releases the stream so (see {@link releaseSource}).
 */
async function* readerChunks<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader()
  readers.set(stream, reader)
  for (;;) {
    const next = await reader.read()
    if (next.done) return
    yield next.value
  }
}

/**
 * Lets go of a source (see `release`), with `reason` for a web stream the helper reads: cancelled through the
 * reader that reads it (see {@link readerChunks}), which ends a pending read, so the upstream connection or file
 * behind it closes while the helper settles, not once (if ever) its next chunk comes.
 */
export function releaseSource(source: unknown, reason?: unknown): void {
  const reader = readers.get(Object(source))
  if (reader === undefined) release(source)
  else reader.cancel(reason).catch(() => {})
}

/** What a helper reads, held to be released (see {@link readingOf}). */
export interface Reading {
  /** Takes what a function source returned as the source to release; returns it. */
  use<T>(items: T): T
  /** Releases the source (see {@link releaseSource}), a web stream with `reason`. */
  release(reason?: unknown): void
}

/**
 * What a helper reads, to release (see {@link releaseSource}): the source it was given, or once a function source
 * has returned one it can read, that (a Node stream, a web stream), which the function itself does not hold.
 */
export function readingOf(source: unknown): Reading {
  let held = source
  return {
    use(items) {
      held = items
      return items
    },
    release: (reason) => releaseSource(held, reason),
  }
}

/**
 * `items` when it can be iterated, else a `TypeError` that says what it is: `for await` over `null` or a promise
 * fails with "items is not async iterable", naming neither the helper nor the fix. A source function made `async`
 * (`async (cursor) => db.rows(cursor)`) returns a promise, the commonest such slip.
 */
export function iterableOf<T>(items: Source<T>, helper: string, returned: boolean): Source<T> {
  const held = items as unknown as Record<symbol, unknown> | null | undefined
  if (typeof held?.[Symbol.asyncIterator] === 'function' || typeof held?.[Symbol.iterator] === 'function')
    return items
  const what = returned ? `a source function that returned ${describeValue(items)}` : describeValue(items)
  const hint =
    items instanceof Promise ? ' (a promise: make the function an async generator, or not async)' : ''
  throw new TypeError(
    `sluice/lambda: ${helper} got ${what} as its source${hint}; pass an array, a generator, a Node Readable or a web ReadableStream${helper === 'streamBytes' ? '' : ', or a function of the cursor that returns one'}.`,
  )
}

/** The sources that can be read once which a helper has begun to read, in the life of this (warm) function. */
const begun = new WeakSet<object>()

/**
 * `items` (see {@link iterableOf}) as a helper begins to read it, or a `TypeError` when it is a generator, iterator
 * or stream that has been read already: a warm function keeps what its module made, so a source made there is read
 * to its end by one invocation, and would give the next an empty body (or the rest of it), which the end marker
 * would prove complete.
 */
export function sourceToRead<T>(items: Source<T>, helper: string, returned: boolean): Source<T> {
  const iterable = iterableOf(items, helper, returned)
  if (!readsOnce(items)) return iterable
  if (begun.has(items) || (items as { readableEnded?: unknown }).readableEnded === true) {
    throw new TypeError(
      `sluice/lambda: ${helper} got ${returned ? 'from its source function ' : ''}a generator, iterator or stream that has been read already; make the source for each request, inside the handler (a warm function keeps what its module made): what is left of it (nothing, once it ended) would go as if it were the whole body.`,
    )
  }
  begun.add(items)
  // A web stream (a Node stream has no getReader) is read with a reader that can be cancelled mid-read.
  const stream = items as unknown as ReadableStream<T>
  return typeof stream.getReader === 'function' ? readerChunks(stream) : iterable
}
