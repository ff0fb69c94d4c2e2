import { sseLine, unlikeMarker } from '../core/end-marker.ts'
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

/** Errors that are a bad part rather than a failure of the source: streamHandler reports them (see there). */
const partErrors = new WeakSet<Error>()

/** Whether `error` was thrown by {@link encodePart} for a part it cannot encode. */
export function isPartError(error: unknown): error is Error {
  return error instanceof Error && partErrors.has(error)
}

/**
 * Encodes one part for `format`, in a body that ends with the end marker when `marked`; `index` (0-based) and
 * `where` (the function the parts were given to) only serve the error messages, a `TypeError` or `RangeError` that
 * says which part is wrong and how.
 */
export function encodePart(
  part: unknown,
  format: MockFormat,
  index: number,
  where = 'mockStream',
  marked = false,
): Uint8Array {
  try {
    return encode(part, format, index, where, marked)
  } catch (error) {
    if (error instanceof Error) partErrors.add(error)
    throw error
  }
}

/** Encodes every part of an array, so that a bad one throws before any byte is sent. */
export function encodeParts(
  parts: readonly unknown[],
  format: MockFormat,
  where = 'mockStream',
  marked = false,
): Uint8Array[] {
  return parts.map((part, index) => encodePart(part, format, index, where, marked))
}

function encode(
  part: unknown,
  format: MockFormat,
  index: number,
  where: string,
  marked: boolean,
): Uint8Array {
  // A view of a SharedArrayBuffer is copied: a network body's chunks never are one (Web Crypto refuses them).
  if (part instanceof Uint8Array) return part.buffer instanceof ArrayBuffer ? part : new Uint8Array(part)
  if (part instanceof ArrayBuffer) return new Uint8Array(part)
  switch (format) {
    case 'raw':
      if (typeof part === 'string') return encoder.encode(part)
      throw new TypeError(
        `${where}: part ${index} is ${describeValue(part)}, but format 'raw' sends only strings and Uint8Arrays. Pass format: 'ndjson' or 'sse' to encode values, or encode the part yourself.`,
      )
    case 'ndjson': {
      const text = json(part, `part ${index}`, 'format ndjson', where)
      // In a body that ends with the marker, as sluice/lambda writes it (see `unlikeMarker`).
      return encoder.encode(`${marked ? unlikeMarker(text) : text}\n`)
    }
    case 'sse':
      return encoder.encode(
        isMockEvent(part) ? encodeEvent(part, index, where) : encodeEvent({ data: part }, index, where, true),
      )
  }
}

/** `bare`: the part is the event's data, not an event object. */
function encodeEvent(event: MockEvent, index: number, where: string, bare = false): string {
  let text = ''
  if (event.id !== undefined) {
    // A line break would end the field early and a NUL makes clients ignore the id, so neither can be sent.
    if (typeof event.id !== 'string' || /[\r\n\0]/.test(event.id)) {
      throw new TypeError(
        `${where}: part ${index} is an SSE event whose id must be a string without line breaks or NUL, got ${describeValue(event.id)}.`,
      )
    }
    text += sseLine(`id: ${event.id}`)
  }
  if (event.event !== undefined) {
    if (typeof event.event !== 'string' || /[\r\n]/.test(event.event)) {
      throw new TypeError(
        `${where}: part ${index} is an SSE event whose event type must be a string without line breaks, got ${describeValue(event.event)}.`,
      )
    }
    text += sseLine(`event: ${event.event}`)
  }
  if (event.retry !== undefined) {
    if (typeof event.retry !== 'number') {
      throw new TypeError(
        `${where}: part ${index} is an SSE event whose retry must be a number of milliseconds, got ${describeValue(event.retry)}.`,
      )
    }
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new RangeError(
        `${where}: part ${index} is an SSE event whose retry must be a whole number of milliseconds ≥ 0, got ${describeValue(event.retry)}.`,
      )
    }
    text += sseLine(`retry: ${event.retry}`)
  }
  const data =
    typeof event.data === 'string'
      ? event.data
      : json(event.data, bare ? `part ${index}` : `the data of part ${index}`, 'an SSE event', where)
  // A line that ends as the end-marker line does ends with CRLF, as sluice/lambda writes it (see `sseLine`).
  for (const line of data.split(/\r\n|\r|\n/)) text += sseLine(`data: ${line}`)
  return `${text}\n`
}

/** `what`: the value, as messages name it ("part 3", "the data of part 3"). */
function json(value: unknown, what: string, purpose: string, where: string): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(
      `${where}: ${what} cannot be encoded as JSON for ${purpose}: ${error instanceof Error ? error.message : String(error)}. Pass a JSON value.`,
      { cause: error },
    )
  }
  if (text === undefined) {
    throw new TypeError(
      `${where}: ${what} is ${describeValue(value)}, which has no JSON form for ${purpose}; pass a JSON value.`,
    )
  }
  return text
}
