import { withHeartbeat } from './heartbeat.ts'
import type { CursorOptions, ResponseOptions, ResumableSource } from './options.ts'
import { cursorOf, headerOf } from './request.ts'
import { writeBody } from './respond.ts'
import { openSource } from './source.ts'
import type { AnyResponseStream } from './types.ts'

/**
 * One server-sent event. `data` that is not a string is sent as JSON; multi-line data becomes several `data:`
 * lines. Give every event an `id` to let clients resume with `Last-Event-ID`.
 *
 * @example
 * const event: SseEvent = { id: '42', event: 'token', data: { text: 'Hel' } }
 */
export interface SseEvent {
  /** The event's id; the client sends the last one it saw as `Last-Event-ID` when it reconnects. */
  id?: string
  /** The event type. Default: none (the client sees `message`). */
  event?: string
  /** The payload: a string as it is, anything else as JSON. Default: no data line (an id-only checkpoint). */
  data?: unknown
  /** Reconnection delay in milliseconds the client should use from now on. */
  retry?: number
  /** A comment line, ignored by parsers. */
  comment?: string
}

/**
 * An item of an SSE source: an event, or a string as shorthand for `{ data: string }`.
 *
 * @example
 * async function* tokens(): AsyncGenerator<SseMessage> { yield 'Hel'; yield { id: '2', data: 'lo' } }
 */
export type SseMessage = string | SseEvent

/**
 * Options of {@link streamSse}: response and cursor options, heartbeats and the `retry:` field.
 *
 * @example
 * const options: SseOptions = { request: event, heartbeatMs: 10_000, retry: 2_000 }
 */
export interface SseOptions extends ResponseOptions, CursorOptions {
  /** Send a `:` comment after this many milliseconds without an event; `0` disables. Default 15000. */
  heartbeatMs?: number
  /** Send `retry: N` first, telling clients how long to wait before reconnecting. Default: not sent. */
  retry?: number
}

const encoder = new TextEncoder()
const heartbeat = encoder.encode(':\n\n')

function checkField(name: string, value: string): void {
  // A line break would end the field early and let the rest be read as other fields or events.
  if (/[\r\n]/.test(value) || (name === 'id' && value.includes('\0'))) {
    throw new TypeError(
      `sluice/lambda: streamSse got an event whose ${name} contains a line break${name === 'id' ? ' or NUL' : ''}; remove it (only data may span lines).`,
    )
  }
}

function checkRetry(retry: number): void {
  if (!(Number.isSafeInteger(retry) && retry >= 0)) {
    throw new RangeError(
      `sluice/lambda: streamSse got retry ${retry}; pass a non-negative whole number of milliseconds.`,
    )
  }
}

/**
 * Formats one event as SSE text, ending with the blank line that dispatches it.
 *
 * @example
 * formatSseEvent({ id: '1', data: 'hi' }) // 'id: 1\ndata: hi\n\n'
 */
export function formatSseEvent(message: SseMessage): string {
  const event: SseEvent = typeof message === 'string' ? { data: message } : message
  let text = ''
  if (event.comment !== undefined) for (const line of event.comment.split(/\r\n|\r|\n/)) text += `: ${line}\n`
  if (event.id !== undefined) {
    checkField('id', event.id)
    text += `id: ${event.id}\n`
  }
  if (event.event !== undefined) {
    checkField('event', event.event)
    text += `event: ${event.event}\n`
  }
  if (event.retry !== undefined) {
    checkRetry(event.retry)
    text += `retry: ${event.retry}\n`
  }
  if (event.data !== undefined) {
    const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
    if (data === undefined) {
      throw new TypeError(
        `sluice/lambda: streamSse got event data of type ${typeof event.data}, which JSON cannot represent; send a string or plain data.`,
      )
    }
    for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  }
  return `${text}\n`
}

async function* sseChunks(
  source: ResumableSource<SseMessage>,
  options: SseOptions,
): AsyncGenerator<Uint8Array> {
  if (options.retry !== undefined) {
    checkRetry(options.retry)
    yield encoder.encode(`retry: ${options.retry}\n\n`)
  }
  const position = () => headerOf(options.request, 'last-event-id') ?? cursorOf(options.request, options)
  for await (const message of openSource(source, position)) yield encoder.encode(formatSseEvent(message))
}

/**
 * Writes server-sent events (`text/event-stream`) from `source`, with a heartbeat comment while the source is
 * idle, then the end marker.
 *
 * A function source is called with the id after which to start: the request's `Last-Event-ID` header, else its
 * cursor (`?cursor=` or `x-sluice-cursor` by default), else `undefined`. SSE bodies are not byte-deterministic
 * (heartbeats depend on timing), so they resume by event id, not by `Range`. Resolves when the last byte is
 * handed to the runtime; if the source throws, the response is cut (no marker) and the promise rejects.
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   await streamSse(responseStream, async function* (lastId) {
 *     for (const [i, token] of tokens.entries()) if (lastId === undefined || i > Number(lastId)) yield { id: String(i), data: token }
 *   }, { request: event })
 * })
 */
export function streamSse(
  responseStream: AnyResponseStream,
  source: ResumableSource<SseMessage>,
  options: SseOptions = {},
): Promise<void> {
  return writeBody(
    responseStream,
    withHeartbeat(sseChunks(source, options), options.heartbeatMs ?? 15_000, heartbeat),
    options,
    {
      helper: 'streamSse',
      contentType: 'text/event-stream; charset=utf-8',
      defaultHeaders: { 'cache-control': 'no-cache' },
      rangeable: false,
    },
  )
}
