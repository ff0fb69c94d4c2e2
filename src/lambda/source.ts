import type { CursorOptions, Source } from './options.ts'
import { queryOf, type RequestLike } from './request.ts'

/**
 * Takes a plain iterable for a request that carries `cursor`, which only a request without one (or with an empty
 * one, which names no position) may get: a plain iterable starts from its first item, so a resuming client would
 * get the items it already has again, as if new, and then a clean end. Throws instead; the helpers pull their
 * source before their first byte, so the invocation fails (a 502) with this message rather than sending duplicates.
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
  throw new Error(
    `sluice/lambda: ${helper} got a request to resume after cursor "${cursor}" (from ${where}), but its source is a plain iterable, which can only start from its first item and would send the client items it already has; pass a function (cursor) => iterable that yields the items after the cursor (a handler that reads the cursor itself can pass () => items).`,
  )
}
