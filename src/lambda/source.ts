import type { CursorOptions, Source } from './options.ts'
import { bounded, CONFLICT, quoted, Refusal } from './refusal.ts'
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
  const param = options.cursorParam ?? 'cursor'
  const where =
    queryOf(options.request, param) !== undefined
      ? `the ?${param}= query parameter`
      : `the ${options.cursorHeader ?? 'x-sluice-cursor'} header`
  // What to do comes first: a client quotes the first 200 characters or so of an error body.
  throw new Refusal(
    CONFLICT,
    `sluice/lambda: ${helper} cannot continue after a cursor: its source is a plain iterable, which starts from its first item; pass a function (cursor) => items after it as the source (a handler that reads the cursor itself can pass () => items). The request carried cursor ${quoted(cursor)} in ${where}.`,
    { cursor: bounded(cursor) },
  )
}
