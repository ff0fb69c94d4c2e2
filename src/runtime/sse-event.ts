// Shared by sluice/lambda's streamSse and sluice/mock's `format: 'sse'`, so that a mock takes the same parts for
// events, and sends them as the same bytes, as the helper it stands in for.
import { sseLine as line } from '../core/end-marker.ts'
import { describeValue } from './describe-value.ts'

/**
 * One server-sent event. `data` that is not a string is sent as JSON; multi-line data becomes several `data:`
 * lines. Give every event an `id` to let clients resume with `Last-Event-ID`.
 *
 * @example
 * const event: SseEvent = { id: '42', event: 'token', data: { text: 'Hel' } }
 */
export interface SseEvent {
  /** The event's id; the client sends the last one it saw as `Last-Event-ID` when it reconnects. */
  id?: string | undefined
  /** The event type. Default: none (the client sees `message`). */
  event?: string | undefined
  /** The payload: a string as it is, anything else as JSON. Default: no data line (an id-only checkpoint). */
  data?: unknown
  /** Reconnection delay in milliseconds the client should use from now on. */
  retry?: number | undefined
  /** A comment line, ignored by parsers. */
  comment?: string | undefined
}

const FIELDS = ['id', 'event', 'data', 'retry', 'comment'] as const

/**
 * Whether `value` is an event rather than a value: an object (not an array) with at least one field that is not
 * `undefined` — `{ id }` alone is one, a checkpoint a client resumes after.
 */
export function isSseEvent(value: unknown): value is SseEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    FIELDS.some((field) => (value as Record<string, unknown>)[field] !== undefined)
  )
}

/**
 * An event's text field as given, or a `TypeError` that names it: untyped code writes `{ id: i }`, which would
 * otherwise fail inside the checks below or be sent as `[object Object]`; one with a character that `breaks` finds
 * is refused too.
 */
function field(got: string, name: string, value: unknown, breaks?: RegExp): string {
  if (typeof value !== 'string')
    throw new TypeError(
      `${got} an event with ${name} ${describeValue(value)}; pass a string, such as String(value).`,
    )
  if (breaks?.test(value)) {
    throw new TypeError(
      `${got} an event whose ${name} contains a line break${name === 'id' ? ' or NUL' : ''}; remove it (only data may span lines).`,
    )
  }
  return value
}

/**
 * An id that a `Last-Event-ID` header can bring back as it was sent, or a `TypeError` that says why not. HTTP trims
 * a header value: " 7" would come back as "7", name no event, and a reconnect could not resume after it. The header
 * brings the id back as its UTF-8 bytes (EventSource, sluice): any id but one with a control character, which HTTP
 * servers refuse in a header, or a lone surrogate, which UTF-8 cannot encode (it would go out as U+FFFD and come
 * back as another id).
 */
function checkId(got: string, id: string): string {
  const odd = /^[ \t]|[ \t]$|[^\t\x20-\x7e\x80-\u{10ffff}]|\p{Cs}/u.exec(id)?.[0]
  if (odd === undefined) return id
  const quoted = JSON.stringify(id)
  if (odd === ' ' || odd === '\t') {
    throw new TypeError(
      `${got} the event id ${quoted}, which begins or ends with a space or tab that a Last-Event-ID header cannot carry back (HTTP trims header values), so a client could not resume after it; trim the id.`,
    )
  }
  const code = `U+${odd.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  throw new TypeError(
    `${got} the event id ${quoted}, whose character ${code} a Last-Event-ID header cannot carry back (HTTP refuses control characters in headers, and UTF-8 a lone surrogate), so a client could not resume after it; remove it, or send encodeURIComponent(id).`,
  )
}

/** `text` as one `name` line per line of it, whatever its line endings. */
function lines(name: string, text: string): string {
  let out = ''
  for (const part of text.split(/\r\n|\r|\n/)) out += line(`${name} ${part}`)
  return out
}

/**
 * Formats one event as SSE text, ending with the blank line that dispatches it; a field that cannot be sent is a
 * `TypeError` (a `RangeError` for a retry out of range) whose message begins with `got`, which names who was given
 * the event ("sluice/lambda: streamSse got", "mockStream got, as part 3,").
 */
export function sseEventText(event: SseEvent, got: string): string {
  let text = ''
  const { comment, id, event: type, retry, data } = event
  // A comment is sent line by line; a line break in another field would end it early and let the rest be read as
  // other fields or events, and a NUL makes clients ignore an id.
  if (comment !== undefined) text += lines(':', field(got, 'comment', comment))
  if (id !== undefined) text += line(`id: ${checkId(got, field(got, 'id', id, /[\r\n\0]/))}`)
  if (type !== undefined) text += line(`event: ${field(got, 'event', type, /[\r\n]/)}`)
  if (retry !== undefined) {
    if (!(Number.isSafeInteger(retry) && retry >= 0)) {
      throw new (typeof retry === 'number' ? RangeError : TypeError)(
        `${got} an event with retry ${describeValue(retry)}; pass a non-negative whole number of milliseconds.`,
      )
    }
    text += `retry: ${retry}\n`
  }
  if (data !== undefined) {
    let json: string | undefined
    let cause: unknown
    try {
      json = typeof data === 'string' ? data : JSON.stringify(data)
    } catch (error) {
      cause = error
    }
    if (json === undefined) {
      // BigInt and cyclic data throw; a function or a symbol has no JSON at all.
      const why = cause instanceof Error ? ` (${cause.message})` : ''
      throw new TypeError(
        `${got} event data of type ${typeof data}, which JSON cannot represent${why}; send a string or plain data.`,
        cause === undefined ? undefined : { cause },
      )
    }
    text += lines('data:', json)
  }
  return `${text}\n`
}
