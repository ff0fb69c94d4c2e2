import { describeValue } from '../runtime/describe-value.ts'

export { describeValue }

/**
 * How {@link mockStream} turns parts into bytes: `'raw'` sends strings (UTF-8) and bytes as they are,
 * `'ndjson'` sends each value as one JSON line, `'sse'` sends each value as one server-sent event.
 *
 * Default: `'raw'`.
 *
 * @example
 * mockStream([{ id: 1 }, { id: 2 }], { format: 'ndjson' })
 */
export type MockFormat = 'raw' | 'ndjson' | 'sse'

/**
 * One server-sent event for `format: 'sse'`; a `data` that is not a string is sent as JSON.
 *
 * Any part that is an object with a `data` property is treated as an event; every other value becomes an event
 * whose only field is its `data`.
 *
 * @example
 * mockStream([{ id: '1', event: 'token', data: { text: 'Hel' } }, { id: '2', data: '[DONE]' }], { format: 'sse' })
 */
export interface MockEvent {
  /** The event's `id:` field; a client resumes after it with `Last-Event-ID`. Default: no id. */
  id?: string | undefined
  /** The event's `event:` field (its type). Default: no type, which clients read as `message`. */
  event?: string | undefined
  /** The payload: a string is sent as it is, line by line; anything else as `JSON.stringify(data)`. */
  data: unknown
  /** The event's `retry:` field, the reconnection delay in milliseconds. Default: none. */
  retry?: number | undefined
}

/**
 * The parts a mock body streams: an array, an iterable or an async iterable of strings, `Uint8Array`s, or values
 * for the chosen {@link MockFormat}. A `Uint8Array` is always sent unchanged, whatever the format, so a test can
 * inject malformed bytes into an NDJSON or SSE body.
 *
 * Default: none (required). An array can serve any number of responses; a generator serves one.
 *
 * @example
 * const parts: MockStreamParts = ['hello ', new TextEncoder().encode('world')]
 */
export type MockStreamParts = Iterable<unknown> | AsyncIterable<unknown>

const encoder = new TextEncoder()

/** Whether a part is an SSE event object rather than a bare value. */
export function isMockEvent(part: unknown): part is MockEvent {
  return typeof part === 'object' && part !== null && !(part instanceof Uint8Array) && 'data' in part
}

/** Encodes one part for `format`; `index` (0-based) only serves the error messages. */
export function encodePart(part: unknown, format: MockFormat, index: number): Uint8Array {
  // A view of a SharedArrayBuffer is copied: a network body's chunks never are one (Web Crypto refuses them).
  if (part instanceof Uint8Array) return part.buffer instanceof ArrayBuffer ? part : new Uint8Array(part)
  if (part instanceof ArrayBuffer) return new Uint8Array(part)
  switch (format) {
    case 'raw':
      if (typeof part === 'string') return encoder.encode(part)
      throw new TypeError(
        `mockStream: part ${index} is ${describeValue(part)}, but format 'raw' sends only strings and Uint8Arrays. Pass format: 'ndjson' or 'sse' to encode values, or encode the part yourself.`,
      )
    case 'ndjson':
      return encoder.encode(`${json(part, index, 'format ndjson')}\n`)
    case 'sse':
      return encoder.encode(encodeEvent(isMockEvent(part) ? part : { data: part }, index))
  }
}

function encodeEvent(event: MockEvent, index: number): string {
  let text = ''
  if (event.id !== undefined) {
    // A line break would end the field early and a NUL makes clients ignore the id, so neither can be sent.
    if (typeof event.id !== 'string' || /[\r\n\0]/.test(event.id)) {
      throw new TypeError(
        `mockStream: the id of event ${index} must be a string without line breaks or NUL, got ${describeValue(event.id)}.`,
      )
    }
    text += `id: ${event.id}\n`
  }
  if (event.event !== undefined) {
    if (typeof event.event !== 'string' || /[\r\n]/.test(event.event)) {
      throw new TypeError(
        `mockStream: the event type of event ${index} must be a string without line breaks, got ${describeValue(event.event)}.`,
      )
    }
    text += `event: ${event.event}\n`
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new RangeError(
        `mockStream: the retry of event ${index} must be a whole number of milliseconds ≥ 0, got ${describeValue(event.retry)}.`,
      )
    }
    text += `retry: ${event.retry}\n`
  }
  const data = typeof event.data === 'string' ? event.data : json(event.data, index, 'an SSE event')
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  return `${text}\n`
}

function json(value: unknown, index: number, where: string): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(
      `mockStream: part ${index} cannot be encoded as JSON for ${where}: ${String(error)}`,
      {
        cause: error,
      },
    )
  }
  if (text === undefined) {
    throw new TypeError(
      `mockStream: part ${index} is ${describeValue(value)}, which has no JSON form for ${where}; pass a JSON value.`,
    )
  }
  return text
}
