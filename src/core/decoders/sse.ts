import { createParser, type EventSourceParser } from 'eventsource-parser'
import { concatBytes } from '../concat-bytes.ts'
import { LimitError } from '../errors/limit-error.ts'
import { excerptOf } from '../errors/parse-error.ts'
import { BODY_START, type OriginOf } from './origin.ts'
import { type EventSizer, eventSizer } from './sse-sizer.ts'
import { type SseTail, sseTail } from './sse-tail.ts'
import { Utf8Decoder, utf8Length } from './utf8.ts'

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

/**
 * The last event ID and the reconnection time in force at a place in the stream: what a stream continued from
 * there starts with, so that its events carry the `id` and `retry` they would have carried undisturbed.
 */
export interface SseState {
  lastEventId: string | undefined
  retry: number | undefined
  /**
   * Events dispatched since the block that set `lastEventId` (its own event not counted; absent: none). A server
   * asked with `Last-Event-ID` replays every event after the one that carried the id, those without an id
   * included: a stream continued from there skips this many, as the client had them already.
   */
  since?: number | undefined
}

/**
 * What lies between the end of the last event (or id) and a boundary (see `SseDecoder.trailing`): blocks that
 * dispatch nothing, as text, or less the bytes of the blank line that ended the event, which the boundary stands
 * before (-1, -2 for a CRLF); or, in the answer to a replay that has returned no event yet, those bytes (1, 2),
 * which the count already took.
 */
export type Trailing = string | number

const EMPTY: ServerSentEvent[] = []

/** A place in a batch's text, and the line terminators before it. */
interface Spot {
  at: number
  lines: number
}

const BATCH_START: Spot & { start: Spot } = { at: 0, lines: 0, start: { at: 0, lines: 0 } }

/** The text one input chunk decoded to, and where it lies in the input (in bytes since the start or a reset). */
interface Decoded {
  text: string
  chunk: Uint8Array
  /** Where `chunk` starts; where `text` starts (before bytes held back from the chunk before) and ends. */
  chunkStart: number
  textStart: number
  textEnd: number
}

const NO_BYTES = new Uint8Array(0)

/** A scan of one batch's text for where its events end: a parser fed line by line, and what it found so far. */
interface BatchScan {
  parser: EventSourceParser
  eol: RegExp
  /** Events dispatched, the text fed (up to `at`) and line terminators passed so far. */
  count: number
  at: number
  lines: number
  /** Just after the last blank line passed (a block starts there), and the line terminators before it. */
  start: Spot
  /** Where each event found ends, and where its block starts (after the blank line before it). */
  found: Array<Spot & { start: Spot }>
  /** The bytes of the text before `bytesAt` (see `#bytesBefore`), and whether the last chunk's text has a U+FFFD. */
  bytesAt: number
  bytes: number
  replaced: boolean | undefined
}

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
  /** How many events of `#out` came before one over `maxEventBytes`, once one did. */
  #overflowAt: number | undefined
  /** The limit error, thrown once the events before it are out. */
  #overLimit: LimitError | undefined
  /** The last event ID seen (what `Last-Event-ID` should carry on a reconnect). */
  lastEventId: string | undefined
  /** The reconnection time the server asked for with `retry:`, in milliseconds. */
  retry: number | undefined
  /** Events dispatched so far. */
  count = 0
  /** Events dispatched since the block that set `lastEventId` (see `SseState.since`), skipped ones included. */
  since = 0
  /**
   * Events of a replay still to skip (see `reset`): dispatched before, so not returned again. A block with an
   * `id:` field ends the skip, as the server's position is then its own: an event after it is no replay.
   */
  #skip = 0
  /** Events skipped in the last text fed: they precede its returned events in the batch's text. */
  #skipped = 0
  #batchSkipped = 0
  /** Where the last event skipped as a replay ends (in bytes since the start or a reset). */
  #replayedTo = 0
  /**
   * What is left to match of the blocks the replay sends again after the events it repeats (see `reset`), while
   * what follows them matches so far; what `reset` was given (see `trailing`).
   */
  #echo: string | undefined
  #trailing: Trailing = ''
  /**
   * The last event replayed ended the text with a CR, whose LF may come next: part of the replay, then (and with
   * `#blank` 2, whatever comes next).
   */
  #lf = false
  /**
   * Bytes of the last replayed event's blank line the boundary counted (see `Trailing`), when the stream was cut
   * right after its CR and guessed how the blank line ends: 1, the CR alone; 2, a CRLF (the line before ended so).
   * The replay ends as far into the answer as that: before the LF of a CRLF that the client never had, or, after a
   * CR alone where the client counted an LF too, one byte past it, which stands for that LF. 0 otherwise, or once a
   * block with an id ended the skip (the server's own position).
   */
  #blank = 0
  /** Where `committed` lies in the last batch's text. */
  #batchEnd = 0
  /** `since` after each event of `#out`, then of the last batch returned (see `sinceAfter`). */
  #sinces: number[] = []
  #batchSinces: number[] = []
  /**
   * Byte offset after the last blank line of the last chunk that dispatched events (a unit boundary): where a
   * checkpoint lands once all of that chunk's events are consumed. Blocks that dispatch no event do not move it:
   * one may set the last event ID or the retry time, which a checkpoint does not carry, so a resume from before
   * it reads it again (a comment, read again, costs its bytes).
   */
  committed = 0
  /**
   * The last event ID and retry time in force at `committed`: the blocks before it, those that dispatched no
   * event included (an `id:`-only block sets the last event ID, a `retry:` line the retry time).
   */
  committedState: SseState = { lastEventId: undefined, retry: undefined }
  /** The same boundary before the last chunk: where a resume lands when that chunk's events are half read. */
  previousCommitted = 0
  previousState: SseState = this.committedState
  /** The values `retry:` lines set in the text being fed, in order (rare: a server sends one, at the start). */
  #retries: number[] = []
  /**
   * Decoded text since `#pendingAt`, a block boundary at or after `committed`: the block in progress, as text
   * up to the last complete block (which dispatched no event) is dropped, and so are its lines without data once
   * it is long (see `#compact`); and the last batch's text since `#batchAt` (for `committedAfter`).
   */
  #pending = ''
  #pendingAt = 0
  #batch = ''
  #batchAt = 0
  /** The chunk whose text ends the last batch. */
  #batchDecoded: Decoded = { text: '', chunk: NO_BYTES, chunkStart: 0, textStart: 0, textEnd: 0 }
  /**
   * Lines dropped from `#pending`, and from the last batch's text: complete lines of the block in progress that
   * hold no data (comments, `id:`, `event:`, `retry:`, other fields), which the parser has taken and a scan of
   * the text does not need, as only data makes a block dispatch. `#pending` drops them once it is longer than
   * `#compactAt` (see `#compact`): a block that never ends (keep-alive comments without a blank line between them)
   * keeps its data lines and a few characters.
   */
  #dropped = 0
  #batchDropped = 0
  #compactAt: number
  /** The last two characters decoded: where a blank line split across chunks began. */
  #tail = ''
  // Line bookkeeping, only with `countLines` (error messages): line terminators in all text fed, before
  // `committed`, and before the last batch; whether the text so far ends in a CR whose LF may follow.
  readonly #countLines: boolean
  #lines = 0
  #endsInCR = false
  #committedLines = 0
  #previousLines = 0
  #pendingLines = 0
  #pendingAfterCR = false
  #batchLines = 0
  #batchAfterCR = false
  /** Where lookups into the last batch left off; made on the first lookup, dropped with the batch. */
  #scan: BatchScan | undefined
  // The limit is in bytes of the body, which the text only bounds (see `onEvent`). The block in progress starts
  // at `#blockStart` or after (after the last blank line found), in the chunks `#chunks` decoded since: when it
  // may be over the limit, `#sizer` measures it from those bytes, then on chunk by chunk until a small block
  // starts. `#doubt`: an event of the last chunk needs that measure.
  #blockStart = 0
  #chunks: Decoded[] = []
  #sizer: EventSizer | undefined
  #doubt = false
  /** Whether the block in progress has begun an event (see `cut`). */
  #begun = false

  readonly #origin: OriginOf
  /** Lines counted before the last `reset()`: line numbers go on across a restart. */
  #linesAtReset = 0

  /**
   * `origin`: where the input begins in the body, for the positions of errors (see `Origin`); `state`: the last
   * event ID and retry time in force there, for a stream that continues from a checkpoint; `skip`: the events its
   * input starts by replaying (see `reset`).
   */
  constructor(options: {
    maxEventBytes: number
    countLines?: boolean
    origin?: OriginOf
    state?: SseState
    skip?: number | undefined
    trailing?: Trailing | undefined
  }) {
    this.#maxEventBytes = this.#compactAt = options.maxEventBytes
    if (options.state !== undefined) this.#adopt(options.state)
    this.#replay(options.skip, options.trailing)
    this.#countLines = options.countLines ?? false
    this.#origin = options.origin ?? BODY_START
    // eventsource-parser strips the stream's BOM; stripping one here too would drop a second (WHATWG: one).
    this.#utf8 = new Utf8Decoder(false, true)
    this.#parser = createParser({
      // The parser bounds what it buffers, in characters: the data so far and the line in progress, its field
      // name included. A character takes a byte or more, and a data line's `data: ` 6 bytes more than it adds to
      // the data: the parser stops only data over the limit, or a line of another field longer than it.
      maxBufferSize: 2 * options.maxEventBytes + 6,
      // The parser reports an `id:` field once per dispatch, with or without data: a block that only sets
      // an id still moves the last event ID, and an empty `id:` resets it (WHATWG "dispatch the event").
      onId: (id) => {
        this.lastEventId = id === '' ? undefined : id
        this.since = 0
        if (this.#skip > 0) this.#blank = 0
        this.#skip = 0
      },
      onEvent: (message) => {
        if (this.#overflowAt !== undefined) return
        // The event that carries the id is the one a replay starts after; each one without an id is counted.
        if (message.id === undefined) this.since++
        if (this.#skip > 0) {
          this.#skip--
          this.#skipped++
          return
        }
        // The data takes as many bytes as its UTF-8 length, but for a U+FFFD, which stands for 1 to 3 bytes of
        // the body, and no fewer than its UTF-16 units: only data over a third of the limit is measured, and only
        // data over it that holds a U+FFFD is measured in the body (#measure).
        const { data } = message
        const n = data.length
        const max = this.#maxEventBytes
        if (n > max || (n * 3 > max && utf8Length(data) > max)) {
          if (n > max || data.indexOf('\uFFFD') === -1) {
            this.#overflowAt = this.#out.length
            return
          }
          this.#doubt = true
        }
        this.count++
        this.#sinces.push(this.since)
        this.#out.push({
          id: this.lastEventId,
          event: message.event ?? 'message',
          data: message.data,
          retry: this.retry,
        })
      },
      onRetry: (retry) => {
        this.retry = retry
        this.#retries.push(retry)
      },
      onError: (error) => {
        // Unknown fields and bad `retry:` values are ignored, as the WHATWG rules say; only overflow is fatal.
        if (error.type === 'max-buffer-size-exceeded') this.#overflowAt ??= this.#out.length
      },
    })
  }

  push(chunk: Uint8Array): ServerSentEvent[] {
    if (this.#overLimit) throw this.#overLimit
    // eventsource-parser strips a BOM from the first text it is fed, and EF BB BF read as Latin-1 (U+00EF U+00BB
    // U+00BF, which is text) too: it is fed an empty line first, which dispatches nothing, and `#feed` strips the
    // BOM, a U+FEFF where the body starts. A stream that continues the body further on (from a checkpoint) keeps
    // a U+FEFF there as part of its field name, as it was in the undisturbed stream.
    if (this.#utf8.fed === 0) this.#parser.feed('\n')
    return this.#feed(this.#decode(chunk))
  }

  end(): ServerSentEvent[] {
    if (this.#overLimit) throw this.#overLimit
    const events = this.#feed(this.#decode(undefined))
    this.#parser.reset({ consume: false })
    return events
  }

  /**
   * Where the body stands inside an event, if it does (before `end()`): the event a clean end there would cut off,
   * which the WHATWG rules drop — its block has a field line, whole or not, or the input ends inside a character. A
   * comment begins no event, even one without its line end. Said as a clause for a `TruncatedError`. `rest`: bytes
   * the body ends with that are not pushed yet (a tee() branch's queue), judged as they will be, nothing changed.
   */
  cut(rest: readonly Uint8Array[] = []): string | undefined {
    // The bytes held back from the last chunk, then `rest`, decoded after the text so far (its last two characters).
    const start = this.offset
    const chunk = concatBytes([this.#utf8.held, ...rest])
    const utf8 = new Utf8Decoder(false, true)
    let text = utf8.decode(chunk)
    if (bomBytes(text) && !this.#utf8.fed && !this.#origin().offset) text = text.slice(1)
    const tail = this.#tail
    const end = lastBlankLineEnd(text, tail)
    const block = end === -1 ? this.#pending + text : text.slice(end)
    const begun = end === -1 ? this.#begun || hasField(text, /^$|[\r\n]$/.test(tail)) : hasField(block, true)
    const textEnd = start + utf8.offsetBefore('')
    if (!begun && utf8.fed === textEnd - start) return
    const at =
      end === -1
        ? this.#pendingAt
        : inputOffset({ text, chunk, chunkStart: start, textStart: start, textEnd }, end)
    const lines =
      end === -1 ? this.#pendingLines : this.#lines + countLineEnds(text.slice(0, end), this.#endsInCR)
    const origin = this.#origin()
    const line = this.#countLines ? ` (line ${origin.lines + this.#linesAtReset + lines + 1})` : ''
    return `the event starting at byte ${origin.offset + at}${line}, ${JSON.stringify(excerptOf(block, 40))}, before the blank line that ends it`
  }

  /**
   * At the end of the body (before `end()`), the events not returned yet: those complete in `rest` (see `cut`),
   * and the one the block in progress would dispatch, had its blank line come (see `sseTail`).
   */
  tail(rest: readonly Uint8Array[] = []): SseTail {
    const utf8 = new Utf8Decoder(false, true)
    const text = utf8.decode(concatBytes([this.#utf8.held, ...rest])) + utf8.end()
    // The BOM where the body starts is no field's: stripped, as `#feed` and `#compact` strip it.
    const block = this.#pending + text
    const atStart = this.#pendingAt === 0 && this.#origin().offset === 0
    return sseTail(atStart ? block.slice(bomBytes(block) && 1) : block, {
      lastEventId: this.lastEventId,
      retry: this.retry,
    })
  }

  /** An event over `maxEventBytes`, found after the events just returned: deliver them, then throw this. */
  get failure(): LimitError | undefined {
    return this.#overLimit
  }

  /** Bytes pushed since the decoder started (or was reset). */
  get fed(): number {
    return this.#utf8.fed
  }

  /** Byte offset in the body up to which input has been decoded. */
  get offset(): number {
    return this.#utf8.offsetBefore('')
  }

  /**
   * What the decoder keeps between pushes, for tests and diagnostics: the UTF-16 units of its text (the block
   * in progress and the last batch) and the bytes of the chunks of the block in progress, with their text.
   */
  get retained(): number {
    let n = this.#pending.length + this.#batch.length
    for (const { chunk, text } of this.#chunks) n += chunk.length + text.length
    return n
  }

  /**
   * Drops a partial event: the next chunk starts a fresh stream (a resumed connection), at a boundary where
   * `state` was in force (by default, the state now). `skip` (a `Last-Event-ID` answer, see `SseState.since`):
   * the fresh stream first replays that many events, which were dispatched before: they are not returned again,
   * unless a block with an `id:` field comes first. `trailing`: what lies between the last of them and the boundary
   * (see `trailing`): blocks that dispatch nothing, which a replay that sends them again as they were takes too; or
   * the blank line of the last, which the boundary stood before. Without a `skip` the answer replays nothing.
   */
  reset(
    state: SseState = { lastEventId: this.lastEventId, retry: this.retry, since: this.since },
    skip?: number,
    trailing?: Trailing,
  ): void {
    this.#adopt(state)
    this.#replay(skip, trailing)
    this.#parser.reset({ consume: false })
    this.#utf8.reset()
    this.#linesAtReset += this.#committedLines
    this.committed = 0
    this.previousCommitted = 0
    this.#pending = ''
    this.#pendingAt = 0
    this.#dropped = 0
    this.#batch = ''
    this.#batchAt = 0
    this.#batchSinces = []
    this.#batchSkipped = 0
    this.#scan = undefined
    this.#tail = ''
    this.#lines = 0
    this.#endsInCR = false
    this.#committedLines = 0
    this.#previousLines = 0
    this.#pendingLines = 0
    this.#pendingAfterCR = false
    this.#batchLines = 0
    this.#batchAfterCR = false
    this.#blockStart = 0
    this.#chunks = []
    this.#sizer = undefined
    this.#doubt = false
    this.#begun = false
  }

  /**
   * The input starts right after the block that set the id, where none of the `since` events in force at the
   * boundary has come yet: the first `skip` of them come again, and count again; then, with a `skip` (a replay),
   * the blocks `trailing` may.
   */
  #replay(skip: number | undefined, trailing: Trailing = ''): void {
    this.#skip = skip ?? 0
    this.since -= this.#skip
    const blocks = typeof trailing === 'string'
    // (A blank line the boundary stood before, this input, which the answer to a replay starts after, stands after.)
    this.#trailing = skip === undefined || blocks ? trailing : ''
    this.#echo = skip !== undefined && blocks && trailing !== '' ? trailing : undefined
    this.#replayedTo = 0
    this.#lf = false
    this.#blank = !skip || blocks ? 0 : Math.abs(trailing)
  }

  /** Notes where the last of the events skipped in the last batch's text ends, and matches what follows it. */
  #skippedTo(): void {
    const found = this.#findInBatch(this.#skipped, 0)
    const batch = this.#batch
    const at = found?.at ?? 0
    const blank = this.#skip ? 0 : this.#blank
    const cr = batch.charCodeAt(at - 1) === 13
    // The blank line is a CRLF here and the boundary counted its CR alone; or it is a CR alone and it counted two.
    const off =
      blank === 1 && !cr && batch.charCodeAt(at - 2) === 13
        ? -1
        : blank === 2 && cr && at < batch.length
          ? 1
          : 0
    this.#replayedTo = found ? this.#batchAt + this.#bytesBefore(at) + off : this.committed
    if (!found || this.#skip) return
    this.#lf = blank !== 1 && at === batch.length && cr
    this.#match(batch.slice(at))
  }

  /**
   * Takes `text`, which follows the events replayed (or what of the blocks after them matched so far), for as much
   * of those blocks as it repeats: once all of them came, the replay ends after them; once something else comes,
   * right after the events (a server that does not send them again, or sends others: heartbeats of its own).
   */
  #match(text: string): void {
    if (this.#lf && text !== '') {
      this.#lf = false
      const lf = text.charCodeAt(0) === 10
      // (With `#blank` 2, whatever comes stands for the LF the client counted.)
      if (lf || this.#blank === 2) this.#replayedTo++
      if (lf) text = text.slice(1)
    }
    const echo = this.#echo
    if (echo === undefined) return
    const n = Math.min(text.length, echo.length)
    if (n < echo.length && text === echo.slice(0, n)) this.#echo = echo.slice(n)
    else this.#echo = undefined
    if (text.startsWith(echo)) this.#replayedTo += utf8Length(this.#trailing as string)
  }

  /**
   * What lies between the end of the last block of the last batch that dispatched an event or set an id and
   * `committed`, where a server asked with `Last-Event-ID` resumes after the events it replays (see `reset`): the
   * blocks after it, which dispatch nothing (comments, heartbeats, `retry:` lines, an `event:` alone) and which that
   * server sends again, as text (none when it holds a U+FFFD, which stands for 1 to 3 bytes); or, where `committed`
   * stands before the CR that ended the block (see `lastBlankLineEnd`), minus the bytes of that blank line (a CRLF,
   * if the line before it ended so). After a reset with no event returned since, what it was given. Rare (a
   * restart), so it re-parses the batch.
   */
  get trailing(): Trailing {
    if (this.#batchSinces.length === 0) return this.#blank || this.#trailing
    const batch = this.#batch
    const end = this.#batchEnd
    const text = batch.slice(0, end === batch.length - 1 ? end + 1 : end)
    let from = 0
    let anchored = false
    const mark = (): void => {
      anchored = true
    }
    const parser = createParser({ onEvent: mark, onId: mark })
    const eol = /\r\n?|\n/g
    for (let at = 0; eol.exec(text) !== null; at = eol.lastIndex) {
      parser.feed(text.slice(at, eol.lastIndex))
      if (anchored) from = eol.lastIndex
      anchored = false
    }
    if (from > end) return batch.charCodeAt(end - 1) === 10 ? -2 : -1
    const blocks = batch.slice(from, end)
    return blocks.includes('\uFFFD') ? '' : blocks
  }

  #adopt(state: SseState): void {
    this.lastEventId = state.lastEventId
    this.retry = state.retry
    this.since = state.since ?? 0
    this.committedState = this.previousState = state
  }

  /**
   * Bytes of the input that replayed events already dispatched (see `reset`), once the skip is over; `undefined`
   * while it goes on. (0 when there was none.)
   */
  get replayed(): number | undefined {
    return this.#skip > 0 || this.#echo !== undefined || this.#lf ? undefined : this.#replayedTo
  }

  /**
   * Bytes at the end of `replayed` that stand for the blank line the boundary stood before (see `Trailing`), which
   * a consumer standing there reads from the answer: 0 without one, or when a block with an id ended the skip.
   */
  get replayedBlank(): number {
    return this.#blank
  }

  /** Whether events of a replay are still to skip (see `reset`): all the input so far replayed events. */
  get skipping(): boolean {
    return this.#skip > 0
  }

  /** `since` just after the event at `index` (0-based) of the last batch; after its last, `since` now. */
  sinceAfter(index: number): number {
    return this.#batchSinces[index] ?? this.since
  }

  /**
   * Byte offset just after the `n`-th event (1-based) of the last batch: where a checkpoint lands when only
   * part of the batch was delivered. Rare, so it re-parses the batch's text rather than tracking every event.
   */
  committedAfter(n: number): number {
    // Before the batch's first event: where the batch's text starts may lie past blocks that set an id or a retry.
    if (n <= 0) return this.previousCommitted
    const found = this.#findInBatch(n)
    return found === undefined ? this.committed : this.#batchAt + this.#bytesBefore(found.at)
  }

  /**
   * Byte offset where the block of the `n`-th event (1-based) of the last batch begins: after the last blank
   * line before it (any id-only block or comment before it is another block), so the same under any chunking.
   * For error messages.
   */
  blockStart(n: number): number {
    return this.#block(n).offset
  }

  /**
   * `blockStart(n)`, and the 1-based line where that block begins (0 when lines are not counted). An event the
   * batch does not complete (one over the limit) starts after the batch's last blank line.
   */
  #block(n: number): { offset: number; line: number } {
    const { at, lines } = this.#findInBatch(n)?.start ?? this.#scanOf().start
    const origin = this.#origin()
    return {
      offset: origin.offset + this.#batchAt + this.#bytesBefore(at),
      line: this.#countLines ? origin.lines + this.#linesAtReset + this.#batchLines + lines + 1 : 0,
    }
  }

  /**
   * 1-based line number in the body of the blank line that ended the `n`-th event (1-based) of the last batch;
   * 0 when the decoder was not asked to count lines. Rare (error messages only), so it re-parses the batch.
   */
  lineOf(n: number): number {
    if (!this.#countLines) return 0
    return this.#origin().lines + this.linesThrough(n)
  }

  /**
   * Lines this decoder counted up to the end of the `n`-th event of the last batch, or without `n` up to
   * `committed`; 0 when it was not asked to count lines.
   */
  linesThrough(n?: number): number {
    if (!this.#countLines) return 0
    if (n !== undefined && n <= 0) return this.#linesAtReset + this.#previousLines
    const found = n === undefined ? undefined : this.#findInBatch(n)
    return this.#linesAtReset + (found === undefined ? this.#committedLines : this.#batchLines + found.lines)
  }

  /** Lines this decoder counted in all it was fed (at the end of the body, the lines up to there). */
  get lines(): number {
    return this.#linesAtReset + this.#lines
  }

  /**
   * Where in the last batch's text the `n`-th event ends, and how many line terminators lead up to there. Lookups
   * go on from where the last one stopped (events looked up in order, as invalid ones skipped one after another
   * are): each costs the distance from the one before, not the whole batch.
   */
  #findInBatch(n: number, skipped = this.#batchSkipped): (Spot & { start: Spot }) | undefined {
    if (n <= 0) return BATCH_START
    // The events skipped as a replay come first in the batch's text: the scan finds them too.
    n += skipped
    const scan = this.#scanOf()
    const text = this.#batch
    while (scan.found.length < n) {
      const m = scan.eol.exec(text)
      if (m === null) {
        // exec() starts over after a miss: this scan stays at the end.
        scan.eol.lastIndex = text.length
        return undefined
      }
      const next = m.index + m[0].length
      const before = scan.count
      const blank = m.index === scan.at
      scan.parser.feed(text.slice(scan.at, next))
      scan.at = next
      if (!(m.index === 0 && m[0] === '\n' && this.#batchAfterCR)) scan.lines++
      if (scan.count > before) scan.found.push({ at: next, lines: scan.lines, start: scan.start })
      if (blank) scan.start = { at: next, lines: scan.lines }
      else {
        // Lines dropped from the block the batch starts with (see `#dropped`) lie after its first line: where
        // the batch starts, or after a blank line there (the stream's first line, or the LF of a CRLF cut in two).
        scan.lines += this.#batchDropped
        this.#batchDropped = 0
      }
    }
    return scan.found[n - 1]
  }

  /**
   * The bytes of the last batch before `at` (0, or just after a line terminator), counted on from the last such
   * count. In the batch's last chunk they count from where its text starts; by the UTF-8 length of the text,
   * unless that text holds a U+FFFD, which stands for 1 to 3 bytes of invalid input (or 3 of valid): then by its
   * line terminators (`inputOffset`). Earlier text (a partial block carried over) is measured by its UTF-8 length,
   * which only an error's position relies on.
   */
  #bytesBefore(at: number): number {
    const scan = this.#scanOf()
    const decoded = this.#batchDecoded
    const textAt = this.#batch.length - decoded.text.length
    if (at < scan.bytesAt) {
      scan.bytesAt = 0
      scan.bytes = 0
    }
    if (at >= textAt) {
      scan.replaced ??= decoded.text.indexOf('\uFFFD') !== -1
      if (scan.replaced) return inputOffset(decoded, at - textAt) - this.#batchAt
      if (scan.bytesAt < textAt) {
        scan.bytesAt = textAt
        scan.bytes = decoded.textStart - this.#batchAt
      }
    }
    scan.bytes += utf8Length(this.#batch, scan.bytesAt, at)
    scan.bytesAt = at
    return scan.bytes
  }

  #scanOf(): BatchScan {
    if (this.#scan === undefined) {
      const scan: BatchScan = {
        parser: createParser({
          onEvent: () => {
            scan.count++
          },
        }),
        eol: /\r\n|\r|\n/g,
        count: 0,
        at: 0,
        lines: 0,
        start: { at: 0, lines: 0 },
        found: [],
        bytesAt: 0,
        bytes: 0,
        replaced: undefined,
      }
      // As the stream's own parser, it strips a BOM only where the body starts (see `push`), and one at most: a line
      // starts after it, and the parser, fed a line first, strips no U+FEFF of its own.
      scan.parser.feed('\n')
      if (this.#batchAt === 0 && this.#origin().offset === 0)
        scan.at = scan.eol.lastIndex = bomBytes(this.#batch) >> 1
      this.#scan = scan
    }
    return this.#scan
  }

  /** Decodes `chunk` (or flushes, without one) and notes where its text lies in the input. */
  #decode(chunk: Uint8Array | undefined): Decoded {
    const chunkStart = this.#utf8.fed
    const textStart = this.#utf8.offsetBefore('')
    const text = chunk === undefined ? this.#utf8.end() : this.#utf8.decode(chunk)
    // After end(), nothing is held back: the text ends where the input does.
    return { text, chunk: chunk ?? NO_BYTES, chunkStart, textStart, textEnd: this.#utf8.offsetBefore('') }
  }

  #feed(decoded: Decoded): ServerSentEvent[] {
    const { text } = decoded
    // A chunk that decodes to nothing holds bytes that start the next text: a line may start with them.
    this.#chunks.push(decoded)
    if (text === '') return EMPTY
    const afterCR = this.#endsInCR
    if (this.#countLines) {
      this.#lines += countLineEnds(text, afterCR)
      this.#endsInCR = text.charCodeAt(text.length - 1) === 13
    }
    const retryBefore = this.retry
    if (this.#retries.length > 0) this.#retries = []
    this.#skipped = 0
    const bom = bomBytes(text) && !decoded.textStart && !this.#origin().offset
    this.#parser.feed(bom ? text.slice(1) : text)
    // The blocks a replay sends again after its events, this text following them (none of them skipped here).
    if ((this.#echo !== undefined || this.#lf) && this.#skip === 0 && this.#skipped === 0) this.#match(text)
    this.previousCommitted = this.committed
    this.previousState = this.committedState
    this.#previousLines = this.#committedLines
    // The blank line that dispatched may have begun in the text before: its last two characters tell.
    const tail = this.#tail
    this.#tail = text.length >= 2 ? text.slice(-2) : (tail + text).slice(-2)
    const batch = this.#pending === '' ? text : this.#pending + text
    // Where the block in progress starts now, if this text has a blank line: what comes before it is kept only
    // as far as the events of this chunk need it.
    const max = this.#maxEventBytes
    const fed = this.#utf8.fed
    let sizer = this.#sizer
    const end =
      this.#out.length > 0 || sizer || fed - this.#blockStart > max
        ? lastBlankLineEnd(text, tail)
        : blankLineEnd(text, tail)
    const start = end === -1 ? this.#blockStart : inputOffset(decoded, end)
    // Whether the block in progress has begun an event: a line since its blank line that is not a comment.
    if (end !== -1 || !this.#begun) {
      const rest = end === -1 ? text : text.slice(end)
      this.#begun = hasField(bom && end < 1 ? rest.slice(1) : rest, end !== -1 || /^$|[\r\n]$/.test(tail))
    }
    // The events of this chunk before the first one over the limit, measured in the bytes.
    let over: number | undefined
    if (this.#doubt || this.#overflowAt !== undefined || sizer || fed - start > max) {
      // The parser strips a BOM where the body starts.
      sizer ??= this.#sizer = eventSizer(
        this.#blockStart,
        this.#blockStart > 0 || this.#pendingAt > 0 || this.#origin().offset > 0 ? 0 : bomBytes(batch),
      )
      sizer.events = 0
      for (const { chunk, chunkStart } of this.#chunks) {
        if (sizer.scan(chunk, chunkStart, max)) {
          // Counted among the events of this text, the replay it skipped first included (never one over it).
          over = sizer.events < this.#skipped ? undefined : sizer.events - this.#skipped
          break
        }
      }
      this.#chunks = []
      this.#doubt = false
    }
    // Found by the parser first: a line of another field over the limit.
    if (over !== undefined && over > (this.#overflowAt ?? over)) over = undefined
    if (over !== undefined) {
      this.count -= this.#out.length - over
      this.#overflowAt = over
    }
    if (this.#overflowAt !== undefined) {
      // The events before the one over the limit are delivered first, whatever the chunking; that one starts in
      // this batch (which starts at a block boundary), after the last blank line before it.
      // (Their counts go with them, taken with the batch below.)
      this.#out.length = this.#sinces.length = this.#overflowAt
      this.#batchSkipped = this.#skipped
      this.#batch = batch
      this.#batchAt = this.#pendingAt
      this.#batchDecoded = decoded
      this.#scan = undefined
      this.#batchLines = this.#pendingLines
      this.#batchAfterCR = this.#pendingAfterCR
      this.#batchDropped = this.#dropped
      const block = this.#block(this.#overflowAt + 1)
      // Measured in the bytes, where it starts is exact; found by the parser alone (a line of another field over
      // the limit), it is where the text says.
      const offset = over === undefined ? block.offset : this.#origin().offset + sizer!.start
      const { line } = block
      this.#overLimit = new LimitError(
        'maxEventBytes',
        this.#maxEventBytes,
        `The event starting at byte ${offset}${line === 0 ? '' : ` (line ${line})`}`,
        {},
        { offset, line: line === 0 ? undefined : line },
      )
    }
    if (end !== -1 && start >= decoded.chunkStart && (this.#sizer === undefined || fed - start <= max)) {
      // A block starts in this chunk (not in bytes held back from the one before): the bytes before it are no
      // longer needed, nor a measure of a block before it.
      this.#sizer = undefined
      this.#blockStart = start
      this.#chunks = [decoded]
    }
    if (this.#out.length === 0 && this.#skipped > 0) {
      // Only a replay's events, skipped: the last batch is empty (none was returned since the reset), so this text
      // can be looked through as one, for where they end.
      this.#batch = batch
      this.#batchAt = this.#pendingAt
      this.#batchDecoded = decoded
      this.#scan = undefined
      this.#batchSinces = []
      this.#batchSkipped = 0
      this.#batchDropped = this.#dropped
      this.#skippedTo()
    }
    if (this.#out.length === 0) {
      // Blocks this text completes dispatched no event (comments, heartbeats, padding): no later event needs
      // their text, only where it ends and its lines, so a stream of them keeps no more than the block in progress
      // (and of a long one, its data lines: see `#compact`).
      if (end === -1) this.#pending = batch.length > this.#compactAt ? this.#compact(batch) : batch
      else this.#carry(text, end, start, afterCR)
      return EMPTY
    }
    this.committed = end === -1 ? decoded.textStart : start
    this.#batchEnd = batch.length - text.length + Math.max(end, 0)
    this.committedState = this.#stateAt(text, end, retryBefore)
    this.#batchSinces = this.#sinces
    this.#sinces = []
    this.#batchSkipped = this.#skipped
    this.#batch = batch
    this.#batchAt = this.#pendingAt
    this.#batchDecoded = decoded
    this.#scan = undefined
    if (this.#countLines) {
      this.#batchLines = this.#pendingLines
      this.#batchAfterCR = this.#pendingAfterCR
      this.#batchDropped = this.#dropped
    }
    if (this.#skipped > 0) this.#skippedTo()
    this.#carry(text, end, this.committed, afterCR)
    this.#committedLines = this.#pendingLines
    const events = this.#out
    this.#out = []
    return events
  }

  /**
   * The state in force just after index `end` of the text just fed (its last blank line; -1: its end). The last
   * event ID is the parser's: an `id:` field takes effect when its block is dispatched, at a blank line. A
   * `retry:` field takes effect on its line, so lines of the block in progress may have set it since: the value
   * before them, of those this text set (or the one before it), is the one in force at `end`.
   */
  #stateAt(text: string, end: number, retryBefore: number | undefined): SseState {
    const set = this.#retries
    const after = set.length === 0 || end === -1 ? 0 : retryLines(text.slice(end))
    const retry = after === 0 ? this.retry : after < set.length ? set[set.length - 1 - after] : retryBefore
    const state = this.committedState
    return state.lastEventId === this.lastEventId && state.retry === retry && state.since === this.since
      ? state
      : { lastEventId: this.lastEventId, retry, since: this.since }
  }

  /**
   * `text`, the block in progress, without its complete lines that hold no data (see `#dropped`), but those whose
   * place matters: an empty line (the body's first, or the LF of a CRLF cut in two), and the first and the last
   * ones, as empty comments (a CR that ends the last may be the first half of a CRLF). The line in progress keeps
   * its first characters, which tell whether it holds data. Where the body starts, its BOM stays, for the scan to
   * strip: the first line stays first, so that no U+FEFF of a line after it takes its place.
   */
  #compact(text: string): string {
    const bom = this.#pendingAt > 0 || this.#origin().offset > 0 ? 0 : bomBytes(text) >> 1
    const kept =
      text.slice(0, bom) +
      text
        .slice(bom)
        .replace(
          /([^\r\n]*)(\r\n?|\n)|.+/gs,
          (line: string, field: string | undefined, eol: string | undefined, at: number) => {
            if (eol === undefined) return line.slice(0, 5)
            if (/^(data(:|$)|$)/.test(field!)) return line
            if (!at || bom + at + line.length === text.length) return `:${eol}`
            this.#dropped++
            return ''
          },
        )
    // Data the block keeps costs one more scan each time it doubles.
    this.#compactAt = this.#maxEventBytes + 2 * kept.length
    return kept
  }

  /**
   * Keeps of `text` only what follows index `end` (just after its last blank line; all of it for -1), which
   * starts at byte `at`, and the lines before it.
   */
  #carry(text: string, end: number, at: number, afterCR: boolean): void {
    this.#pending = end === -1 ? text : text.slice(end)
    this.#pendingAt = at
    this.#dropped = 0
    if (this.#countLines) {
      // Pending text cut after a terminator of this text shares none; pending text that is all of this text
      // may start with the LF of a CR before it.
      this.#pendingAfterCR = end === -1 ? afterCR : this.#pending === '' && this.#endsInCR
      this.#pendingLines = this.#lines - countLineEnds(this.#pending, end === -1 && afterCR)
    }
  }
}

/**
 * Where `at` in the text of `decoded` lies in the input, `at` being 0 or just after a CR or LF. The UTF-8 length
 * of the text after it gives it, unless that text holds a U+FFFD (1 to 3 bytes of invalid input, or 3 of valid):
 * then the line terminators do, as each CR or LF of the text is a CR or LF byte of the chunk, in order (a byte
 * held back from the chunk before is never one, and an invalid sequence never swallows one).
 */
function inputOffset(decoded: Decoded, at: number): number {
  const { text, chunk } = decoded
  if (text.indexOf('\uFFFD', at) === -1) return decoded.textEnd - utf8Length(text, at)
  if (at === 0) return decoded.textStart
  let terminators = 0
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 || c === 13) terminators++
  }
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!
    if ((b === 10 || b === 13) && --terminators === 0) return decoded.chunkStart + i + 1
  }
  return decoded.textEnd
}

/** Whether `text` (at a line's start when `atStart`) has a line that begins with a field: not a comment's colon. */
function hasField(text: string, atStart: boolean): boolean {
  return /[\r\n][^\r\n:]/.test(atStart ? `\n${text}` : text)
}

/** The bytes of a BOM (U+FEFF, one character) that starts `text`, stripped where the body starts. */
function bomBytes(text: string): number {
  return text.charCodeAt(0) === 0xfeff ? 3 : 0
}

/**
 * The `retry:` lines of `text` (which starts at a line's start) that the parser has taken: complete lines (a
 * line terminator ends them) whose value is all ASCII digits, after at most one space (WHATWG).
 */
function retryLines(text: string): number {
  const line = /retry: ?[0-9]+[\r\n]/y
  let n = 0
  for (let i = text.indexOf('retry:'); i !== -1; i = text.indexOf('retry:', i + 6)) {
    const before = i === 0 ? 10 : text.charCodeAt(i - 1)
    line.lastIndex = i
    if ((before === 10 || before === 13) && line.test(text)) n++
  }
  return n
}

/** Line terminators in `text` (CRLF counts once); `afterCR`: a leading LF completes a CR before `text`. */
function countLineEnds(text: string, afterCR: boolean): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 10) n++
  }
  return afterCR && text.charCodeAt(0) === 10 ? n - 1 : n
}

/**
 * `lastBlankLineEnd`, for text that most often holds no blank line (a chunk in the middle of a long event), which
 * native searches tell faster than a scan. A blank line holds two line terminators in a row that are not one CRLF
 * (LF LF, LF CR or CR CR), and any such pair ends a line, then an empty one; one that begins in `tail` (which then
 * ends in a terminator) ends in the first two characters.
 */
function blankLineEnd(text: string, tail: string): number {
  if (text.indexOf('\n\n') !== -1) return lastBlankLineEnd(text, tail)
  // Most streams end their lines with LF alone: one search for a CR (quicker than one for a pair) rules out both.
  const cr = text.indexOf('\r')
  if (cr !== -1 && (text.indexOf('\r\r', cr) !== -1 || text.indexOf('\n\r', cr - 1) !== -1))
    return lastBlankLineEnd(text, tail)
  const c = tail.charCodeAt(tail.length - 1)
  return c === 10 || c === 13 ? lastBlankLineEnd(text.slice(0, 2), tail) : -1
}

/**
 * Index just after the last blank line (the end of a dispatching block) in `text`, or -1; `tail` is the text
 * just before `text` (its last two characters), where that blank line or its CR may have begun. A blank line
 * that is a CR ending `text` may be the first half of a CRLF: the boundary is before it, not between the two (a
 * stream continued from there would count the LF as one more line).
 */
function lastBlankLineEnd(text: string, tail: string): number {
  // Indexes below 0 read `tail`; no concatenation, which would copy the chunk.
  const at = (i: number): number => (i >= 0 ? text.charCodeAt(i) : tail.charCodeAt(tail.length + i))
  for (let i = text.length - 1; i > -tail.length; i--) {
    const c = at(i)
    if (c !== 10 && c !== 13) continue
    const start = c === 10 && at(i - 1) === 13 ? i - 1 : i
    const before = at(start - 1)
    if (before === 10 || before === 13) return Math.max(0, c === 13 && i === text.length - 1 ? i : i + 1)
  }
  return -1
}
