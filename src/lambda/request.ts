import { idFromHeader } from '../core/resume/event-id-header.ts'
import { CURSOR_HEADER, CURSOR_PARAM } from '../runtime/refusal-text.ts'
import type { LambdaFunctionUrlEvent } from './types.ts'

/**
 * The parts of a function-URL event the helpers read (headers, query and method): a full event fits, and so does a
 * hand-made one in tests (without `requestContext`, it is taken for a GET). An `undefined` field or value is an
 * absent one, so that an event typed by another package (`@types/aws-lambda`, whose header values may be
 * `undefined`) fits too, and so do fields forwarded as they are under `exactOptionalPropertyTypes`.
 *
 * @example
 * const request: RequestLike = { headers: { range: 'bytes=100-' }, rawQueryString: 'cursor=42' }
 */
export interface RequestLike {
  /** {@link LambdaFunctionUrlEvent.headers}: names in any case. */
  headers: Record<string, string | undefined>
  /** {@link LambdaFunctionUrlEvent.queryStringParameters}: read before `rawQueryString`. */
  queryStringParameters?: Record<string, string | undefined> | undefined
  /** {@link LambdaFunctionUrlEvent.rawQueryString}. */
  rawQueryString?: string | undefined
  /** Its `http.method`: a HEAD gets the head its GET would get. Default: a GET. */
  requestContext?: { http: { method: string } } | undefined
}

/** Whether the request is a HEAD, which gets the head its GET would get and no body. */
export function isHead(request: RequestLike | undefined): boolean {
  return request?.requestContext?.http?.method === 'HEAD'
}

/** Reads a request header by name, whatever its case (function URLs lower-case them; hand-made events may not). */
export function headerOf(request: RequestLike | undefined, name: string): string | undefined {
  if (request === undefined) return undefined
  const lower = name.toLowerCase()
  const direct = request.headers[lower]
  if (direct !== undefined) return direct
  for (const [key, value] of Object.entries(request.headers))
    if (value !== undefined && key.toLowerCase() === lower) return value
  return undefined
}

/** Reads a query parameter, from the parsed map when present, else from the raw query string. */
export function queryOf(request: RequestLike | undefined, name: string): string | undefined {
  if (request === undefined) return undefined
  const parsed = request.queryStringParameters?.[name]
  if (parsed !== undefined) return parsed
  if (!request.rawQueryString) return undefined
  return new URLSearchParams(request.rawQueryString).get(name) ?? undefined
}

/**
 * The start offset of a `Range: bytes=N-` header, or undefined when there is none or it has another form.
 *
 * Only the open-ended single range is honoured: it is what a resuming client sends, and ignoring the other
 * forms (answering the full 200) is what RFC 9110 allows.
 */
export function rangeStartOf(request: RequestLike | undefined): number | undefined {
  const value = headerOf(request, 'range')
  if (value === undefined) return undefined
  const match = /^\s*bytes\s*=\s*(\d+)\s*-\s*$/i.exec(value)
  if (match === null) return undefined
  const start = Number(match[1])
  return Number.isSafeInteger(start) ? start : undefined
}

/**
 * The SSE event id a request's `Last-Event-ID` carries: its bytes read as UTF-8, as EventSource and sluice send an
 * id, whether the front end gave them as Latin-1 characters (Node's http, `sluice dev`) or decoded already.
 */
export function lastEventIdOf(request: RequestLike | undefined): string | undefined {
  const value = headerOf(request, 'last-event-id')
  return value === undefined ? undefined : idFromHeader(value)
}

/** The resume cursor of a request: the query parameter first, then the header. */
export function cursorOf(
  request: RequestLike | undefined,
  options: { cursorParam?: string | undefined; cursorHeader?: string | undefined },
): string | undefined {
  return (
    queryOf(request, options.cursorParam ?? CURSOR_PARAM) ??
    headerOf(request, options.cursorHeader ?? CURSOR_HEADER)
  )
}
