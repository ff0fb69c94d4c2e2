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
  const inQuery = queryOf(options.request, options.cursorParam ?? CURSOR_PARAM) !== undefined
  throw new Refusal(CONFLICT, cursorConflict(`sluice/lambda: ${helper}`, cursor, inQuery, options), {
    cursor: bounded(cursor),
  })
}
