import type { HeadersInput } from '../runtime/headers-init.ts'
import type { Awslambda as PortableAwslambda } from '../runtime/types.ts'
import type { RefusalReport } from './refusal.ts'
import type { RequestLike } from './request.ts'
import type { Awslambda } from './types.ts'

/**
 * A synchronous or asynchronous sequence of items: an array, a generator, a Node `Readable`, a web
 * `ReadableStream`.
 *
 * @example
 * const source: Source<Row> = db.query('select * from rows').stream()
 */
export type Source<T> = AsyncIterable<T> | Iterable<T>

/**
 * A source that can start after a position the client sends: called with that position (`undefined` on a
 * first request), it yields the items after it. A plain iterable cannot start after a cursor: a request that
 * carries one is answered `409` with a text body that says so (SSE's plain iterables are still replayed past a
 * `Last-Event-ID`).
 *
 * @example
 * const rows: ResumableSource<Row> = async function* (after) { yield* db.rowsAfter(after ? Number(after) : 0) }
 */
export type ResumableSource<T> = Source<T> | ((position: string | undefined) => Source<T>)

/**
 * Options every helper takes: the response's status, headers and cookies, the request to resume from, the
 * `awslambda` object to use, and where refusals are reported.
 *
 * @example
 * await streamNdjson(responseStream, rows, { request: event, headers: { 'cache-control': 'no-store' } })
 */
export interface ResponseOptions {
  /**
   * Status of a full response. Default 200. A `Range` is honoured for any success status with a body, and answered
   * 206 (or 416) whatever this says; an error status ignores it and announces no `Accept-Ranges`. A 204, 205 or
   * 304 has no body: the source must be empty, and neither a length nor the end marker is sent.
   */
  statusCode?: number | undefined
  /**
   * Extra response headers; `set-cookie` entries are sent as `cookies` (after those of `cookies`), since a function
   * URL's prelude carries one value per header name. Default: none beyond the helper's own (content type, length
   * or end marker…).
   */
  headers?: HeadersInput | undefined
  /**
   * `Set-Cookie` values. Default: none. One with CR, LF or another control character, which no header can carry
   * (the function URL would answer 502), is a `TypeError` at the call, before anything is written; so is such a
   * header value.
   */
  cookies?: string[] | undefined
  /**
   * The function-URL event; resume headers and query parameters are read from it, and its method: a HEAD gets the
   * head its GET would get (the full answer's: Range is not answered on a HEAD; a POST's is, as a GET's), without
   * the source being read. Default: no resume, answered as a GET.
   */
  request?: RequestLike | undefined
  /** The runtime object that sends the prelude. Default: the `awslambda` global. */
  awslambda?:
    | Pick<Awslambda, 'HttpResponseStream'>
    | Pick<PortableAwslambda, 'HttpResponseStream'>
    | undefined
  /**
   * Where a refusal is reported: a request answered `409` (a cursor or `Last-Event-ID` the source cannot start
   * from) or `416` (a `Range` past the body's end) before any byte of the body — or `streamSse`'s `409` sent
   * in-band, as an `event: error`, once a heartbeat has sent the `200` — which the client sees but the function's
   * log otherwise would not. Called once per refusal, once the answer is written; `false` reports nothing.
   * Default: one line on `console.warn` (CloudWatch Logs, on Lambda) with the helper, the status, what the request
   * asked (its cursor, `Last-Event-ID` or `Range`, cut to 200 characters) and why.
   *
   * @example
   * await streamNdjson(responseStream, rows, {
   *   request: event,
   *   onRefusal: ({ status, helper, asked }) => console.log(JSON.stringify({ level: 'warn', msg: 'resume refused', status, helper, ...asked })),
   * })
   */
  onRefusal?: ((refusal: RefusalReport) => void) | false | undefined
}

/**
 * Options for bodies that can be proven complete by length and resumed with `Range` (NDJSON and bytes).
 *
 * @example
 * await streamBytes(responseStream, chunks, { length: 1_048_576, etag: '"report-2026-10-v3"' })
 */
export interface LengthOptions {
  /**
   * The body's exact length in bytes, when known before it is written: sent as `Content-Length` (seen by the
   * client as `x-amzn-remapped-content-length`) instead of the end marker. A body that turns out longer or
   * shorter is cut with an error. Default: unknown, so the end marker is used; `0` also uses the marker, since
   * an empty body can hang a function URL.
   */
  length?: number | undefined
  /**
   * A strong ETag for the body, sent as `ETag` and compared with `If-Range`. Giving one asserts the body is
   * deterministic (the same bytes on every request), so it also turns `range` on. Quotes are added when missing.
   * Default: none.
   */
  etag?: string | undefined
  /**
   * Answer `Range: bytes=N-` by regenerating the body and skipping its first N bytes; announces
   * `Accept-Ranges: bytes`. Only for deterministic bodies. Default: `true` when `etag` is given, else `false`.
   */
  range?: boolean | undefined
}

/**
 * Where a resumable source's position (a cursor) is read from the request.
 *
 * @example
 * await streamNdjson(responseStream, rowsAfter, { request: event, cursorParam: 'after' })
 */
export interface CursorOptions {
  /** Query parameter holding the cursor; checked first. Default `'cursor'`. */
  cursorParam?: string | undefined
  /** Request header holding the cursor; checked when the query parameter is absent. Default `'x-sluice-cursor'`. */
  cursorHeader?: string | undefined
}
