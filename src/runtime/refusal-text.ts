/**
 * The words of sluice's refusals, shared by sluice/lambda's helpers and sluice/mock so that a mock answers a
 * request the helpers refuse with their text (but for who refused it): a resuming client quotes it.
 */

/** The query parameter a resume cursor is read from by default (see `cursorConflict`). */
export const CURSOR_PARAM = 'cursor'
/** The request header a resume cursor is read from when the query parameter is absent, by default. */
export const CURSOR_HEADER = 'x-sluice-cursor'

/**
 * The most characters of a request's value that a refusal quotes, in its answer and in its report: a request can
 * carry a cursor of kilobytes, and a log line or an error body is no place for all of it.
 */
export const QUOTED_CHARS = 200

/**
 * `value` quoted for a message, as JSON (so that control characters are escaped and a line stays one line), cut to
 * {@link QUOTED_CHARS} characters with its full length when it was longer.
 */
export function quoted(value: string): string {
  return value.length <= QUOTED_CHARS
    ? JSON.stringify(value)
    : `${JSON.stringify(value.slice(0, QUOTED_CHARS))}… (${value.length} characters)`
}

/**
 * Why a plain iterable, which starts from its first item, cannot answer a request that carries `cursor` (which
 * came in the query parameter when `inQuery`, else in the header, as `names` name them): what to do comes first,
 * as a client quotes the first 200 characters or so of an error body. `who`: `sluice/lambda: streamNdjson`,
 * `mockStream`, ….
 */
export function cursorConflict(
  who: string,
  cursor: string,
  inQuery: boolean,
  names: { cursorParam?: string | undefined; cursorHeader?: string | undefined },
): string {
  const where = inQuery
    ? `the ?${names.cursorParam ?? CURSOR_PARAM}= query parameter`
    : `the ${names.cursorHeader ?? CURSOR_HEADER} header`
  return `${who} cannot continue after a cursor: its source is a plain iterable, which starts from its first item; pass a function (cursor) => items after it as the source (a handler that reads the cursor itself can pass () => items). The request carried cursor ${quoted(cursor)} in ${where}.`
}
