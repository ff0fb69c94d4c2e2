import { createParser, type EventSourceParser } from 'eventsource-parser'
import { LimitError } from '../errors/limit-error.ts'
import { Utf8Decoder } from './utf8.ts'

const ENCODER = new TextEncoder()

/**
 * One server-sent event, as the WHATWG event-stream rules define it: `event` defaults to `'message'`, `id` is
 * the last event ID in force when the event was dispatched (it persists across events until a new `id:` field;
 * `undefined` before any, and again after an empty `id:` resets it),
 * `retry` the reconnection time the server last asked for.
 */
export interface ServerSentEvent<T = string> {
  id: string | undefined
  event: string
  data: T
  retry: number | undefined
}

const EMPTY: ServerSentEvent[] = []

/**
 * Incremental SSE decoder over eventsource-parser: bytes in, events out. Pure: no streams, no I/O. Events that
 * a chunk completes come back as a fresh array; an event cut off by the end of the body is dropped, as the
 * WHATWG rules say.
 */
export class SseDecoder {
  readonly #utf8: Utf8Decoder
  readonly #parser: EventSourceParser
  readonly #maxEventBytes: number
  #out: ServerSentEvent[] = []
  #overflow = false
  /** The last event ID seen (what `Last-Event-ID` should carry on a reconnect). */
  lastEventId: string | undefined
  /** The reconnection time the server asked for with `retry:`, in milliseconds. */
  retry: number | undefined
  /** Events dispatched so far. */
  count = 0
  /** Byte offset just after the blank line that dispatched the last event (a unit boundary). */
  committed = 0
  /** The same boundary before the last chunk: where a resume lands when that chunk's events are half read. */
  previousCommitted = 0
  /** Decoded text since `committed`, and the last batch's text since `previousCommitted` (for `committedAfter`). */
  #pending = ''
  #batch = ''

  constructor(options: { maxEventBytes: number }) {
    this.#maxEventBytes = options.maxEventBytes
    this.#utf8 = new Utf8Decoder(false)
    this.#parser = createParser({
      maxBufferSize: options.maxEventBytes,
      // The parser reports an `id:` field once per dispatch, with or without data: a block that only sets
      // an id still moves the last event ID, and an empty `id:` resets it (WHATWG "dispatch the event").
      onId: (id) => {
        this.lastEventId = id === '' ? undefined : id
      },
      onEvent: (message) => {
        this.count++
        this.#out.push({
          id: this.lastEventId,
          event: message.event ?? 'message',
          data: message.data,
          retry: this.retry,
        })
      },
      onRetry: (retry) => {
        this.retry = retry
      },
      onError: (error) => {
        // Unknown fields and bad `retry:` values are ignored, as the WHATWG rules say; only overflow is fatal.
        if (error.type === 'max-buffer-size-exceeded') this.#overflow = true
      },
    })
  }

  push(chunk: Uint8Array): ServerSentEvent[] {
    return this.#feed(this.#utf8.decode(chunk))
  }

  end(): ServerSentEvent[] {
    const events = this.#feed(this.#utf8.end())
    this.#parser.reset({ consume: false })
    return events
  }

  /** Byte offset in the body up to which input has been decoded. */
  get offset(): number {
    return this.#utf8.offsetBefore('')
  }

  /** Drops a partial event: the next chunk starts a fresh stream (a resumed connection). */
  reset(): void {
    this.#parser.reset({ consume: false })
    this.#utf8.reset()
    this.committed = 0
    this.previousCommitted = 0
    this.#pending = ''
    this.#batch = ''
  }

  /**
   * Byte offset just after the `n`-th event (1-based) of the last batch: where a checkpoint lands when only
   * part of the batch was delivered. Rare, so it re-parses the batch's text rather than tracking every event.
   */
  committedAfter(n: number): number {
    const text = this.#batch
    let count = 0
    const parser = createParser({
      onEvent: () => {
        count++
      },
    })
    const eol = /\r\n|\r|\n/g
    let at = 0
    for (let m = eol.exec(text); m !== null && count < n; m = eol.exec(text)) {
      const next = m.index + m[0].length
      parser.feed(text.slice(at, next))
      at = next
    }
    return count < n ? this.committed : this.previousCommitted + ENCODER.encode(text.slice(0, at)).length
  }

  #feed(text: string): ServerSentEvent[] {
    if (text === '') return EMPTY
    this.#parser.feed(text)
    if (this.#overflow) {
      throw new LimitError('maxEventBytes', this.#maxEventBytes, `An event ending near byte ${this.offset}`)
    }
    this.previousCommitted = this.committed
    const batch = this.#pending === '' ? text : this.#pending + text
    if (this.#out.length === 0) {
      this.#pending = batch
      return EMPTY
    }
    const end = lastBlankLineEnd(text)
    this.committed = end === -1 ? this.#utf8.offsetBefore(text) : this.#utf8.offsetBefore(text.slice(end))
    this.#batch = batch
    this.#pending = end === -1 ? text : text.slice(end)
    const events = this.#out
    this.#out = []
    return events
  }
}

/** Index just after the last blank line (the end of a dispatching block) in `text`, or -1. */
function lastBlankLineEnd(text: string): number {
  for (let i = text.length - 1; i > 0; i--) {
    const c = text.charCodeAt(i)
    if (c !== 10 && c !== 13) continue
    const start = c === 10 && text.charCodeAt(i - 1) === 13 ? i - 1 : i
    const before = text.charCodeAt(start - 1)
    if (before === 10 || before === 13) return i + 1
  }
  return -1
}
