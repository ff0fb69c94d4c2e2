import { isBodiless } from '../core/bodiless.ts'
import { describeValue } from '../runtime/describe-value.ts'
import { quoted } from '../runtime/refusal-text.ts'
import { isSseEvent, type SseEvent, sseEventText } from '../runtime/sse-event.ts'
import { checkOptions, checkSseLength, HELPER_OPTIONS } from './check-options.ts'
import { withHeartbeat } from './heartbeat.ts'
import type { CursorOptions, ResponseOptions, ResumableSource } from './options.ts'
import { type PaddingOptions, SSE_FILLER, withPadding } from './padding.ts'
import { bounded, CONFLICT, Refusal } from './refusal.ts'
import { cursorOf, lastEventIdOf } from './request.ts'
import { writeBody } from './respond.ts'
import {
  iterableOf,
  plainSource,
  type Reading,
  readingOf,
  releasedOnFailure,
  sourceToRead,
} from './source.ts'
import type { AnyResponseStream } from './types.ts'

/**
 * An item of an SSE source: an event, or a string as shorthand for `{ data: string }`.
 *
 * @example
 * async function* tokens(): AsyncGenerator<SseMessage> { yield 'Hel'; yield { id: '2', data: 'lo' } }
 */
export type SseMessage = string | SseEvent

/**
 * Options of {@link streamSse}: response and cursor options, heartbeats, the `retry:` field and padding.
 *
 * @example
 * const options: SseOptions = { request: event, heartbeatMs: 10_000, retry: 2_000 }
 */
export interface SseOptions extends ResponseOptions, CursorOptions {
  /**
   * Send a `:` comment after this many milliseconds without an event (the first one after at most 5 s, before
   * a client's header timeout); `0` disables. Default 15000.
   */
  heartbeatMs?: number | undefined
  /**
   * Send `retry: N` with the first event, telling clients how long to wait before reconnecting; not to a request
   * that continues the stream — one with a `Last-Event-ID` or a cursor — whose client keeps the time it was given.
   * Default: not sent.
   */
  retry?: number | undefined
  /**
   * Push a small write out of the runtime, which can hold back writes until tens of KB have accumulated: after a
   * write (an event or a heartbeat) followed by `idleMs` without another, top what was written up to `bytes` with
   * comment lines (`:` and spaces, each followed by a blank line), which every SSE client ignores. Costs up to
   * `bytes` per pause; the first padding follows the first write, never comes before it. `true` takes the defaults
   * (16 KiB, 50 ms). Default `false`.
   *
   * @example
   * await streamSse(responseStream, tokensAfter, { request: event, padding: { idleMs: 20 } })
   */
  padding?: boolean | PaddingOptions | undefined
}

const encoder = new TextEncoder()
const heartbeat = encoder.encode(':\n\n')
/**
 * The first heartbeat comes sooner: status and headers wait for the first byte, and a client gives up on them
 * after its header timeout (sluice's, ky's, is 10 s), which a slow first event (a cold model) can pass.
 */
const FIRST_BEAT_MS = 5_000

/**
 * An item that is an event, or a `TypeError` that says what it is: anything else — `{ token }`, a number, `null` —
 * would go out as a bare blank line, its data lost without a sign (sluice/mock sends such a value as data).
 */
function eventOf(message: unknown): SseEvent {
  if (isSseEvent(message)) return message
  const isObject = typeof message === 'object' && message !== null && !Array.isArray(message)
  const what = isObject
    ? `an object without id, event, data, retry or comment (keys: ${Object.keys(message).join(', ')})`
    : describeValue(message)
  throw new TypeError(
    `sluice/lambda: streamSse got ${what} as an event; yield a string, or an object with id, event, data, retry or comment ({ data: value } sends a value as JSON).`,
  )
}

/**
 * Formats one event as SSE text, ending with the blank line that dispatches it.
 *
 * @example
 * formatSseEvent({ id: '1', data: 'hi' }) // 'id: 1\ndata: hi\n\n'
 */
export function formatSseEvent(message: SseMessage): string {
  return sseEventText(
    typeof message === 'string' ? { data: message } : eventOf(message),
    'sluice/lambda: streamSse got',
  )
}

async function* sseChunks(
  source: ResumableSource<SseMessage>,
  options: SseOptions,
  reading: Reading,
): AsyncGenerator<Uint8Array> {
  const lastEventId = lastEventIdOf(options.request)
  const cursor = cursorOf(options.request, options)
  // The retry: field goes out with the first event, not before the source has run: a source that fails at
  // once still gets an error status instead of a cut 200. A request that continues the stream keeps the
  // reconnection time it was given (WHATWG): sent again, the line would be bytes its client already received,
  // counted twice in its progress. A Last-Event-ID says so; so does a cursor, the same "start after this event"
  // by other means — nothing else in a request tells sluice's reconnect from a first request (a new page that
  // starts from a saved cursor misses the field, and keeps its own default, unless the source yields a retry).
  let first = ''
  if (options.retry !== undefined && !lastEventId && !cursor) first = `retry: ${options.retry}\n\n`
  const messages: AsyncIterable<SseMessage> | Iterable<SseMessage> =
    typeof source === 'function'
      ? sourceToRead(reading.use(source(lastEventId ?? cursor)), 'streamSse', true)
      : // A plain iterable replays from its start: what the client already has, up to its Last-Event-ID, is
        // skipped; a cursor names no event to look for, so a request that carries one is refused.
        lastEventId !== undefined
        ? after(sourceToRead(source, 'streamSse', false), lastEventId)
        : sourceToRead(plainSource(source, cursor, 'streamSse', options), 'streamSse', false)
  for await (const message of messages) {
    yield encoder.encode(first + formatSseEvent(message))
    first = ''
  }
}

/** The messages after the one whose id is `id`; a source without it cannot be continued, and says so. */
async function* after(
  messages: AsyncIterable<SseMessage> | Iterable<SseMessage>,
  id: string,
): AsyncGenerator<SseMessage> {
  let found = false
  for await (const message of messages) {
    if (found) yield message
    else found = hasId(message, id)
  }
  // Nothing was yielded: a refusal before the first byte, unless heartbeats went out while the search ran (see
  // `inBand`).
  if (!found) throw noSuchEvent(id)
}

/**
 * `chunks`, and a refusal that comes after some of them — heartbeats that kept the client waiting through a slow
 * replay sent the 200 its 409 would have replaced — as the last event before the cut: `event: error` with the
 * status and message as JSON, which a client can tell from the stream's events and stop on, where the cut alone
 * would have it ask again, a replay each time, to the same end. The heartbeats stay: without them a client's
 * header timeout would end a slow replay that finds the id.
 */
async function* inBand(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let sent = false
  try {
    for await (const chunk of chunks) {
      sent = true
      yield chunk
    }
  } catch (error) {
    if (sent && error instanceof Refusal) {
      const { status, message } = error
      yield encoder.encode(formatSseEvent({ event: 'error', data: { status, message } }))
    }
    throw error
  }
}

const hasId = (message: SseMessage, id: string): boolean => typeof message === 'object' && message?.id === id

function noSuchEvent(id: string): Refusal {
  return new Refusal(
    CONFLICT,
    `sluice/lambda: streamSse cannot continue after the Last-Event-ID: no event of its source (a plain iterable) has that id; replay the same events with the same ids, or pass a function (lastEventId) => events after it. The request carried Last-Event-ID ${quoted(id)}.`,
    { lastEventId: bounded(id) },
  )
}

/**
 * What a HEAD asks of the source in place of its events: a function source is not called; a plain one gets the 409
 * its GET would get — for a cursor at once; for a `Last-Event-ID` when its events are in memory (a sync iterable,
 * searched up to that event and no further). An async one is not replayed: its events may come at the pace they
 * are made, which would hold the head back as long (for ever, for a live source); it gets the 200 head.
 */
function probe(source: ResumableSource<SseMessage>, options: SseOptions): void {
  if (typeof source === 'function') return
  const lastEventId = lastEventIdOf(options.request)
  if (lastEventId === undefined) {
    iterableOf(
      plainSource(source, cursorOf(options.request, options), 'streamSse', options),
      'streamSse',
      false,
    )
    return
  }
  const events = iterableOf(source, 'streamSse', false) as Partial<AsyncIterable<SseMessage>>
  // What a GET reads with `for await`: the async iterator when there is one.
  if (events[Symbol.asyncIterator] !== undefined) return
  for (const message of events as Iterable<SseMessage>) if (hasId(message, lastEventId)) return
  throw noSuchEvent(lastEventId)
}

/**
 * Writes server-sent events (`text/event-stream`) from `source`, with a heartbeat comment while the source is
 * idle, then the end marker.
 *
 * A function source is called with the id after which to start: the request's `Last-Event-ID` header, else its cursor
 * (`?cursor=` or `x-sluice-cursor` by default), else `undefined`. A plain iterable is replayed past the event with the
 * `Last-Event-ID`; it cannot start after a cursor, so a request that carries only a cursor, or a `Last-Event-ID` none
 * of its events has, is answered `409` with a text body that says so (a status clients do not ask again) — or, when a
 * heartbeat sent the `200` while a slow replay ran, by an `event: error` whose data is `{"status":409,"message":"…"}`,
 * before the cut. SSE bodies are not byte-deterministic (heartbeats depend on timing), so they resume by event id, not
 * by `Range`. Resolves when the last byte is handed to the runtime; if the source throws, the response is cut (no
 * marker) and the promise rejects. With `padding`, an event written after a pause reaches the client at once, not with
 * the next tens of KB (see {@link SseOptions.padding}). An unknown option, or one of the wrong type, rejects with a
 * `TypeError` that says what to pass, before anything is written, and the source is released (a Node stream destroyed,
 * a web stream cancelled); so does a `content-length` header with heartbeats or padding, whose timing decides the
 * length.
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   await streamSse(responseStream, async function* (lastId) {
 *     for (const [i, token] of tokens.entries()) if (lastId === undefined || i > Number(lastId)) yield { id: String(i), data: token }
 *   }, { request: event })
 * })
 */
export async function streamSse(
  responseStream: AnyResponseStream,
  source: ResumableSource<SseMessage>,
  options: SseOptions = {},
): Promise<void> {
  await releasedOnFailure(source, async () => {
    checkOptions({ got: 'streamSse got' }, options, HELPER_OPTIONS.streamSse)
    // A 204 (how a server tells EventSource to stop reconnecting) has no body, not even a heartbeat.
    const beatMs = isBodiless(options.statusCode ?? 200) ? 0 : (options.heartbeatMs ?? 15_000)
    checkSseLength(options, beatMs > 0)
    // Padding goes outside the heartbeat: a heartbeat is a write too, which the runtime would hold back.
    const reading = readingOf(source)
    const chunks = withPadding(
      inBand(withHeartbeat(sseChunks(source, options, reading), beatMs, heartbeat, FIRST_BEAT_MS)),
      options.padding,
      SSE_FILLER,
    )
    await writeBody(responseStream, chunks, options, {
      helper: 'streamSse',
      contentType: 'text/event-stream; charset=utf-8',
      defaultHeaders: { 'cache-control': 'no-cache' },
      rangeable: false,
      release: reading.release,
      probe: () => probe(source, options),
    })
  })
}
