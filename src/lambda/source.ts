import { describeValue } from '../runtime/describe-value.ts'
import { CURSOR_PARAM, cursorConflict } from '../runtime/refusal-text.ts'
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
 * Lets go of a source that will not be read: a request answered `409` or `416` before any of it was. As when the
 * client goes away (the helpers then close what they were reading), a Node stream is destroyed and a web stream
 * cancelled, or the file, connection or database cursor behind it would stay open in the warm function, one per
 * such request; a generator is closed. Data (an array, a string) and a function source hold nothing.
 */
export function release(source: unknown): void {
  if (typeof source !== 'object' || source === null) return
  const held = source as { destroy?: unknown; cancel?: unknown; return?: unknown }
  // Each may settle later, or fail (a locked web stream): nothing waits for it, and nothing is left to tell.
  const settle = (result: unknown): void => {
    if (result instanceof Promise) result.catch(() => {})
  }
  if (typeof held.destroy === 'function') held.destroy()
  else if (typeof held.cancel === 'function') settle(held.cancel())
  else if (typeof held.return === 'function') settle(held.return())
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
