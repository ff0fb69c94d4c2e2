import { isBodiless, isRangeableStatus } from '../core/bodiless.ts'
import { END_MARKER_HEADER, endMarkerLine } from '../core/end-marker.ts'
import { idFromHeader } from '../core/resume/event-id-header.ts'
import { cursorConflict, quoted } from '../runtime/refusal-text.ts'
import { release } from '../runtime/release.ts'
import { type BodyFault, createBodyStream } from './body-stream.ts'
import { closing } from './closing.ts'
import { type MockStreamOptions, type ValidOptions, validateOptions } from './options.ts'
import {
  describeValue,
  encodePart,
  encodeParts,
  hasId,
  isPartError,
  type MockFormat,
  type MockStreamParts,
} from './parts.ts'
import { contentRange, etagOf, planRange } from './range.ts'
import { givenOnce } from './read-once.ts'

// The content types sluice/lambda's helpers send.
const CONTENT_TYPES: Record<MockFormat, string> = {
  raw: 'application/octet-stream',
  ndjson: 'application/x-ndjson',
  sse: 'text/event-stream; charset=utf-8',
}
const encoder = new TextEncoder()

/**
 * A web `Response` whose body streams `parts` — with pacing, chunking, injected faults and, when asked, the
 * server side of sluice's resume protocols (`Range`, `Last-Event-ID`, a cursor) for `options.request`.
 *
 * Parts in an array are checked and encoded here, so a part that cannot be sent (an object with `format: 'raw'`,
 * a value with no JSON form, an SSE id with a line break) throws a `TypeError` that names it, before any
 * response exists. Other iterables are pull-based: a part is taken only when the reader asks for more, a bad
 * one fails the body at that point (with that error), and cancelling the body stops production (a generator's
 * `finally` runs). Parts that can be read only once (a generator, a stream) are refused with a `TypeError` when an
 * earlier `mockStream()` was given them (one made outside an msw resolver): make new parts for each response. Fault
 * offsets count the bytes of this response's body, after range slicing. A body of unknown length is sent with
 * `transfer-encoding: chunked`, so that under `msw/node` a fault reaches the client as an error rather than as a
 * clean end.
 *
 * Defaults: `format: 'raw'`, status `200`, one chunk per part, no delay, no faults, no length, no end marker.
 *
 * @example
 * const response = mockStream([{ n: 1 }, { n: 2 }], { format: 'ndjson', chunkSize: 1, dropAfterBytes: 9 })
 * const res = await fromResponse(response)   // sees 9 bytes, then a TypeError
 *
 * @example
 * // the server side of a range resume
 * http.get(url, ({ request }) => mockStream(parts, { request, range: true }))
 *
 * @example
 * // a cursor resume of rows given as they are: a 409, as sluice/lambda answers it for a plain iterable
 * const refused = mockStream(rows, { format: 'ndjson', cursor: true, request: new Request(`${url}?cursor=1`) })
 */
export function mockStream(parts: MockStreamParts, options: MockStreamOptions = {}): Response {
  const o = validateOptions(options)
  givenOnce(parts)
  return respond(parts, o)
}

/** Who builds a response, for its messages, and what it knows beyond the options. */
export interface RespondContext {
  /** The function the parts were given to, which messages name. */
  where: string
  /** The length of async parts, when streamHandler pulled them to their end (for a `416`). */
  knownLength?: number | undefined
  /** Told of a part that fails the body while it streams (it cannot be checked earlier), before the body fails. */
  onPartError?: ((error: Error) => void) | undefined
  /** The parts are those a function source returned for the request's cursor: a cursor is no reason to refuse. */
  afterCursor?: boolean | undefined
  /**
   * The parts serve other requests too (streamHandler's, given as they are): an answer that reads none of them
   * leaves them as they are. Otherwise such an answer releases them (see `release`).
   */
  shared?: boolean | undefined
}

/** Builds the response from validated options; shared with streamHandler, which validates once up front. */
export function respond(
  parts: MockStreamParts,
  o: ValidOptions,
  { where, knownLength, onPartError, afterCursor, shared }: RespondContext = { where: 'mockStream' },
): Response {
  checkIterable(parts, o.status, where)
  const request = o.request
  // The caller's headers first, defaults only where they left a gap: copying them one by one with set() would
  // keep only the last of several Set-Cookie headers.
  const headers = new Headers(o.headers)
  if (!headers.has('content-type')) headers.set('content-type', CONTENT_TYPES[o.format])
  if (o.format === 'sse' && !headers.has('cache-control')) headers.set('cache-control', 'no-cache')
  // The status text goes with the status it was given for: not with a 206, 409 or 416 answered in its place.
  const init = (status: number): ResponseInit =>
    o.statusText === undefined || status !== o.status
      ? { status, headers }
      : { status, statusText: o.statusText, headers }
  // An answer that reads none of the parts (a HEAD, a refusal, a status without a body) lets go of them, as
  // sluice/lambda lets go of a source it answers without reading: a stream or a pulled generator stays open
  // otherwise, its connection, file or `finally` pending.
  const unread = (body: BodyInit | null, status: number): Response => {
    if (!shared) release(parts)
    return new Response(body, init(status))
  }
  // A refusal's one-line text, with the headers sluice/lambda sets on it: its length too, named as a function URL
  // renames it when the body's length is declared that way (and then framed as the body would be, chunked).
  const refuse = (status: number, message: string): Response => {
    const text = encoder.encode(`${message}\n`)
    headers.set('content-type', 'text/plain; charset=utf-8')
    headers.delete('content-length')
    headers.set(
      o.contentLength === 'remapped' ? 'x-amzn-remapped-content-length' : 'content-length',
      String(text.byteLength),
    )
    if (!headers.has('content-length')) headers.set('transfer-encoding', 'chunked')
    return unread(request?.method === 'HEAD' ? null : text, status)
  }
  // A position the parts cannot start from, refused as sluice/lambda refuses it: none of the caller's headers
  // that describe the stream go with it; the text quotes the request's value, and is never sniffed as anything
  // but text. 409 is a status clients do not ask again.
  const conflict = (message: string): Response => {
    headers.delete('etag')
    headers.delete('accept-ranges')
    headers.set('x-content-type-options', 'nosniff')
    return refuse(409, message)
  }

  // Its bytes read as UTF-8, as EventSource and sluice send an id (a Latin-1 one, from fetch, as it is).
  const sentId = o.lastEventId ? request!.headers.get('last-event-id') : null
  const lastEventId = sentId === null ? null : idFromHeader(sentId)
  const cursor = afterCursor ? undefined : cursorToRefuse(o)
  const sync = syncIterable(parts)
  if (o.contentLength !== false && sync === undefined) {
    throw new TypeError(
      `${where}: contentLength needs the whole body up front, but the parts are async. Pass an array or a sync iterable, or declare the length yourself in headers.`,
    )
  }
  // An array is encoded at once, so that a bad part throws here rather than fail the body on its way. So is a
  // sync iterable when a known length (for Content-Length, or Content-Range and 416) needs the body first, or a
  // Last-Event-ID its events (for the 409); others stay lazy, and async parts resume with sluice's `bytes N-*/*`.
  const measured = sync !== undefined && (o.contentLength !== false || o.range)
  const list = Array.isArray(parts)
    ? parts
    : sync !== undefined && (measured || lastEventId !== null)
      ? Array.from(sync)
      : undefined
  if (list !== undefined && lastEventId !== null && !list.some((part) => hasId(part, lastEventId))) {
    // As sluice/lambda refuses it: the events after that id cannot be known, and none sent, with the end marker,
    // would read as a complete stream.
    return conflict(noSuchEvent(where, lastEventId))
  }
  const chunks =
    list === undefined
      ? undefined
      : encodeParts(list, o.format, where, o.endMarker).slice(
          lastEventId === null ? 0 : afterEventIndex(list, lastEventId),
        )
  const bytes = chunks?.reduce((sum, chunk) => sum + chunk.length, 0)
  // The length the headers give only when asked for: a Content-Length in the caller's headers stays theirs, but
  // states the length of parts not measured, as sluice/lambda takes it (for Content-Range and 416).
  const stated = headers.get('content-length')
  const length = measured ? bytes : (knownLength ?? (/^\d+$/.test(stated ?? '') ? Number(stated) : undefined))
  // The caller's own ETag header, strong or weak, stands as sluice/lambda takes it: a hash only without one.
  const etag =
    o.etag ?? (o.range && chunks !== undefined && !headers.has('etag') ? etagOf(chunks, length!) : undefined)
  // Range is honoured for a success with a body, as sluice/lambda honours it: an error page is not the resource.
  const ranged = o.range && isRangeableStatus(o.status)
  if (ranged) headers.set('accept-ranges', 'bytes')
  if (etag !== undefined) headers.set('etag', etag)
  // sluice/lambda refuses a cursor when it pulls its source, which is after a Range past a declared length got
  // its 416.
  if (
    cursor !== undefined &&
    !(
      ranged &&
      (o.contentLength || stated !== null) &&
      planRange(request!, length, headers).kind === 'unsatisfiable'
    )
  )
    return conflict(cursorConflict(where, cursor[0], cursor[1], o))

  let status = o.status
  let start = 0
  if (ranged) {
    const plan = planRange(request!, length, headers)
    if (plan.kind === 'unsatisfiable') {
      // The 416 sluice/lambda sends, which has a short body because an empty one can hang a function URL.
      headers.set('content-range', `bytes */${length}`)
      return refuse(416, `Range not satisfiable: the body is ${length} bytes long.`)
    }
    if (plan.kind === 'partial') {
      status = 206
      start = plan.start
      // As sluice/lambda answers: a marked body proves its end in-band, so its range stays open (`bytes N-*/*`);
      // `bytes N-M/L` would not describe a body that carries the marker after byte M.
      headers.set('content-range', contentRange(start, o.endMarker ? undefined : length))
    }
  }
  // A 205 has no content, but unlike a 204 or 304 its message has a body to frame (RFC 9112 §6.3), empty and
  // chunked as a function URL sends it.
  if (status === 205) headers.set('transfer-encoding', 'chunked')
  if (isBodiless(status)) return unread(null, status)

  if (o.endMarker) headers.set(END_MARKER_HEADER, 'marker')
  const marker = o.endMarker && bytes !== undefined ? encoder.encode(endMarkerLine(bytes)) : undefined
  // A Content-Length in the caller's headers declares the whole body, as contentLength does: this response
  // carries the part from `start`, plus the marker, or the client would wait for bytes that never come.
  const declared = headers.get('content-length')
  const total =
    o.contentLength !== false ? length! : declared === null ? undefined : (length ?? Number(declared))
  if (total !== undefined) {
    const name = o.contentLength === 'remapped' ? 'x-amzn-remapped-content-length' : 'content-length'
    const bodyLength = total - start + (o.endMarker ? endMarkerLine(total).length : 0)
    if (bodyLength >= 0 && Number.isSafeInteger(bodyLength)) headers.set(name, String(bodyLength))
    else headers.delete(name)
  }
  // msw/node ends an unframed body at its first error as if it were complete; chunked framing (which a function
  // URL uses too) makes a mid-body failure reach the client as one.
  if (!headers.has('content-length') && !headers.has('transfer-encoding'))
    headers.set('transfer-encoding', 'chunked')
  // HEAD gets the headers GET would, lengths included, and no body.
  if (request?.method === 'HEAD') return unread(null, status)

  // A body cancelled before its first read never started lazyBody, whose end lets go of the parts: `closing` does
  // (parts that serve other requests stay as they are).
  const source =
    chunks === undefined
      ? closing(
          lazyBody(parts, lastEventId, {
            format: o.format,
            start,
            endMarker: o.endMarker,
            where,
            onPartError,
          }),
          () => shared || release(parts),
        )
      : slicedBody(chunks, start, marker)
  const body = createBodyStream(source, {
    chunkSize: o.chunkSize,
    delayMs: o.delayMs,
    bytesPerSecond: o.bytesPerSecond,
    fault: bodyFault(o, headers.get('content-length')),
    signal: o.signal,
  })
  return new Response(body, init(status))
}

function bodyFault(o: ValidOptions, declaredLength: string | null): BodyFault | undefined {
  const fault = o.fault
  if (fault === undefined) return undefined
  const { at } = fault
  // An HTTP client has the whole message once it has Content-Length bytes, and never sees a fault after them.
  if (declaredLength !== null && at >= Number(declaredLength)) return undefined
  switch (fault.kind) {
    case 'drop':
      return {
        kind: 'drop',
        at,
        error: new TypeError(`mockStream dropped the connection after ${at} bytes (dropAfterBytes: ${at}).`),
      }
    case 'error':
      return {
        kind: 'error',
        at,
        error:
          fault.error ??
          new Error(`mockStream failed after ${at} bytes of the body (errorAfterBytes: ${at}).`),
      }
    case 'truncate':
      if (declaredLength === null) return { kind: 'truncate', at, error: undefined }
      // An HTTP client never sees a body shorter than its Content-Length end cleanly (and msw/node would wait
      // for the rest forever), so the mock fails the way fetch does.
      return {
        kind: 'drop',
        at,
        error: new TypeError(
          `mockStream ended the body after ${at} bytes (truncate: ${at}), short of its Content-Length of ${declaredLength}; HTTP clients report that as a network error. Use contentLength: 'remapped' for a clean early end with a declared length.`,
        ),
      }
    case 'stall':
      return { kind: 'stall', at, error: undefined }
  }
}

/**
 * Checks that `parts` are parts (not one part by itself), and encodes them when they are an array, so that a
 * mistake throws where the parts are given; `where` names the function they were given to.
 */
export function checkParts(
  parts: unknown,
  o: Pick<ValidOptions, 'status' | 'format'>,
  where = 'mockStream',
): asserts parts is MockStreamParts {
  checkIterable(parts, o.status, where)
  if (Array.isArray(parts)) encodeParts(parts, o.format, where)
}

function checkIterable(parts: unknown, status: number, where: string): asserts parts is MockStreamParts {
  // streamHandler takes a source: the parts, or a function that returns them.
  const what =
    where === 'mockStream'
      ? 'parts must be an array or (async) iterable of'
      : 'the parts (source, or what it returns) must be an array or (async) iterable of'
  if (typeof parts === 'string' || parts instanceof Uint8Array) {
    throw new TypeError(
      `${where}: ${what} parts, got ${describeValue(parts)}. Wrap a single part in an array: [part].`,
    )
  }
  const iterable =
    typeof parts === 'object' && parts !== null && (Symbol.iterator in parts || Symbol.asyncIterator in parts)
  if (!iterable) {
    throw new TypeError(`${where}: ${what} strings, Uint8Arrays or values, got ${describeValue(parts)}.`)
  }
  if (isBodiless(status) && Array.isArray(parts) && parts.length > 0) {
    throw new TypeError(`${where}: a ${status} response has no body, but parts were given; pass [] as parts.`)
  }
}

function syncIterable(parts: MockStreamParts): Iterable<unknown> | undefined {
  return Symbol.iterator in parts ? (parts as Iterable<unknown>) : undefined
}

/**
 * Where the parts after the event whose id is `id` start: past the end when no event carries it (the mock
 * cannot know the position).
 */
function afterEventIndex(parts: readonly unknown[], id: string): number {
  return parts.findIndex((part) => hasId(part, id)) + 1
}

/** Why a `Last-Event-ID` that no event carries cannot be continued from, in sluice/lambda's words. */
function noSuchEvent(where: string, id: string): string {
  return `${where} cannot continue after the Last-Event-ID: no event of its parts has that id; replay the same events with the same ids. The request carried Last-Event-ID ${quoted(id)}.`
}

/**
 * The request's cursor with `cursor: true`, read as sluice/lambda reads it: the query parameter first (its values
 * joined with commas, as a function URL joins them), then the header; and whether it came in the query.
 */
export function cursorOf(o: ValidOptions): [cursor: string, inQuery: boolean] | undefined {
  if (!o.cursor) return undefined
  const values = new URL(o.request!.url).searchParams.getAll(o.cursorParam)
  const header = o.request!.headers.get(o.cursorHeader)
  return values.length > 0 ? [values.join(','), true] : header === null ? undefined : [header, false]
}

/**
 * The cursor for which parts given as they are get the 409: a non-empty one, unless a Last-Event-ID answers the
 * request (as it does in streamSse, cursor or not).
 */
export function cursorToRefuse(o: ValidOptions): [cursor: string, inQuery: boolean] | undefined {
  if (o.lastEventId && o.request!.headers.has('last-event-id')) return undefined
  const cursor = cursorOf(o)
  return cursor?.[0] ? cursor : undefined
}

async function* slicedBody(
  chunks: readonly Uint8Array[],
  start: number,
  marker: Uint8Array | undefined,
): AsyncGenerator<Uint8Array> {
  let offset = 0
  for (const chunk of chunks) {
    const end = offset + chunk.length
    if (end > start) yield offset >= start ? chunk : chunk.subarray(start - offset)
    offset = end
  }
  if (marker !== undefined) yield marker
}

/** How {@link lazyBody} encodes: the format, the first byte sent, the end marker, and for bad parts, who says so. */
interface LazyPlan {
  format: MockFormat
  start: number
  endMarker: boolean
  where: string
  onPartError: ((error: Error) => void) | undefined
}

/**
 * Encodes parts as they are pulled, after the event whose id is `lastEventId` when one is given, skipping the
 * first `start` bytes; the marker counts every byte. A part that cannot be encoded fails the body with an error
 * that gives its index among all the parts.
 */
async function* lazyBody(
  parts: MockStreamParts,
  lastEventId: string | null,
  { format, start, endMarker, where, onPartError }: LazyPlan,
): AsyncGenerator<Uint8Array> {
  let offset = 0
  let index = 0
  // Without a Last-Event-ID every part is sent; with one, those after the event that carries it.
  let sending = lastEventId === null
  try {
    for await (const part of parts) {
      const at = index++
      if (!sending) {
        sending = hasId(part, lastEventId!)
        continue
      }
      const chunk = encodePart(part, format, at, where, endMarker)
      const end = offset + chunk.length
      if (end > start) yield offset >= start ? chunk : chunk.subarray(start - offset)
      offset = end
    }
  } catch (error) {
    if (isPartError(error)) onPartError?.(error)
    throw error
  }
  // Async parts are pulled after the head went out: too late for a 409. It goes in-band, as sluice/lambda's
  // streamSse sends it once a heartbeat has sent the 200: an `event: error` whose data is the status and why, on
  // which a client can stop rather than ask again; then the body fails (no end marker), a cut stream, rather than
  // end as if every event after the id had been sent.
  if (!sending) {
    const message = noSuchEvent(where, lastEventId!)
    yield encodePart({ event: 'error', data: { status: 409, message } }, format, index, where)
    throw new Error(message)
  }
  if (endMarker) yield encoder.encode(endMarkerLine(offset))
}
