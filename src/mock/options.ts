import type { HeadersInput } from '../runtime/headers-init.ts'
import { HTTP_TOKEN } from '../runtime/http-token.ts'
import { CURSOR_HEADER, CURSOR_PARAM } from '../runtime/refusal-text.ts'
import { describeValue, type MockFormat } from './parts.ts'

/**
 * Faults to inject into a mock body, at byte offsets counted from the start of this response's body — after
 * range slicing, so a `206` that starts at byte 100 of the whole body drops at byte 100 + N of the whole body
 * with `dropAfterBytes: N`. Set at most one fault. An offset equal to the body's length fires after the last
 * byte (all bytes arrive, then the fault); an offset past the end never fires. Under a `Content-Length`, an offset
 * at or past it never fires: an HTTP client has the whole message by then, so the body ends cleanly.
 *
 * Default: no fault.
 *
 * @example
 * mockStream(parts, { dropAfterBytes: 1024 })   // the client sees 1024 bytes, then a TypeError
 */
export interface MockFaults {
  /** After N bytes the body fails with a `TypeError`, as a dropped connection does. */
  dropAfterBytes?: number | undefined
  /** After N bytes the body sends nothing more and never ends, until the reader cancels it (or `signal` aborts). */
  stallAfterBytes?: number | undefined
  /** After N bytes the body fails with `error`, as a server that throws mid-body. */
  errorAfterBytes?: number | undefined
  /** The error for `errorAfterBytes`. Default: an `Error` whose message names the offset. */
  error?: unknown
  /**
   * After N bytes the body ends cleanly: the "clean EOF that is not complete" of a Lambda function URL whose
   * handler failed after the headers. No end marker is sent. When the response declares a `Content-Length`,
   * HTTP clients cannot see a short body as a clean end, so the body fails with a `TypeError` instead (at or
   * past the declared length, it is a complete, clean end) — use
   * `contentLength: 'remapped'` to model a Lambda that declared its length.
   */
  truncate?: number | undefined
}

/**
 * Options of {@link mockStream}: the response's status and headers, the body's pacing and chunking, faults, and
 * the resume protocols to honour for a given request.
 *
 * @example
 * mockStream(rows, { format: 'ndjson', chunkSize: 1, endMarker: true, dropAfterBytes: 40 })
 */
export interface MockStreamOptions extends MockFaults {
  /**
   * How parts become bytes, and the `content-type` sent unless `headers` give one: that of sluice/lambda's helpers,
   * `application/octet-stream`, `application/x-ndjson` or `text/event-stream; charset=utf-8`. Default: `'raw'`.
   */
  format?: MockFormat | undefined
  /** Milliseconds to wait before each chunk after the first. Default: `0`. */
  delayMs?: number | undefined
  /**
   * Caps the body's average rate from its first chunk; without `chunkSize`, chunks are cut to a tenth of a
   * second's worth so the pace is smooth. Default: unlimited.
   */
  bytesPerSecond?: number | undefined
  /** Re-chunks the encoded body into chunks of exactly this many bytes (the last may be shorter); `1` works. Default: one chunk per part. */
  chunkSize?: number | undefined
  /** The response status. Default: `200`. */
  status?: number | undefined
  /**
   * The response status text, of `status` only: a `206`, `409` or `416` answered in its place gets the default.
   * Default: `''`.
   */
  statusText?: string | undefined
  /**
   * Headers to send; they override the format's `content-type`, never the range, length or marker headers: a
   * `content-length` here declares the whole body, and is sent as the length of what this response carries (the
   * part of a `206`, plus the end marker). Default: none.
   */
  headers?: HeadersInput | undefined
  /**
   * Declares the body's length: `true` as `Content-Length`, `'remapped'` as `x-amzn-remapped-content-length`
   * (what a function URL turns a handler's `Content-Length` into, with a chunked body; a `409` or `416` text's
   * length is then named so too). Needs parts that are not async, since the whole body is encoded first.
   * Default: `false` (chunked, length unknown).
   */
  contentLength?: boolean | 'remapped' | undefined
  /**
   * Ends the body with sluice's end-marker line `{"$sluice":"end","bytes":N}\n` and sends `x-sluice-end: marker`
   * (see CONTRIBUTING.md, "The end-of-stream protocol"). `N` counts the complete, unranged body before the marker.
   * Default: `false`.
   */
  endMarker?: boolean | undefined
  /** Aborting it fails the body with the signal's reason, as a server that gives up would. Default: none. */
  signal?: AbortSignal | undefined
  /** The request being answered; `range`, `lastEventId` and `cursor` read it. Default: none. */
  request?: Request | undefined
  /**
   * Honours `Range: bytes=N-` (and `If-Range`: the ETag, or without one the `last-modified` date in `headers`) on
   * `request` with `206`, `416` (with `Content-Range: bytes *\/L` and
   * a one-line text body, as sluice/lambda sends it) or the full answer, and announces `Accept-Ranges: bytes` and
   * the `ETag`, for any success `status` with a body, as sluice/lambda does; an error status is not the resource,
   * and gets neither the range nor `Accept-Ranges`. Other range forms are ignored (the full answer), as is a range
   * on a HEAD (the full answer's head); a POST's is answered as a GET's, as sluice/lambda answers it. With
   * `endMarker`, the `206` says `Content-Range: bytes N-*\/*`, as sluice/lambda does for marked bodies. Over
   * async parts the length is not known in advance (unless a `content-length` in `headers` states it): the `206`
   * says `Content-Range: bytes N-*\/*`, and a start past the end gets an empty `206` from `mockStream`, which
   * answers at once, but a `416` from `streamHandler`, which pulls the parts up to the start first. Parts that are
   * not async are encoded up front to know the length, so they must be finite. Default: `false`.
   */
  range?: boolean | undefined
  /**
   * With `format: 'sse'`, honours `Last-Event-ID` on `request` by sending only the events after the event with
   * that id (the header's bytes read as UTF-8, as EventSource and sluice send an id). When no event has it, parts
   * that are not async (an array, or a sync iterable, then read whole first: it must be finite) are answered `409`
   * with a text body that says why, as `sluice/lambda` answers (with its headers: the caller's but `etag` and
   * `accept-ranges`, and `x-content-type-options: nosniff`); async parts, pulled once the head is sent, end the
   * body with that 409 in-band, `event: error` with the data `{"status":409,"message":"…"}`, then fail it (no end
   * marker), as sluice/lambda does once a heartbeat has sent its 200; a HEAD over them gets the `200` head, as from
   * sluice/lambda, which replays no async events for a HEAD. Default: `false`.
   */
  lastEventId?: boolean | undefined
  /**
   * Reads a resume cursor from `request` as sluice/lambda's `streamNdjson` and `streamSse` do: the `cursorParam`
   * query parameter first (its values joined with commas, as a function URL joins them), then the `cursorHeader`
   * header. A request that carries a non-empty one is answered `409` with a one-line text that says why, as
   * sluice/lambda answers it for a plain iterable (with its headers: the caller's but `etag` and `accept-ranges`,
   * and `x-content-type-options: nosniff`): parts given as they are start from the first, and sending them again
   * would duplicate what the client has. A `streamHandler` function source is told the cursor instead
   * (`info.cursor`), and trusted to return the parts after it. With `lastEventId`, a request that carries a
   * `Last-Event-ID` is answered by it, cursor or not, as sluice/lambda's `streamSse` answers it. Default: `false`.
   */
  cursor?: boolean | undefined
  /** The query parameter `cursor: true` reads the cursor from (checked first). Default: `'cursor'`. */
  cursorParam?: string | undefined
  /** The header `cursor: true` reads the cursor from, when the query parameter is absent. Default: `'x-sluice-cursor'`. */
  cursorHeader?: string | undefined
  /**
   * The body's strong ETag, for `If-Range`. Default: an `etag` in `headers`, if any, as sluice/lambda takes it
   * (a weak one validates no range); otherwise, with `range` and parts that are not async, a hash of the body
   * (sluice/lambda sends none without `etag`); otherwise none (then an `If-Range` with a tag gets the full `200`).
   */
  etag?: string | undefined
}

/** Options after validation, with defaults applied. */
export interface ValidOptions {
  format: MockFormat
  delayMs: number
  bytesPerSecond: number | undefined
  chunkSize: number | undefined
  status: number
  statusText: string | undefined
  headers: HeadersInput | undefined
  contentLength: boolean | 'remapped'
  endMarker: boolean
  signal: AbortSignal | undefined
  request: Request | undefined
  range: boolean
  lastEventId: boolean
  cursor: boolean
  cursorParam: string
  cursorHeader: string
  etag: string | undefined
  fault: FaultSpec | undefined
}

/** The one fault of a response, before its offset is known to be reachable. */
export interface FaultSpec {
  kind: 'drop' | 'stall' | 'error' | 'truncate'
  at: number
  error: unknown
}

const FAULT_KEYS = {
  dropAfterBytes: 'drop',
  stallAfterBytes: 'stall',
  errorAfterBytes: 'error',
  truncate: 'truncate',
} as const

const KNOWN = new Set([
  'format',
  'delayMs',
  'bytesPerSecond',
  'chunkSize',
  'status',
  'statusText',
  'headers',
  'contentLength',
  'endMarker',
  'signal',
  'request',
  'range',
  'lastEventId',
  'cursor',
  'cursorParam',
  'cursorHeader',
  'etag',
  'error',
  ...Object.keys(FAULT_KEYS),
])

// A strong entity tag (RFC 9110): no W/ prefix, quoted, visible characters other than the quote.
const STRONG_ETAG = /^"[\x21\x23-\x7e\x80-\xff]*"$/

/** How a caller validates: `extraKeys` are options it handles itself; `requestLater` when it supplies the request. */
export interface ValidateContext {
  where: string
  extraKeys: readonly string[]
  requestLater: boolean
}

/** Validates mockStream's options and applies their defaults. */
export function validateOptions(
  options: unknown,
  { where, extraKeys, requestLater }: ValidateContext = {
    where: 'mockStream',
    extraKeys: [],
    requestLater: false,
  },
): ValidOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describeValue(options)}.`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key) && !extraKeys.includes(key)) {
      // A misspelt option would otherwise be ignored and the test would pass for the wrong reason.
      throw new TypeError(
        `${where}: unknown option '${key}'. Known options: ${[...KNOWN, ...extraKeys].join(', ')}.`,
      )
    }
  }
  const format = o.format ?? 'raw'
  if (format !== 'raw' && format !== 'ndjson' && format !== 'sse') {
    throw new TypeError(`${where}: format must be 'raw', 'ndjson' or 'sse', got ${describeValue(format)}.`)
  }
  const delayMs = number(o.delayMs, 'delayMs', where, { min: 0 }) ?? 0
  const bytesPerSecond = number(o.bytesPerSecond, 'bytesPerSecond', where, { min: 0, exclusive: true })
  const chunkSize = number(o.chunkSize, 'chunkSize', where, { min: 1, integer: true })
  const status = number(o.status, 'status', where, { min: 200, max: 599, integer: true }) ?? 200
  const statusText = optional(o.statusText, 'string', 'statusText', where)
  // What the Response constructor takes (a reason phrase: HTAB, SP, VCHAR, obs-text), checked here so that the
  // message names the option rather than be the platform's bare "Invalid statusText".
  if (statusText !== undefined && !/^[\t\x20-\x7e\x80-\xff]*$/.test(statusText)) {
    throw new TypeError(
      `${where}: statusText must be an HTTP reason phrase, which a Response takes only of tabs, spaces, visible ASCII and characters U+0080–U+00FF, got ${describeValue(statusText)}; remove its line breaks and other characters.`,
    )
  }
  const contentLength = o.contentLength ?? false
  if (typeof contentLength !== 'boolean' && contentLength !== 'remapped') {
    throw new TypeError(
      `${where}: contentLength must be true, false or 'remapped', got ${describeValue(contentLength)}.`,
    )
  }
  const endMarker = optional(o.endMarker, 'boolean', 'endMarker', where) ?? false
  const range = optional(o.range, 'boolean', 'range', where) ?? false
  const lastEventId = optional(o.lastEventId, 'boolean', 'lastEventId', where) ?? false
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal, got ${describeValue(o.signal)}.`)
  }
  if (o.request !== undefined && !(o.request instanceof Request)) {
    throw new TypeError(`${where}: request must be a Request, got ${describeValue(o.request)}.`)
  }
  const cursor = optional(o.cursor, 'boolean', 'cursor', where) ?? false
  const cursorParam = optional(o.cursorParam, 'string', 'cursorParam', where)
  const cursorHeader = optional(o.cursorHeader, 'string', 'cursorHeader', where)
  if (cursorParam === '') throw new TypeError(`${where}: cursorParam must be a query parameter name, got "".`)
  if (cursorHeader !== undefined && !HTTP_TOKEN.test(cursorHeader)) {
    throw new TypeError(
      `${where}: cursorHeader must be a header name, such as "x-sluice-cursor", got ${describeValue(cursorHeader)}.`,
    )
  }
  if (!cursor && (cursorParam ?? cursorHeader) !== undefined) {
    throw new TypeError(
      `${where}: cursorParam and cursorHeader name where cursor: true reads the cursor; pass cursor: true too.`,
    )
  }
  if ((range || lastEventId || cursor) && o.request === undefined && !requestLater) {
    throw new TypeError(
      `${where}: ${range ? 'range' : lastEventId ? 'lastEventId' : 'cursor'}: true reads the request, but no request was given. Pass request (streamHandler passes it for you).`,
    )
  }
  if (lastEventId && format !== 'sse') {
    throw new TypeError(
      `${where}: lastEventId: true needs format: 'sse', whose events carry ids; got format '${format}'.`,
    )
  }
  const etag = optional(o.etag, 'string', 'etag', where)
  if (etag !== undefined && !STRONG_ETAG.test(etag)) {
    throw new TypeError(
      `${where}: etag must be a strong entity tag in double quotes, like '"v1"', got ${describeValue(etag)}; If-Range compares strong tags only.`,
    )
  }
  if (o.headers !== undefined) {
    try {
      new Headers(o.headers as HeadersInput)
    } catch (error) {
      throw new TypeError(
        `${where}: headers must be a valid HeadersInit (object, array of pairs or Headers): ${String(error)}`,
        {
          cause: error,
        },
      )
    }
  }
  return {
    format,
    delayMs,
    bytesPerSecond,
    chunkSize,
    status,
    statusText,
    headers: o.headers as HeadersInput | undefined,
    contentLength,
    endMarker,
    signal: o.signal as AbortSignal | undefined,
    request: o.request as Request | undefined,
    range,
    lastEventId,
    cursor,
    cursorParam: cursorParam ?? CURSOR_PARAM,
    cursorHeader: cursorHeader ?? CURSOR_HEADER,
    etag,
    fault: fault(o, where),
  }
}

function fault(o: Record<string, unknown>, where: string): FaultSpec | undefined {
  const set = (Object.keys(FAULT_KEYS) as (keyof typeof FAULT_KEYS)[]).filter((key) => o[key] !== undefined)
  if (set.length > 1) {
    throw new TypeError(`${where}: ${set.join(' and ')} are both set; pass one fault per response.`)
  }
  if (o.error !== undefined && set[0] !== 'errorAfterBytes') {
    throw new TypeError(
      `${where}: error is the error raised by errorAfterBytes; pass errorAfterBytes too, or leave error out.`,
    )
  }
  const key = set[0]
  if (key === undefined) return undefined
  const at = number(o[key], key, where, { min: 0, integer: true })!
  return { kind: FAULT_KEYS[key], at, error: o.error }
}

function number(
  value: unknown,
  name: string,
  where: string,
  rule: { min: number; max?: number; integer?: boolean; exclusive?: boolean },
): number | undefined {
  if (value === undefined) return undefined
  const what = rule.integer ? 'a whole number' : 'a finite number'
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (rule.integer && !Number.isSafeInteger(value))
  ) {
    throw new TypeError(`${where}: ${name} must be ${what}, got ${describeValue(value)}.`)
  }
  const below = rule.exclusive ? value <= rule.min : value < rule.min
  if (below || (rule.max !== undefined && value > rule.max)) {
    const bound = `${rule.exclusive ? '>' : '≥'} ${rule.min}${rule.max === undefined ? '' : ` and ≤ ${rule.max}`}`
    throw new RangeError(`${where}: ${name} must be ${bound}, got ${value}.${hint(name, value)}`)
  }
  return value
}

function hint(name: string, value: number): string {
  switch (name) {
    case 'chunkSize':
      return ' Pass 1 for one byte per chunk, or leave it out to send each part as one chunk.'
    case 'bytesPerSecond':
      return ' Leave it out for an unlimited rate.'
    case 'status':
      // Only a status below the range is one a Response cannot carry; one above it is no HTTP status at all.
      return value < 200 ? ' A Response cannot carry a 1xx status; pass a final status.' : ''
    default:
      return ''
  }
}

function optional<T extends 'string' | 'boolean'>(
  value: unknown,
  type: T,
  name: string,
  where: string,
): (T extends 'string' ? string : boolean) | undefined {
  if (value === undefined) return undefined
  if (typeof value !== type)
    throw new TypeError(`${where}: ${name} must be a ${type}, got ${describeValue(value)}.`)
  return value as T extends 'string' ? string : boolean
}
