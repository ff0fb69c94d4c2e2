import { type ServerSentEvent, SseDecoder } from '../decoders/sse.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import { ValidationError } from '../errors/validation-error.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { type ConsumeContext, halt, settle } from './context.ts'
import { type OnInvalid, skipInvalid } from './on-invalid.ts'

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
export async function* consumeEvents<T>(
  context: ConsumeContext,
  options: EventsOptions<StandardSchemaV1 | undefined> = {},
): AsyncGenerator<ServerSentEvent<T>, void, undefined> {
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
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    stream: for (;;) {
      const chunk = await source.read()
      if (chunk === undefined && source.cancelled === true) return
      const events = chunk === undefined ? decoder.end() : decoder.push(chunk)
      batch = events.length
      for (let j = 0; j < events.length; j++) {
        // cancel() or detach() in the loop body: the rest of the batch is not delivered.
        if (source.cancelled === true) return halt(source)
        const event = events[j]!
        left = events.length - 1 - j
        lastId = event.id
        if (isEnd?.(event)) {
          // A clean end by the protocol's own marker: release the connection, the rest is not wanted.
          await source.cancel('The stream reached its terminal event.')
          break stream
        }
        if (!parse) {
          index++
          progress.item()
          last = event
          delivered = true
          yield event as ServerSentEvent<T>
          continue
        }
        let data: unknown
        try {
          data = JSON.parse(event.data)
        } catch (cause) {
          const reason = cause instanceof Error ? cause.message : String(cause)
          const n = events.length - left
          const position = {
            line: decoder.lineOf(n),
            offset: decoder.blockStart(n),
            excerpt: excerptOf(event.data),
          }
          skipInvalid(
            onInvalid,
            new ParseError('sse', `Event ${index} has data that is not JSON (${reason})`, position, {
              cause,
            }),
          )
          index++
          continue
        }
        if (schema !== undefined) {
          try {
            const result = validate(schema, data, index)
            data = result instanceof Promise ? await result : result
          } catch (error) {
            if (!(error instanceof ValidationError)) throw error
            skipInvalid(onInvalid, error)
            index++
            continue
          }
        }
        index++
        progress.item()
        const parsed = { id: event.id, event: event.event, data: data as T, retry: event.retry }
        last = parsed
        delivered = true
        yield parsed
      }
      if (chunk === undefined) break
    }
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
