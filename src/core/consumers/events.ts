import { type ServerSentEvent, SseDecoder } from '../decoders/sse.ts'
import { DECODE_SLICE_BYTES } from '../decoders/utf8.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { batchIterator, type Outcome, SKIP, STOP } from './batch-iterator.ts'
import type { ConsumeContext } from './context.ts'
import { type OnInvalid, skipInvalid, skipInvalidItem } from './on-invalid.ts'

/** Options of `res.events()`. */
export interface EventsOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /** Parse each event's `data` as JSON. Implied by `schema`. Default `false`. */
  json?: boolean
  /** Validate each event's parsed `data`. */
  schema?: S
  /**
   * Terminal data that ends the stream cleanly (the event is not delivered), such as OpenAI's `'[DONE]'`; or a
   * predicate over the raw event. Default: none.
   */
  until?: string | ((event: ServerSentEvent) => boolean)
  /** What to do with an event whose data is not JSON or fails the schema. Default `'throw'`. */
  onInvalid?: OnInvalid
}

/** Server-sent events via eventsource-parser, with optional JSON parsing and validation of `data`. */
export function consumeEvents<T>(
  context: ConsumeContext,
  options: EventsOptions<StandardSchemaV1 | undefined> = {},
): AsyncIterator<ServerSentEvent<T>, void, undefined> & AsyncIterable<ServerSentEvent<T>> {
  const { schema, until, onInvalid } = options
  const parse = options.json === true || schema !== undefined
  // Lines are counted only when data is parsed: they serve the error of an event whose data is not JSON.
  const decoder = new SseDecoder({ maxEventBytes: context.limits.maxEventBytes, countLines: parse })
  const { source, progress } = context
  // Events of the current batch not yet delivered: a checkpoint taken in the loop body with some left lands
  // right after the last delivered one. The id is the one of the last event delivered, not parsed.
  let left = 0
  let batch = 0
  let lastId: string | undefined
  // The last event delivered, boxed only when a cursor asks for it.
  let last: unknown
  let delivered = false
  source.attach?.({
    committed: () => (left > 0 ? decoder.committedAfter(batch - left) : decoder.committed),
    restart: () => {
      decoder.reset()
      left = 0
    },
    lastEventId: () => lastId ?? decoder.lastEventId,
    retryMs: () => decoder.retry,
    lastItem: () => (delivered ? { value: last } : undefined),
  })
  const isEnd = typeof until === 'string' ? (event: ServerSentEvent) => event.data === until : until
  let index = 0
  const deliver = <E>(event: E): E => {
    progress.item()
    last = event
    delivered = true
    return event
  }
  const invalid = skipInvalidItem(onInvalid)
  return batchIterator<ServerSentEvent, ServerSentEvent<T>>(context, {
    slice: DECODE_SLICE_BYTES,
    feed(chunk) {
      const events = chunk === undefined ? decoder.end() : decoder.push(chunk)
      batch = events.length
      return events
    },
    take(event, j, size): Outcome<ServerSentEvent<T>> | Promise<Outcome<ServerSentEvent<T>>> {
      left = size - 1 - j
      lastId = event.id
      if (isEnd?.(event)) return STOP
      const at = index++
      if (!parse) return deliver(event as ServerSentEvent<T>)
      let data: unknown
      try {
        data = JSON.parse(event.data)
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause)
        const position = {
          line: decoder.lineOf(j + 1),
          offset: decoder.blockStart(j + 1),
          excerpt: excerptOf(event.data),
        }
        skipInvalid(
          onInvalid,
          new ParseError('sse', `Event ${at} has data that is not JSON (${reason})`, position, { cause }),
        )
        return SKIP
      }
      const parsed = (value: unknown): ServerSentEvent<T> =>
        deliver({ id: event.id, event: event.event, data: value as T, retry: event.retry })
      if (schema === undefined) return parsed(data)
      let result: unknown
      try {
        result = validate(schema, data, at)
      } catch (error) {
        return invalid(error)
      }
      return result instanceof Promise ? result.then(parsed, invalid) : parsed(result)
    },
    // An event over maxEventBytes: the events before it are delivered first.
    failure: () => decoder.failure,
    // A clean end by the protocol's own marker: release the connection, the rest is not wanted.
    stop: () => source.cancel('The stream reached its terminal event.'),
  })
}
