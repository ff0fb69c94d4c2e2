import { unlikeMarker } from '../core/end-marker.ts'
import { describeValue } from '../runtime/describe-value.ts'
import { isSseEvent, type SseEvent, sseEventText } from '../runtime/sse-event.ts'

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
 * One server-sent event for `format: 'sse'`, as sluice/lambda's `streamSse` takes and sends it (its `SseEvent`).
 * A `data` that is not a string is sent as JSON, and an event without `data` has no data line: `{ id }` alone is a
 * checkpoint a client resumes after.
 *
 * A part is an event when it is an object (not an array) with at least one of `id`, `event`, `data`, `retry` and
 * `comment` not `undefined`, as `streamSse` tells one, and is sent as the same bytes; every other value becomes an
 * event whose only field is its `data`.
 *
 * @example
 * mockStream([{ id: '1', event: 'token', data: { text: 'Hel' } }, { id: '2' }, 'lo'], { format: 'sse' })
 */
export type MockEvent = SseEvent

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

/** Whether `part` is an SSE event whose id is `id`: a `Last-Event-ID` resumes after it. */
export function hasId(part: unknown, id: string): boolean {
  return isSseEvent(part) && part.id === id
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
    case 'sse': {
      const got = `${where} got, as part ${index},`
      if (isSseEvent(part)) return encoder.encode(sseEventText(part, got))
      // Any other value is the data of an event, as JSON but for a string. `{ data: undefined }` is no event
      // (streamSse refuses it), and sending it as the value `{}` would hide that its data is missing.
      const empty = typeof part === 'object' && part !== null && 'data' in part
      const what = empty ? `the data of part ${index}` : `part ${index}`
      const data =
        typeof part === 'string' ? part : json(empty ? undefined : part, what, 'an SSE event', where)
      return encoder.encode(sseEventText({ data }, got))
    }
  }
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
