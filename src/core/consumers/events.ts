import { type ServerSentEvent, SseDecoder, type SseState } from '../decoders/sse.ts'
import { DECODE_SLICE_BYTES } from '../decoders/utf8.ts'
import { clauseOf } from '../errors/network-error.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import { printableCause } from '../errors/printable.ts'
import { must } from '../options.ts'
import { refusedPromise } from '../promise-like.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { batchIterator, type Outcome, SKIP, STOP } from './batch-iterator.ts'
import { type ConsumeContext, originOf } from './context.ts'
import { checkOnInvalid, type OnInvalid, skipInvalid, skipInvalidItem } from './on-invalid.ts'

/** Options of `res.events()`. */
export interface EventsOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /** Parse each event's `data` as JSON. Implied by `schema`. Default `false`. */
  json?: boolean | undefined
  /** Validate each event's parsed `data`. */
  schema?: S | undefined
  /**
   * Terminal data that ends the stream cleanly (the event is not delivered), such as OpenAI's `'[DONE]'`; or a
   * predicate over the raw event. Default: none.
   */
  until?: string | ((event: ServerSentEvent) => boolean) | undefined
  /** What to do with an event whose data is not JSON or fails the schema. Default `'throw'`. */
  onInvalid?: OnInvalid | undefined
}

/** Throws a `TypeError` naming `where` for an option of `events()` it cannot take. */
export function checkEventsOptions(
  { until, onInvalid }: Pick<EventsOptions, 'until' | 'onInvalid'>,
  where: string,
): void {
  must(
    until === undefined || typeof until === 'string' || typeof until === 'function',
    `${where}: until`,
    'a string or a function of the event',
    until,
    TypeError,
  )
  checkOnInvalid(onInvalid, where)
}

/** Server-sent events via eventsource-parser, with optional JSON parsing and validation of `data`. */
export function consumeEvents<T>(
  context: ConsumeContext,
  options: EventsOptions<StandardSchemaV1 | undefined> = {},
): AsyncIterator<ServerSentEvent<T>, void, undefined> & AsyncIterable<ServerSentEvent<T>> {
  const { schema, until, onInvalid } = options
  const parse = options.json === true || schema !== undefined
  // Lines are counted only when data is parsed: they serve the error of an event whose data is not JSON.
  const { source, progress } = context
  const origin = originOf(source)
  // A stream continued from a checkpoint starts with the event id and retry time in force there, and skips the
  // events after that id that the server replays and the checkpoint had passed.
  const { lastEventId, retry, since, trailing: after, replay } = origin()
  const decoder = new SseDecoder({
    maxEventBytes: context.limits.maxEventBytes,
    countLines: parse,
    origin,
    state: { lastEventId, retry, since },
    skip: replay ? since : 0,
    trailing: replay ? after : undefined,
  })
  // Where the consumer stands: `done` of the events of the current `batch` consumed (delivered, skipped on
  // purpose, or the terminal one), and the id and retry time in force after the last of them; `inHand`, the event
  // being handled. A checkpoint or a reconnect lands right after the last event consumed, never after one that
  // failed or is still being validated, and carries the state in force there: not the parser's newest, which
  // may be a later block's.
  let batch: readonly ServerSentEvent[] = []
  let done = 0
  let inHand: ServerSentEvent | undefined
  let lastConsumed: ServerSentEvent | undefined
  const consumed = (): void => {
    done++
    lastConsumed = inHand
    atLast = false
  }
  // Events numbered by `index` (all but the terminal one) consumed so far.
  let records = 0
  const consumedRecord = (): void => {
    consumed()
    records++
  }
  // The last event delivered, boxed only when a cursor asks for it; `atLast`: no event consumed since (skipped
  // as invalid, or the terminal one), so the boundary a restart lands on is right after it.
  let last: unknown
  let delivered = false
  let atLast = false
  // After an event over maxEventBytes, the decoder's boundary lies past it: count the events delivered instead.
  const halfway = (): boolean => done < batch.length || decoder.failure !== undefined
  // The state at the boundary `committed` gives: an event's own `id` and `retry` are those in force after its
  // block (so past a terminal event without its blank line); at a chunk's boundary, blocks after the last event
  // (an id or retry alone) may have changed them.
  const boundary = (): SseState =>
    !halfway() && !past
      ? decoder.committedState
      : done > 0
        ? { lastEventId: lastConsumed!.id, retry: lastConsumed!.retry, since: decoder.sinceAfter(done - 1) }
        : decoder.previousState
  const lastItem = () => (delivered ? { value: last } : undefined)
  // Right after an event the boundary follows its block; at a chunk's boundary, blocks that dispatch nothing may
  // lie between the last event and it (see `SseDecoder.trailing`). (Halfway before a batch's first event, those
  // of the chunk before are not known: none.)
  const trailing = () => (halfway() || past ? '' : decoder.trailing)
  const json = (event: ServerSentEvent) => {
    try {
      return { value: { ...event, data: JSON.parse(event.data) } }
    } catch {}
  }
  source.attach?.({
    // What a cursor sees of an event: raw, its data parsed, or shaped by the schema.
    unit: parse ? (schema ?? 'events+json') : 'events',
    committed: (fed) => (past ? fed : halfway() ? decoder.committedAfter(done) : decoder.committed),
    // Lines are known only when counted (when data is parsed); a checkpoint without them counts none.
    units: () => ({
      lines: past ? decoder.lines : halfway() ? decoder.linesThrough(done) : decoder.linesThrough(),
      records,
    }),
    ended: () => terminated,
    // A Last-Event-ID answer replays every event after the id's, those the consumer had passed included (events
    // without an id, and those skipped as invalid: the server sent them): the decoder drops that many again.
    // (A tee drops the replay itself for all its branches: their origin says there is none.)
    restart: () => {
      const state = boundary()
      decoder.reset(state, origin().replay ? state.since : undefined, trailing())
      batch = []
      done = 0
    },
    lastEventId: () => boundary().lastEventId,
    since: () => boundary().since ?? 0,
    trailing,
    replayed: () => decoder.replayed,
    retryMs: () => decoder.retry,
    cut: (rest) => {
      const clause = decoder.cut(rest)
      if (isEnd === undefined) return clause
      // `until` names the stream's last event: the server's own end marker. An end before it was a cut, even at a
      // blank line; an end right after it is the end, even without its blank line (`data: [DONE]` and the end: the
      // consumer takes it at the end, see `feed`). The events still ahead of the consumer: the rest of its batch (a
      // tee() branch behind another), then those of the bytes it has not been handed.
      const { events, unfinished } = decoder.tail(rest)
      if (batch.slice(done).some(ends) || events.some(ends) || ends(unfinished)) return
      const data = typeof until === 'string' ? ` (data ${JSON.stringify(until)})` : ''
      return clause ?? `the stream, before the terminal event \`until\` names${data}`
    },
    retryAt: () => boundary().retry,
    fed: () => decoder.fed,
    lastItem,
    // After the batch's events (whole: no failure), as they will stand once consumed: the id in force there and,
    // not known before a schema judges it (see `planned`), the last of them as it will be delivered (its data
    // parsed, one that is not JSON skipped). (An event `until` ends at is not delivered, but the branch ends
    // there, and meets no restart.)
    ahead: () => {
      if (done < batch.length && decoder.failure === undefined) {
        let item: { value: unknown } | undefined
        if (schema === undefined)
          for (let j = batch.length - 1; j >= done && !item; j--)
            item = parse ? json(batch[j]!) : { value: batch[j] }
        return {
          committed: () => decoder.committed,
          lastEventId: () => decoder.committedState.lastEventId,
          since: () => decoder.committedState.since ?? 0,
          trailing: () => decoder.trailing,
          ...(schema === undefined && {
            lastItem: () => item ?? lastItem(),
            parsed: () => json(batch.at(-1)!),
          }),
        }
      }
    },
    // Raw or parsed (not shaped by a schema), as events({ json: true }) delivers it: see `ConsumerHooks.parsed`.
    ...(schema === undefined && {
      parsed: () =>
        delivered && atLast ? (parse ? { value: last } : json(last as ServerSentEvent)) : undefined,
    }),
  })
  // An event that `until` ends the stream at, though its blank line never came: found when the body ends.
  let terminal: ServerSentEvent | undefined
  // Whether the terminal event was consumed; `past`, when it is that one: past it lies the body's end (not the
  // decoder's last boundary, before its block), with the id and retry time its block leaves in force.
  let terminated = false
  let past = false
  const isEnd =
    typeof until === 'string'
      ? (event: ServerSentEvent) => event.data === until
      : until && ((event: ServerSentEvent) => synchronous(until(event)))
  // Where the body ends, a predicate that throws on an event says it is not the end: the event it fails on may be
  // cut (its data `{"ty`), and one that came whole fails the stream when the consumer judges it.
  const ends = (event: ServerSentEvent | undefined): boolean => {
    try {
      return !!event && !!isEnd!(event)
    } catch {
      return false
    }
  }
  // Events are numbered across the whole stream: one that continues from a checkpoint counts on from it.
  let index = origin().records
  const deliver = <E>(event: E): E => {
    consumedRecord()
    progress.item()
    last = event
    delivered = true
    atLast = true
    return event
  }
  const invalid = skipInvalidItem(onInvalid, consumedRecord, source)
  return batchIterator<ServerSentEvent, ServerSentEvent<T>>(context, {
    slice: DECODE_SLICE_BYTES,
    feed(chunk) {
      // At the body's end, the block its blank line never ended is the terminal event if `until` says so: also where
      // the end was not judged by `cut` (proven by a length or the end marker, or before a tee() branch read).
      const unfinished = chunk === undefined && isEnd ? decoder.tail().unfinished : undefined
      if (ends(unfinished)) terminal = unfinished
      let events = chunk === undefined ? decoder.end() : decoder.push(chunk)
      if (terminal) events = [...events, terminal]
      batch = events
      done = 0
      return events
    },
    take(event, j): Outcome<ServerSentEvent<T>> | Promise<Outcome<ServerSentEvent<T>>> {
      inHand = event
      // The terminal event is consumed: a checkpoint taken after the end lands past it.
      if (event === terminal || isEnd?.(event)) {
        consumed()
        terminated = true
        past = event === terminal
        return STOP
      }
      // A predicate that stopped the stream while judging (`res.cancel()`, `detach()`) gets no more events, as a
      // stop between two events does: this one is not consumed, and the iteration ends at the next unit.
      if (source.cancelled === true) return SKIP
      const at = index++
      if (!parse) return deliver(event as ServerSentEvent<T>)
      let data: unknown
      try {
        data = JSON.parse(event.data)
      } catch (cause) {
        const position = {
          line: decoder.lineOf(j + 1),
          offset: decoder.blockStart(j + 1),
          excerpt: excerptOf(event.data),
        }
        return skipInvalid(
          onInvalid,
          new ParseError('sse', `Event ${at} has data that is not JSON (${clauseOf(cause)})`, position, {
            cause: printableCause(cause as Error),
          }),
          source,
          consumedRecord,
        )
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

/**
 * What an `until` predicate answered. A Promise (an async predicate) is truthy, and would end the stream cleanly at
 * its first event: refused instead.
 */
function synchronous(answer: unknown): unknown {
  if (!refusedPromise(answer)) return answer
  throw new TypeError(
    'events(): `until` returned a Promise, which would end the stream at its first event; it must answer synchronously, true at the terminal event.',
  )
}
