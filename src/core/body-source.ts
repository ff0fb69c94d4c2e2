import { isBodiless } from './bodiless.ts'
import { type DeclaredLength, declaredLength } from './declared-length.ts'
import type { Origin } from './decoders/origin.ts'
import type { Trailing } from './decoders/sse.ts'
import { END_MARKER_HEADER, EndMarkerTrap } from './end-marker.ts'
import { pageExcerpt, said } from './error-body.ts'
import { LimitError } from './errors/limit-error.ts'
import { clauseOf, NetworkError, reasonOf } from './errors/network-error.ts'
import { printable } from './errors/printable.ts'
import { ResumeError } from './errors/resume-error.ts'
import { type ErrorContext, isSluiceError } from './errors/sluice-error.ts'
import { TimeoutError } from './errors/timeout-error.ts'
import { TruncatedError } from './errors/truncated-error.ts'
import { httpDate } from './http-date.ts'
import { isNetworkFailure, resumeFailed } from './network-failure.ts'
import type { ProgressTracker } from './progress.ts'
import { type Checkpoint, sealCheckpoint } from './resume/checkpoint.ts'
import { idFromHeader } from './resume/event-id-header.ts'
import {
  backoffDelay,
  type CursorRequest,
  type ResolvedResume,
  type ResumeStrategy,
  retryAfter,
  sleep,
} from './resume/options.ts'
import {
  type Acceptance,
  acceptResume,
  encodingOf,
  hidesCoding,
  isRetryableStatus,
  mediaType,
  parseContentRange,
  pickStrategy,
  type ResumeState,
  representationLength,
  resumeRequest,
} from './resume/strategy.ts'
import { unusableAnswer } from './unusable-answer.ts'

/** What a consumer tells the source, so that a resume or a checkpoint lands on a unit boundary. */
export interface ConsumerHooks {
  /** Bytes (counted from where the decoder started) up to which whole units were delivered; `fed` were read. */
  committed(fed: number): number
  /** A fresh stream starts at a unit boundary after the last delivered unit: drop any partial state. */
  restart?(): void
  /**
   * A tee's: its source (a tee() branch) restarted right after the bytes it handed out, which its consumers take
   * as they are (a tee that cannot restart): its branches' positions count from that byte on.
   */
  rebase?(at: number): void
  /**
   * A tee's: none of its branches reads (each was cancelled before it read, or is not read yet): like a consumer
   * not attached yet, it follows any restart.
   */
  readonly idle?: boolean
  /**
   * A tee's: none of its live branches reads, and only cancelled ones speak for it (see `idle`): the outer tee
   * counts it as a cancelled branch of its own, and it follows a restart before their place.
   */
  readonly left?: boolean
  /**
   * At an end nothing proves (no length, no end marker), the event (events()) or the record (ndjson(): its final
   * line is not JSON) the body ended inside, said as a clause (see `SseDecoder.cut`): the end is a cut, not the
   * stream's end. `rest`: the bytes the body ends with that the consumer has not fed its decoder yet (a tee()
   * branch's queue, after those it handed and were not fed yet: see `fed`); a consumer that cannot judge them says
   * nothing.
   */
  cut?: ((rest?: readonly Uint8Array[]) => string | undefined) | undefined
  /**
   * Bytes its decoder took since it started or restarted (a tee's: those its source gave since its last split): a
   * tee() branch hands a chunk some microtasks before its consumer feeds it, and judges a cut with the bytes it
   * handed past these as bytes not decoded yet.
   */
  fed?(): number
  /** The last SSE event id seen (events only). */
  lastEventId?(): string | undefined
  /** Events dispatched since the block that set that id, up to the boundary (events only; see `SseState.since`). */
  since?(): number
  /**
   * What lies between the last event (or id) and the boundary, where a Last-Event-ID answer resumes after the events
   * it replays: blocks that dispatch nothing, which it sends again, or less the blank line the boundary stands before
   * (events only; see `SseDecoder.trailing`).
   */
  trailing?(): Trailing
  /**
   * Bytes of the current answer that replayed events the consumer had passed (a Last-Event-ID answer, see
   * `SourceOrigin.replay`), once it skipped them all; `undefined` while it skips (events only).
   */
  replayed?(): number | undefined
  /** The reconnection delay the server asked for with `retry:` (events only). */
  retryMs?(): number | undefined
  /** The reconnection time in force at the boundary (`committed`), for checkpoints (events only). */
  retryAt?(): number | undefined
  /** The last item delivered (records and events), for cursors. */
  lastItem?(): { value: unknown } | undefined
  /** Lines and records consumed since the consumer started, up to `committed`: what checkpoints count. */
  units?(): { lines: number; records: number }
  /** Whether the consumer consumed the stream's terminal event (events({ until })): the end, which nothing follows. */
  ended?(): boolean
  /**
   * What one of its items is, for a consumer that hands `lastItem` to a cursor (`'lines'`, `'ndjson'`, raw or
   * parsed events, or the schema that shapes them): two tee() branches continue by one cursor only if equal.
   */
  readonly unit?: unknown
  /**
   * events() and events({ json: true }): the event the boundary (`committed`) lies right after, as the latter
   * delivers it, or `undefined` (none delivered, one skipped since, data that is not JSON). One cursor continues
   * tee() branches that read events both ways with it, whichever is ahead.
   */
  parsed?(): { value: unknown } | undefined
  /**
   * A tee()'s: `committed` and the position there (`lastEventId`, `lastItem`, `parsed`) as they will be once the
   * consumer has delivered the units it has decoded and not delivered yet (it reads on only after them), so that a
   * restart is planned after them (without `lastItem` when a schema has yet to judge them); `undefined` when it
   * has none.
   */
  ahead?(): Partial<ConsumerHooks> | undefined
}

/**
 * Where a stream stands before the first byte a consumer reads, for the positions of errors: that byte's offset
 * in the current representation of the body (a checkpoint's offset, or the start of the caller's own Range; 0
 * again after a restart), and the lines and records consumed before it (a checkpoint's).
 */
export interface SourceOrigin extends Origin {
  records: number
  /**
   * A checkpoint's SSE state at its offset: the last event ID and the retry time in force there, and the events
   * dispatched since that id's block (see `SseState.since`).
   */
  lastEventId?: string | undefined
  retry?: number | undefined
  since?: number | undefined
  /** A checkpoint's SSE blocks after its last event, or the blank line it stands before (see `Checkpoint.trailing`). */
  trailing?: Trailing | undefined
  /**
   * Whether the answer being read continues by Last-Event-ID: its server replays every event after the id's, so
   * an events() consumer skips those it had passed (`since`, or at a restart its own count).
   */
  replay?: boolean | undefined
}

/** Methods that may be sent twice with the effect of once (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** The logical body as consumers see it: chunks until a proven end, then `undefined`. */
export interface ChunkSource {
  /** The next chunk; `undefined` at the end. Rejects with a sluice error, or the abort reason. */
  read(): Promise<Uint8Array | undefined>
  /** Stops reading and releases the connection. Idempotent. */
  cancel(reason?: unknown): Promise<void>
  /**
   * Whether `cancel()` stopped the source before its end: a read then returns `undefined`, which consumers
   * must not take for the end of the body (a partial line is not a line).
   */
  readonly cancelled?: boolean
  /** When the user's signal aborted the stream: its reason, which consumers throw instead of ending quietly. */
  readonly abortReason?: unknown
  /**
   * Calls `listener` when the source is stopped (`cancel()`, `detach()`, the user's abort), at once if it is
   * already: for a consumer that waits on something else than a read (an asynchronous schema). Returns the
   * function that stops listening.
   */
  onStop?(listener: () => void): () => void
  /** Registers the consumer's hooks (one consumer per source). */
  attach?(hooks: ConsumerHooks): void
  /**
   * Whether the chunks it reads are its consumer's alone when they are whole (the view spans its buffer): read from
   * a byte stream, such as fetch's bodies, which took their buffers over. Absent: not known, copy to keep one.
   */
  readonly owned?: boolean
  /** Where the stream stands before the first byte a consumer reads; absent: the start of the body. */
  origin?(): SourceOrigin
  /** The request and response the body being read came from, for errors a consumer finds in it. */
  context?(): ErrorContext
  /**
   * A tee() branch's, while its source restarts (or has, and the branch has yet to meet the restart): the byte, in
   * the branch's coordinates, that the restart comes after. A tee of the branch hands its own branches no further.
   */
  hold?(): number | undefined
  /**
   * Whether a restart after something delivered, from a place with this event id and last item, can be resumed
   * (the strategy in use, or the one `auto` would pick there, continues from it): a tee plans its restart by it.
   */
  continues?(place: Place): boolean
}

/** The position a restart is asked to continue from (see `ChunkSource.continues`). */
export type Place = Pick<ResumeState, 'lastEventId' | 'lastItem'>

/** Re-requests the resource with the additions of a resume strategy, on a connection of its own. */
export type Reconnect = (extra: CursorRequest, signal: AbortSignal) => Promise<Response>

/** What a body source needs to know about the request it reads. */
export interface SourceInit {
  response: Response
  /**
   * The Request sent last, reconnects included (when known): the first response's at the start, then each
   * reconnect's, so that errors carry the one they are about.
   */
  request: () => Request | undefined
  method: string
  progress: ProgressTracker
  /** The user's signal: its abort reason is what a read rejects with. */
  signal: AbortSignal | undefined
  /**
   * Keeps `signal` following the user's signals, which sluice() lets go of once the stream settles (`onSettled`):
   * a consumer still waiting after the end (a schema validating the document) must hear the user's abort.
   */
  hold?: (() => () => void) | undefined
  /** Aborts the first connection (the idle timeout uses it; later connections get their own). */
  connection: AbortController
  maxBytes: number
  /** `options.total`: a declared length from the caller. */
  total: number | undefined
  idleTimeout: number | undefined
  /** Set when the total timeout fired; reads then reject with it. */
  expired: () => TimeoutError | undefined
  /** Resume settings; `undefined` when resume is off. */
  resume: ResolvedResume | undefined
  /** How to re-request; `undefined` when there is no way (fromResponse without `request`). */
  reconnect: Reconnect | undefined
  /**
   * When this response answers a `resumeFrom` request: the checkpoint, how the answer was accepted, and how many
   * requests it took (reconnects: the first continues the stream).
   */
  resumed?: { checkpoint: Checkpoint; acceptance: Acceptance; tries: number } | undefined
  /** Called once when the logical stream is over, whichever way (the total timeout's timer stops). */
  onSettled?: (() => void) | undefined
  /**
   * `reconnect` is the caller's own function, whose errors ky has not seen (fromResponse's `request`): a
   * TypeError from it is taken for a network failure, and asked again. Otherwise only what ky or the runtime
   * says is the network's is (see isNetworkFailure).
   */
  rawReconnect?: boolean | undefined
}

/** A read result that delivers nothing yet: read again. */
const CONTINUE: unique symbol = Symbol('continue')

/**
 * Whether `body` is a byte stream: a reader's chunks from one are its own, their buffers taken over when they were
 * put in it. (A lock taken and let go does not disturb it.)
 */
function isByteStream(body: ReadableStream<Uint8Array>): boolean {
  try {
    new ReadableStreamBYOBReader(body as ReadableStream<Uint8Array<ArrayBuffer>>).releaseLock()
    return true
  } catch {
    return false
  }
}

/** A body with nothing in it, for a resume that has nothing left to read. */
const EMPTY_BODY = (): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })

/**
 * The logical body: reads the current response on the hot path — a plain reader loop, no stream layers —
 * counting bytes for progress, enforcing `maxBytes` and the idle timeout, and proving completion (a body that
 * ends short of its declared length, or without the end marker its server announced, is a drop, never a clean
 * end). On a drop it reconnects with the resume strategy, so that consumers see one continuous stream with
 * every unit delivered exactly once. This is sluice's one orchestrator.
 */
export class BodySource implements ChunkSource {
  /** Whether the current response's body is a byte stream (see `ChunkSource.owned`). */
  owned: boolean
  readonly #init: SourceInit
  #response: Response
  /** The Request that `#response` answers, when known. */
  #request: Request | undefined
  #reader: ReadableStreamDefaultReader<Uint8Array>
  #connection: AbortController
  #marker: EndMarkerTrap | undefined
  /** The URL the body comes from: empty for a Response made in code that no `url` option names. */
  readonly #url: string
  /** The same for messages: the URL, or "the response". */
  readonly #where: string
  /** A chunk crossed `maxBytes`: its bytes within the limit were delivered, and the next read throws this. */
  #overLimit: LimitError | undefined
  /** Bytes delivered to the consumer, over all connections (not those of a replay it skips). */
  offset = 0
  cancelled = false
  abortReason: unknown
  #finished = false
  #waitingSince: number | undefined
  #watchdog: ReturnType<typeof setTimeout> | undefined
  #idleFired: TimeoutError | undefined
  #onAbort: (() => void) | undefined
  #hooks: ConsumerHooks | undefined
  // Resume bookkeeping, in the coordinates of the current representation of the body.
  /** Bytes of the current representation received from the network (the next Range offset). */
  #received = 0
  /** Where the current decoder started, in the same coordinates. */
  #decoderBase = 0
  /** Bytes delivered since the current decoder started. */
  #sinceDecoder = 0
  /** Absolute end of the body, when declared. */
  #end: number | undefined
  /** Who declared `#end`, for messages. */
  #endBy = ''
  /** Where the current answer, a part that did not say the body's length, ends: not the body's end. */
  #answerEnd: number | undefined
  /** Where a part the caller asked for with its own bounded Range ends: resumes ask for no more. */
  #partEnd: number | undefined
  /** A `200` answered a Range request: discard until this many bytes were received. */
  #skipUntil = 0
  /**
   * Bytes of a restarted stream that replay what was already counted; below 0, those of the body it resumes after that
   * were never received (the LF of a blank line: see `#adopt`), which count with its first.
   */
  #uncounted = 0
  /**
   * The consumer skips the events a Last-Event-ID answer replays: the bytes read since the restart are not counted
   * until it tells how many of them the replay took (see `ConsumerHooks.replayed`).
   */
  #replaying = false
  /** The part of a chunk held back at `maxBytes` during a replay (see `#cut`): the next read hands it. */
  #rest: Uint8Array | undefined
  /** Bytes of the current answer that replayed what was counted before, once known: they were never counted. */
  #replayed = 0
  /**
   * Reconnects made for the stream, each a request (`progress.attempt` and `ResumeError.attempts` count them): in
   * a stream continued from a checkpoint, those of this call, its resume requests included.
   */
  #attempts = 0
  /**
   * 1 while the last reconnect counted (in `#attempts` and `progress.attempt`, as it is decided) still waits out its
   * backoff, its request not sent, else 0: a checkpoint counts only requests sent, since the one that continues from
   * it is counted in its place.
   */
  #unsent = 0
  /** Reconnects that `resume.attempts` bounds and the backoff grows with: a healthy connection's drop resets them. */
  #spent = 0
  /** When the current connection was made by a reconnect: a drop judges it healthy by how long it stayed up. */
  #since = 0
  /** The last reconnect's request additions, as JSON: the same again asks from the same place. */
  #key: string | undefined
  #strategy: ResumeStrategy | undefined
  #etag: string | undefined
  #lastModified: string | undefined
  /** Whether the first answer's `Date` makes `#lastModified` a strong validator, which alone goes in `If-Range`. */
  #strongDate: boolean | undefined
  /** The representation's complete length as the server declared it, to tell another version on resume. */
  #length: number | undefined
  /** Whether `#length` is a Range answer's, which fetch asks for uncoded: no coding CORS hid counted it. */
  #plain = false
  /** The response's content coding, when it has one: then Range cannot continue it. */
  #encoding: string | undefined
  /** The first answer's media type and end-marker announcement, which every later answer must keep. */
  #contentType: string | undefined
  #markerAnnounced: boolean
  /** A checkpoint's position (or the request's own Last-Event-ID), in force until the consumer delivers its own. */
  #checkpointEventId: string | undefined
  #checkpointRetry: number | undefined
  #checkpointSince: number | undefined
  #checkpointTrailing: Trailing | undefined
  #checkpointCursor: CursorRequest | undefined
  /** Where the first answer's part starts, when the caller asked for a Range: progress counts from there. */
  #partStart = 0
  #acceptRanges = false
  #completeAfterResume = false
  /** While a reconnect is waited for: see `reconnecting()`. */
  #waiting: { cause: unknown; clause: string } | undefined
  /** Lines and records before the first byte, from a checkpoint. */
  #unitsBefore = { lines: 0, records: 0 }
  /** Whether the stream is past its end: a checkpoint's that was, or read here to its proven end. */
  #ended: boolean | undefined
  readonly #stopped = new AbortController()
  readonly #stopListeners = new Set<() => void>()
  /** cancel() was called after the end: what a consumer waits on besides reading stops too (see `onStop`). */
  #stopAsked = false
  readonly #maxBytes: number

  constructor(init: SourceInit) {
    this.#init = init
    this.#maxBytes = init.maxBytes
    const { response } = init
    // A checkpoint taken after the last unit resumes into a 416 that proves the body complete: nothing is left
    // to read, and that answer's own body (null, or an error page) is not the stream's.
    const complete = init.resumed?.acceptance.kind === 'complete'
    // A 204, 205 or 304, or the answer to a HEAD, has no content (RFC 9110 §6.4.1): an empty body, complete as
    // it is. Its headers may describe the body a GET would get (a Content-Length, an end marker's announcement),
    // not this one, so they prove nothing here. (A resume's answer was judged by its strategy.)
    const noContent =
      init.resumed === undefined && (isBodiless(response.status) || init.method.toUpperCase() === 'HEAD')
    if (response.bodyUsed) throw new TypeError('The response body was already read; pass a fresh Response.')
    this.#response = response
    if (complete || noContent) response.body?.cancel().catch(() => {})
    // Any other response without a body (`new Response(null)`, as some runtimes and mocks hand an empty one) is
    // an empty body, whose length and end marker are checked as any body's are.
    const body = complete || noContent || response.body === null ? EMPTY_BODY() : response.body
    this.owned = isByteStream(body)
    this.#reader = body.getReader()
    this.#connection = init.connection
    this.#request = init.request()
    this.#url = response.url || this.#request?.url || ''
    // A Last-Event-ID the caller sent (an id saved from an earlier stream) is the id in force until the stream
    // sends its own, as a checkpoint's is: a drop before then asks with it again, never from the start.
    const sentId = this.#request?.headers.get('last-event-id')
    this.#checkpointEventId = sentId ? idFromHeader(sentId) : undefined
    this.#where = this.#url || 'the response'
    this.#etag = response.headers.get('etag') ?? undefined
    this.#lastModified = response.headers.get('last-modified') ?? undefined
    // A date is a strong validator for a client 60 s or more before the answer's Date (RFC 9110 §8.8.2.2). Without
    // a Date (from another origin, CORS hides it unless exposed), or either not an HTTP-date (NaN): weak.
    this.#strongDate = httpDate(response.headers.get('date')) - httpDate(this.#lastModified) >= 60_000
    this.#length = init.resumed?.checkpoint.length ?? representationLength(response)
    // Ranges count bytes of the encoded body, which fetch decodes: a gzip body cannot be continued by Range.
    this.#encoding = encodingOf(response)
    this.#contentType =
      init.resumed?.checkpoint.contentType ?? mediaType(response.headers.get('content-type'))
    this.#markerAnnounced =
      init.resumed?.checkpoint.marker ?? response.headers.get(END_MARKER_HEADER) === 'marker'

    this.#acceptRanges = /\bbytes\b/i.test(response.headers.get('accept-ranges') ?? '')
    this.#marker = response.headers.get(END_MARKER_HEADER) === 'marker' ? new EndMarkerTrap() : undefined
    const resumed = init.resumed
    if (noContent) {
      this.#marker = undefined
      this.#markerAnnounced = false
      this.#length = undefined
      this.#declare({ end: 0, by: 'a response that has no content' })
    } else if (resumed === undefined) {
      this.#declare(declaredLength(response, init.total))
      // A first answer that is already partial (the caller sent its own Range) starts where it says.
      const range =
        response.status === 206 ? parseContentRange(response.headers.get('content-range')) : undefined
      if (range !== undefined) {
        // A part proves the server answers ranges, whether or not it announces `Accept-Ranges` (RFC 9110 §14.3).
        this.#acceptRanges = true
        this.#received = range.start
        this.#decoderBase = range.start
        this.#partStart = range.start
        // A part that stops short of the representation's end (or of an unknown one) was asked for bounded, or
        // (`bytes=S-`, `bytes=-N`) to the end: then it is all a server that caps its parts sends at once, and the
        // rest is asked for. Without the Range sent, bounded.
        if (range.end !== undefined && (range.total === undefined || range.end < range.total)) {
          if (!/=-|-$/.test(this.#request?.headers.get('range') ?? '')) this.#partEnd = range.end
          else if (init.total === undefined) {
            this.#declare(range.total === undefined ? undefined : { end: range.total, by: 'Content-Range' })
            if (range.total === undefined) this.#answerEnd = range.end
          }
        }
      }
    } else {
      const { checkpoint, acceptance, tries } = resumed
      // A checkpoint taken before the first unit (`last-event-id` without an id: ask again from the start) names
      // no way to continue: a later drop picks one from this answer and these options, as after a first request.
      const fromStart = checkpoint.strategy === 'last-event-id' && checkpoint.lastEventId === undefined
      if (!fromStart) this.#strategy = checkpoint.strategy
      this.#etag ??= checkpoint.etag
      this.#lastModified ??= checkpoint.lastModified
      this.#plain = !!checkpoint.plain
      // The first answer's, which the bytes before the checkpoint came from (absent from an older one: weak).
      this.#strongDate = checkpoint.strongDate
      if (checkpoint.strategy === 'range') this.#acceptRanges = true
      this.#attempts = tries
      // A checkpoint without an id (one taken before sluice kept the request's own) leaves the request's id in
      // force, as a first request does: a Last-Event-ID resume was asked with it.
      this.#checkpointEventId = checkpoint.lastEventId ?? this.#checkpointEventId
      this.#checkpointRetry = checkpoint.retry
      this.#checkpointSince = checkpoint.since
      this.#checkpointTrailing = checkpoint.trailing
      this.#checkpointCursor = checkpoint.cursor
      this.#unitsBefore = { lines: checkpoint.lines ?? 0, records: checkpoint.records ?? 0 }
      this.#ended = checkpoint.ended
      this.#partEnd = checkpoint.partEnd
      this.offset = checkpoint.loaded
      // The end the stream had: an answer that declares none (an open part, `bytes N-*/*`) must still reach it. Not
      // from another origin, where it may be a Content-Length that counted a coding CORS hid (declared-length.ts),
      // unless a Range answer gave it.
      this.#declare(
        init.total !== undefined
          ? { end: init.total, by: 'the `total` option' }
          : checkpoint.length === undefined || hidesCoding(response, checkpoint)
            ? undefined
            : { end: checkpoint.length, by: 'the checkpoint (the length first declared)' },
      )
      // The checkpoint's total (set with its counts) holds, unless a restart answer declares its length (#adopt).
      this.#adopt(acceptance, checkpoint.offset, true)
    }
    // Progress counts what this stream delivers: of an answer to the caller's own Range, the part's length.
    if (init.progress.total === undefined && this.#end !== undefined)
      init.progress.total = this.#end - this.#partStart
    // The user's signal must stop a body that no fetch of ours reads (fromResponse, an injected fetch that
    // ignores signals): cancel the reader, and let the pending or next read reject with the reason.
    const { signal } = init
    if (signal !== undefined) {
      this.#onAbort = () => {
        // Items already decoded from the current chunk must not be delivered after an abort either.
        this.abortReason = signal.reason
        this.cancelled = true
        this.#reader.cancel(signal.reason).catch(() => {})
        // A reconnect's signal is the caller's to follow too (fromResponse's `request`): it ends with the stream.
        this.#connection.abort(signal.reason)
        // A reconnect's wait stops too (see #recover).
        this.#stopped.abort(signal.reason)
        this.#tellStopped()
        // Over, even if nothing reads it again: the total timeout's timer and the links to the user's signals go.
        init.onSettled?.()
        // And its progress ends, also for a response nobody reads: the user's abort is a cancellation, sluice's
        // total timeout (delivered through the same signal) an error.
        init.progress.end(isSluiceError(signal.reason) ? 'error' : 'cancelled')
      }
      // Aborted already (fromResponse() given an aborted signal): cancelled at once, as a later abort cancels.
      if (signal.aborted) this.#onAbort()
      else signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    // Nothing is left to bound: the total timeout's timer stops now, not once a consumer reads the nothing (a
    // caller that only wanted the status may never read it).
    if (noContent) init.onSettled?.()
  }

  attach(hooks: ConsumerHooks): void {
    // The first consumer's (a tee's, whose branches' hooks come and go for their checkpoints, tells none).
    if (this.#hooks === undefined) this.#replaying = skipsReplay(hooks)
    this.#hooks = hooks
  }

  onStop(listener: () => void): () => void {
    // Read to its end, the body no longer watches the user's signal (#disarm): a consumer still waiting does,
    // from now on, as the body may end while it waits (a tee() branch's, read to its end by the other).
    const signal = this.#init.signal
    const letGo = (signal && this.#init.hold?.()) || (() => {})
    const onAbort = (): void => {
      letGo()
      this.abortReason ??= signal?.reason
      listener()
    }
    if (this.cancelled || this.#stopAsked || signal?.aborted) {
      if (signal?.aborted) onAbort()
      else {
        letGo()
        listener()
      }
      return () => {}
    }
    this.#stopListeners.add(listener)
    signal?.addEventListener('abort', onAbort, { once: true })
    return () => {
      letGo()
      this.#stopListeners.delete(listener)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  #tellStopped(): void {
    for (const listener of [...this.#stopListeners]) listener()
    this.#stopListeners.clear()
  }

  origin(): SourceOrigin {
    return {
      offset: this.#decoderBase,
      ...this.#unitsBefore,
      lastEventId: this.#checkpointEventId,
      retry: this.#checkpointRetry,
      since: this.#checkpointSince,
      trailing: this.#checkpointTrailing,
      replay: this.#strategy === 'last-event-id',
    }
  }

  /**
   * The hot path: with no idle timer, end marker, bytes to skip or replay to settle, one `reader.read().then()` per
   * chunk and nothing else; everything unusual (the end, an error, an abort, a timeout) continues on the full path.
   */
  read(): Promise<Uint8Array | undefined> {
    const fast = this.fastRead()
    return fast === undefined ? this.#read() : fast.then(this.#fastResult, this.#fastError)
  }

  /**
   * For a consumer that handles the read result itself (bytes()): the reader's own promise when nothing needs
   * the full path, else `undefined` (call `read()`). Its result goes through `acceptFast`, its failure through
   * `recoverFast`.
   */
  fastRead(): Promise<ReadableStreamReadResult<Uint8Array>> | undefined {
    if (
      this.#finished ||
      this.#completeAfterResume ||
      this.#init.idleTimeout !== undefined ||
      this.#marker !== undefined ||
      this.#rest !== undefined ||
      this.#replaying ||
      this.#skipUntil > this.#received
    ) {
      return undefined
    }
    return this.#reader.read()
  }

  /** The chunk of a fast read, counted; or, when the result needs the full path, the promise of the next chunk. */
  acceptFast(result: ReadableStreamReadResult<Uint8Array>): Uint8Array | Promise<Uint8Array | undefined> {
    return this.#fastResult(result)
  }

  /** After a fast read failed: recover (resume), then the next chunk. */
  recoverFast(error: unknown): Promise<Uint8Array | undefined> {
    return this.#fastError(error)
  }

  readonly #fastResult = (
    result: ReadableStreamReadResult<Uint8Array>,
  ): Uint8Array | Promise<Uint8Array | undefined> => {
    // An abort (the user's, or the total timeout's through the same signal) sets `cancelled`: one check.
    if (result.done || this.cancelled) {
      return this.#settleRead(result).then((chunk) => (chunk === CONTINUE ? this.#read() : chunk))
    }
    const chunk = result.value
    this.#received += chunk.length
    if (this.#received > (this.#end ?? Number.POSITIVE_INFINITY)) throw this.#overrun()
    // A promise, not the chunk: the reader's result, which bytes() hands on, holds all of it.
    if (this.offset + chunk.length > this.#maxBytes) return Promise.resolve(this.#cut(chunk))
    this.#count(chunk)
    return chunk
  }

  readonly #fastError = async (error: unknown): Promise<Uint8Array | undefined> => {
    await this.#recover(this.#classify(error))
    return this.#read()
  }

  async #read(): Promise<Uint8Array | undefined> {
    const rest = this.#rest
    this.#rest = undefined
    if (rest !== undefined && !this.cancelled && !this.#finished) {
      // Settled first: the replay's bytes, once known, leave room under `maxBytes`.
      if (this.#replaying) this.#tally(0)
      if (this.offset + rest.length > this.#maxBytes) return this.#cut(rest)
      this.#count(rest)
      return rest
    }
    for (;;) {
      if (this.#finished) {
        if (this.#overLimit !== undefined) throw this.#overLimit
        return undefined
      }
      if (this.#completeAfterResume) return this.#finish()
      const idle = this.#init.idleTimeout
      if (idle !== undefined) this.#arm(idle)
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await this.#reader.read()
      } catch (error) {
        this.#waitingSince = undefined
        await this.#recover(this.#classify(error))
        continue
      }
      this.#waitingSince = undefined
      const chunk = await this.#settleRead(result)
      if (chunk !== CONTINUE) return chunk
    }
  }

  /** What one read result means: a chunk to deliver, the end, or CONTINUE (read again, after a resume). */
  async #settleRead(
    result: ReadableStreamReadResult<Uint8Array>,
  ): Promise<Uint8Array | undefined | typeof CONTINUE> {
    const signal = this.#init.signal
    if (signal?.aborted && !this.#finished) throw this.#fail(signal.reason)
    const expired = this.#init.expired()
    if (expired) throw this.#fail(expired)
    if (this.#idleFired) {
      await this.#recover(this.#idleFired)
      return CONTINUE
    }
    if (result.done) {
      if (this.#finished) return undefined
      const drop = this.#shortfall()
      if (drop !== undefined) {
        // A part that ended where its Content-Range says, short of the body's end, was not cut: a server that caps
        // its parts sent it whole, and the next is asked for at once, as no reconnect.
        const { status, headers } = this.#response
        const part = status === 206 && parseContentRange(headers.get('content-range'))?.end === this.#received
        await this.#recover(drop, part)
        return CONTINUE
      }
      return this.#finish()
    }
    let chunk = result.value
    const before = this.#received
    this.#received = before + chunk.length
    // With an end marker the marker proves the end, and a server serves it past the length it declares.
    if (this.#marker === undefined && this.#received > (this.#end ?? Number.POSITIVE_INFINITY))
      throw this.#overrun()
    if (this.#skipUntil > before) {
      if (this.#received <= this.#skipUntil) return CONTINUE
      chunk = chunk.subarray(this.#skipUntil - before)
    }
    if (this.#marker !== undefined) {
      chunk = this.#marker.push(chunk)
      if (chunk.length === 0) return CONTINUE
    }
    // Settled first: what the consumer decoded since may end the replay, and count what followed it.
    if (this.#replaying) this.#tally(0)
    if (this.offset + chunk.length > this.#maxBytes) return this.#cut(chunk)
    this.#count(chunk)
    return chunk
  }

  async cancel(reason?: unknown): Promise<void> {
    if (this.#finished) {
      // Read to its end, but a consumer may still wait on something else (a schema validating the document).
      this.#stopAsked = true
      this.#tellStopped()
      return
    }
    this.#finished = true
    this.cancelled = true
    this.#disarm()
    // A reconnect in progress (its backoff, its request) stops too: cancel() and detach() are immediate.
    this.#stopped.abort(reason)
    this.#tellStopped()
    const cancelled = this.#reader.cancel(reason).catch(() => {})
    // Then the request's signal, once the body was cancelled: sluice let go of the user's signal (#disarm).
    this.#connection.abort(reason)
    await cancelled
  }

  /**
   * Where the stream stands, at the last unit boundary the consumer delivered; throws a `ResumeError` when
   * the stream offers no way to resume.
   */
  checkpoint(): Checkpoint {
    const state = this.#state()
    const strategy = this.#strategy ?? this.#pick(state)
    const refusal = this.#refusal(strategy, state)
    if (refusal !== undefined) {
      throw new ResumeError(
        'unsupported',
        `This stream cannot be checkpointed: ${refusal}.`,
        this.#attempts - this.#unsent,
      )
    }
    const url = this.#response.url || this.#url
    if (url === '') {
      throw new ResumeError(
        'unsupported',
        'This stream cannot be checkpointed: its response has no URL, which a checkpoint names; pass `{ url }` to fromResponse().',
        this.#attempts - this.#unsent,
      )
    }
    const committed = this.#hooks?.committed(this.#sinceDecoder) ?? this.#sinceDecoder
    const partial = this.#sinceDecoder - committed
    // First: a replay the consumer has skipped since counts what was read after it.
    const counted = this.#countedAfter(committed)
    const fields: Omit<Checkpoint, 'check' | 'version'> = {
      url,
      method: this.#init.method,
      strategy,
      offset: this.#decoderBase + committed,
      // After a restart, the partial unit counted before the drop and not yet sent again is not delivered either.
      loaded: this.#init.progress.loaded - this.#uncounted - counted,
      items: this.#init.progress.items,
      // The requests sent: the one that continues from the checkpoint stands for a reconnect still in its backoff.
      attempt: this.#init.progress.attempt - this.#unsent,
    }
    if (this.#etag !== undefined) fields.etag = this.#etag
    if (this.#lastModified !== undefined) fields.lastModified = this.#lastModified
    if (this.#strongDate) fields.strongDate = true
    if (this.#length !== undefined) fields.length = this.#length
    if (this.#plain) fields.plain = true
    if (this.#contentType !== undefined) fields.contentType = this.#contentType
    if (this.#markerAnnounced) fields.marker = true
    if (this.#partEnd !== undefined) fields.partEnd = this.#partEnd
    if (state.lastEventId !== undefined) {
      fields.lastEventId = state.lastEventId
      // The events after it that a Last-Event-ID answer replays, which the stream continued from here skips.
      const since = this.#hooks?.since ? this.#hooks.since() : this.#checkpointSince
      if (since) fields.since = since
      const trailing = this.#hooks?.trailing ? this.#hooks.trailing() : this.#checkpointTrailing
      if (trailing) fields.trailing = trailing
    }
    // At the end, proven or the terminal event consumed, a stream continued from here has nothing more to send.
    if ((this.#ended && !partial) || this.#hooks?.ended?.()) fields.ended = true
    const retry = this.#hooks?.retryAt?.()
    // Not a `retry:` past the largest number (about 1.8e308), parsed as Infinity, which JSON writes as null: the
    // checkpoint would be refused as damaged (a wait that long has no meaning beyond "wait for ever" anyway).
    if (Number.isFinite(retry)) fields.retry = retry!
    if (strategy === 'cursor') {
      const cursor = this.#init.resume?.cursor
      if (state.lastItem !== undefined && cursor !== undefined)
        fields.cursor = this.#cursorOf(cursor, state.lastItem.value)
      else if (state.cursor !== undefined) fields.cursor = state.cursor
    }
    const units = this.#hooks?.units?.()
    if (units !== undefined) {
      fields.lines = this.#unitsBefore.lines + units.lines
      fields.records = this.#unitsBefore.records + units.records
    }
    const total = this.#init.progress.total
    if (total !== undefined) fields.total = total
    return sealCheckpoint(fields)
  }

  /**
   * Why `strategy` cannot continue this stream, if it cannot: Range counts encoded bytes of an encoded body,
   * and Last-Event-ID without an id would start over, repeating what was delivered.
   */
  #refusal(strategy: ResumeStrategy, state: ResumeState): string | undefined {
    if (strategy === 'range' && this.#encoding !== undefined) {
      return `its body is content-encoded (${this.#encoding}), and byte ranges count encoded bytes, not the decoded ones read here; serve it without Content-Encoding, or resume with last-event-id or a cursor`
    }
    if (strategy === 'last-event-id' && state.delivered && state.lastEventId === undefined) {
      return this.#hooks?.lastEventId === undefined
        ? 'this consumer reads no events, so no SSE event id is known where it stands; read it with events()'
        : 'no SSE event id is in force (none came, or an empty `id:` reset it), so Last-Event-ID cannot say where to continue, and starting over would repeat it'
    }
    // text() and bytes() hand out no items (nor do two tee() branches that read different kinds): a cursor has
    // nothing to continue after, and starting over repeats.
    if (
      strategy === 'cursor' &&
      state.delivered &&
      state.lastItem === undefined &&
      state.cursor === undefined
    ) {
      return 'this consumer delivers no items (text or bytes), or tee() branches read different kinds of item, so a cursor cannot say where to continue, and starting over would repeat them; read it with ndjson(), lines() or events(), the same on both branches'
    }
    return undefined
  }

  #pick(state: ResumeState): ResumeStrategy {
    const resume = this.#init.resume ?? resolveAuto()
    const pick = pickStrategy(resume, state)
    // Before the first unit, asking again from the start is the resume, as a reconnect would (a page hidden
    // before an SSE stream's first id, say) — not for a method that may not be idempotent, as in #recover.
    if ('none' in pick && !state.delivered && this.#idempotent()) return 'last-event-id'
    if ('none' in pick) {
      const again = state.delivered ? '' : this.#notAgain()
      throw new ResumeError(
        'unsupported',
        `This stream cannot be checkpointed: ${pick.none}${again}.`,
        this.#attempts - this.#unsent,
      )
    }
    return pick.strategy
  }

  /** Whether the request may be sent again from the start (RFC 9110 §9.2.2): a POST may not. */
  #idempotent(): boolean {
    return IDEMPOTENT.has(this.#init.method.toUpperCase())
  }

  #notAgain(): string {
    return `; a ${this.#init.method.toUpperCase()} is not sent again from the start, as it may not be idempotent`
  }

  /**
   * A chunk that crosses `maxBytes`: the connection is released, the bytes within the limit are delivered (the
   * units in them too), and the next read throws the LimitError. Not a drop: never resumed.
   */
  #cut(chunk: Uint8Array): Uint8Array {
    const within = Math.floor(this.#maxBytes - this.offset)
    // While the consumer skips a replay, the bytes it skips do not count: the rest waits until it has decoded these.
    if (this.#replaying && within > 0) {
      this.#rest = chunk.subarray(within)
      const part = chunk.subarray(0, within)
      this.#count(part)
      return part
    }
    // Where the cut lands in the body, as a consumer's positions count (a ParseError's offset).
    const error = new LimitError('maxBytes', this.#maxBytes, `The body of ${this.#where}`, this.#context(), {
      offset: this.#decoderBase + this.#sinceDecoder + Math.max(0, within),
    })
    this.#fail(error)
    if (within <= 0) throw error
    this.#overLimit = error
    const part = chunk.subarray(0, within)
    this.#count(part)
    return part
  }

  /** Counts delivered bytes; the caller checked `maxBytes` (one comparison on the hot path). */
  #count(chunk: Uint8Array): void {
    const n = chunk.length
    this.#sinceDecoder += n
    if (this.#uncounted !== 0 || this.#replaying) this.#tally(n)
    else {
      this.offset += n
      this.#init.progress.bytes(n)
    }
  }

  /**
   * Bytes read since the decoder started, after `committed`, that were counted: not those of a replay the consumer
   * skipped (nor skips yet), which never were.
   */
  #countedAfter(committed: number): number {
    if (this.#replaying) this.#tally(0)
    // A tee branch behind a restart stands before this answer (`committed` below 0): the bytes up to it count too.
    const replay = this.#replaying ? this.#sinceDecoder : this.#replayed
    return this.#sinceDecoder - Math.max(committed, replay) - Math.min(0, committed)
  }

  /** Counts `n` new bytes of a restarted stream, but those that replay what was counted before. */
  #tally(n: number): void {
    if (this.#replaying) {
      const replayed = this.#hooks?.replayed?.()
      if (replayed === undefined) return
      // The replay is over: what was read after it is new, but for the partial unit counted before the drop.
      this.#replaying = false
      this.#replayed = replayed
      n = this.#sinceDecoder - replayed
    }
    // Delivered again (`offset`, which `maxBytes` bounds), but counted once.
    this.offset += n
    // A restarted stream replays the partial unit that was counted before the drop: count it once.
    const skip = Math.min(this.#uncounted, Math.max(0, n))
    this.#uncounted -= skip
    if (skip < n) this.#init.progress.bytes(n - skip)
  }

  /** Why the body that just ended is not complete, or `undefined` when it is (as far as anyone can tell). */
  #shortfall(): TruncatedError | undefined {
    if (this.#skipUntil > this.#received) {
      return new TruncatedError(
        `The full answer from ${this.#where} ended after ${this.#received} bytes, before the ${this.#skipUntil} already delivered that \`skipOnRestart\` skips; it was cut, or is another version of the body.`,
        this.#received,
        this.#end,
        this.#context(),
      )
    }
    const marker = this.#marker
    const held = marker?.held ?? 0
    if (marker !== undefined && !marker.check(this.#received - held)) {
      return new TruncatedError(
        `The body of ${this.#where} ended after ${this.#received} bytes without the end marker its server announced (${END_MARKER_HEADER}); the stream was cut.`,
        this.#received,
        this.#end,
        this.#context(),
      )
    }
    const answerEnd = this.#answerEnd
    if (marker === undefined && answerEnd !== undefined && this.#end === undefined) {
      return new TruncatedError(
        `The part of ${this.#where} that ended after byte ${answerEnd - 1} did not say the body's length (Content-Range …/*), so more may follow; the stream was cut there.`,
        this.#received,
        undefined,
        this.#context(),
      )
    }
    const end = this.#end
    if (end !== undefined && this.#received < end) {
      return new TruncatedError(
        `The body of ${this.#where} ended after ${this.#received} of ${end} bytes; the stream was cut.`,
        this.#received,
        end,
        this.#context(),
      )
    }
    // Nothing proves the end: a body that ends inside an event or a record was cut there (a server ends its last),
    // or before the terminal event events({ until }) names. Not past the stream's end (continued from a checkpoint
    // there), which needs no proof: nothing more was to come.
    const cut =
      marker || end !== undefined || this.#partEnd !== undefined || this.#ended
        ? undefined
        : this.#hooks?.cut?.()
    return cut === undefined
      ? undefined
      : new TruncatedError(
          `The body of ${this.#where} ended after ${this.#received} bytes inside ${cut}; the stream was cut.`,
          this.#received,
          undefined,
          this.#context(),
        )
  }

  /**
   * The body ran past its declared length: the length is wrong, or the body is not the one declared, so no end
   * of it can be proven. Not a drop: asked for again, it would run past again.
   */
  #overrun(): unknown {
    const end = this.#end!
    return this.#fail(
      new TruncatedError(
        `The body of ${this.#where} ran past its declared length: ${this.#received} bytes arrived where ${this.#endBy} declared ${end}; the length is wrong or the body is not the one declared, so its end cannot be proven. Delivery stopped before the chunk that crossed it.`,
        this.#received,
        end,
        this.#context(),
      ),
    )
  }

  /** The user's cursor for `item`, for a checkpoint: what it throws is a `ResumeError` that says so. */
  #cursorOf(cursor: (item: unknown) => CursorRequest, item: unknown): CursorRequest {
    try {
      return cursor(item)
    } catch (error) {
      // What the cursor returned, if not a request's additions, is already a ResumeError that says so.
      throw error instanceof ResumeError ? error : this.#cursorThrew(error, 'no checkpoint can be taken')
    }
  }

  /**
   * Whether a reconnect failed for the network, and may be asked again. The caller's own `reconnect`
   * (fromResponse's `request`) fetches without ky, which recognises a runtime's network failure by its words
   * (Chromium's `TypeError: Failed to fetch` has nothing else): a TypeError from it is taken for one, as fetch
   * rejects with a TypeError when the network fails.
   */
  #isNetworkFailure(error: unknown): boolean {
    return isNetworkFailure(error) || (this.#init.rawReconnect === true && error instanceof TypeError)
  }

  /**
   * A reconnect that failed for something else than the network (a bug of a `fetch` option or a hook, a header
   * value `Headers` refuses): it would fail the same way again, so the stream ends with it as the cause.
   */
  #notNetwork(drop: Error, error: unknown): ResumeError {
    const name = (error as { name?: unknown } | null | undefined)?.name
    const reason = typeof name === 'string' && name !== '' ? `${name}: ${reasonOf(error)}` : reasonOf(error)
    return new ResumeError(
      'not-resumable',
      `${clauseOf(drop)}; reconnecting${this.#to()} failed, not for a network error (${reason}), so it was not tried again: fix what threw it (a \`fetch\` option, a hook, a header value; see \`cause\`).`,
      this.#attempts,
      { request: this.#init.request() ?? this.#request, response: this.#response, cause: error },
    )
  }

  #cursorThrew(error: unknown, consequence: string): ResumeError {
    return new ResumeError(
      'not-resumable',
      `\`resume.cursor\` threw (${error instanceof Error ? error.message : String(error)}); ${consequence}.`,
      this.#attempts - this.#unsent,
      { ...this.#context(), cause: error },
    )
  }

  #declare(declared: DeclaredLength | undefined): void {
    this.#end = declared?.end
    this.#endBy = declared?.by ?? ''
  }

  #declared(): DeclaredLength | undefined {
    return this.#end === undefined ? undefined : { end: this.#end, by: this.#endBy }
  }

  #finish(): Uint8Array | undefined {
    this.#ended ||= this.#provenEnd()
    let rest: Uint8Array | undefined
    if (this.#marker !== undefined) {
      const held = this.#marker.held
      // Unproven only after a 416 that says everything was received: the held bytes are then plain body bytes.
      const { rest: bytes } = this.#marker.end(this.#received - held)
      if (bytes.length > 0) rest = bytes
    }
    if (rest !== undefined) {
      if (this.offset + rest.length > this.#maxBytes) return this.#cut(rest)
      this.#count(rest)
    }
    // The consumer has decoded all it read: a replay it skipped is over, or took the whole answer. (A blank line the
    // answer did not send again counts too.)
    if (this.#replaying || this.#uncounted < 0) this.#tally(0)
    this.#replaying = false
    // At the proven end, what was delivered is the body: a total that said otherwise (a length that counted the
    // end marker's line, bytes a restart never needed again) gives way, so `done` reads 100 % of `loaded`.
    const { progress } = this.#init
    if (progress.total !== undefined) progress.total = progress.loaded
    this.#finished = true
    this.#disarm()
    return rest
  }

  /**
   * A drop happened: reconnect with the resume strategy, or throw why not. `next`: the answer was a whole part,
   * and the rest is asked for without a wait, as no reconnect (a failure to get it is one).
   */
  async #recover(drop: unknown, next = false): Promise<void> {
    this.#idleFired = undefined
    this.#reader.cancel().catch(() => {})
    if (!isDrop(drop)) throw this.#fail(drop)
    // A drop after the last byte that proves the end (of the declared length, the end marker, a part the caller
    // asked for): nothing is missing, so nothing is asked again — a reconnect would be a new invocation, which
    // for a Range regenerates the whole body only to answer 416.
    if (this.#provenEnd()) {
      this.#completeAfterResume = true
      return
    }
    const { resume, reconnect } = this.#init
    if (resume === undefined || reconnect === undefined) {
      const why =
        reconnect === undefined
          ? 'pass `request` to fromResponse() to make it resumable'
          : 'enable `resume` to continue such streams'
      throw this.#fail(withAdvice(drop, why))
    }
    const state = this.#state()
    let strategy = this.#strategy
    let fresh = false
    if (strategy === undefined) {
      const pick = pickStrategy(resume, state)
      // Before the first unit, asking again from the start is a resume whatever the server offers (an SSE
      // stream cut before its first id, say); the strategy stays open for later drops. Not for a method that
      // may not be idempotent: a POST sent again to a server that offers no resume is a second invocation.
      const restartable = this.#hooks?.restart !== undefined || this.#sinceDecoder === 0
      const idempotent = this.#idempotent()
      fresh = 'none' in pick && !state.delivered && restartable && idempotent
      if (fresh) strategy = 'last-event-id'
      else if ('none' in pick) {
        // Nothing to resume with: the drop is reported as what it is (a cut body stays a TruncatedError),
        // and the message says why it was not resumed.
        const again = !state.delivered && restartable && !idempotent ? this.#notAgain() : ''
        throw this.#fail(withAdvice(drop, `it cannot be resumed: ${pick.none}${again}`))
      } else strategy = pick.strategy
    }
    if (strategy !== 'range' && this.#hooks?.restart === undefined && this.#sinceDecoder > 0) {
      throw this.#fail(
        new ResumeError(
          'not-resumable',
          `${drop.message.replace(/\.$/, '')}; the ${strategy} strategy restarts at a record boundary, which this consumer cannot do (use a range-capable server).`,
          this.#attempts,
          { ...this.#context(), cause: drop },
        ),
      )
    }
    if (!fresh) this.#strategy = strategy
    const refusal = this.#refusal(strategy, state)
    if (refusal !== undefined) throw this.#fail(withAdvice(drop, `it cannot be resumed: ${refusal}`))
    // The user's cursor runs here, once: its failure is not the network's, and asking again will not help.
    let extra: CursorRequest
    try {
      extra = resumeRequest(strategy, state, resume)
    } catch (error) {
      throw this.#fail(
        error instanceof ResumeError
          ? new ResumeError(error.reason, error.message, this.#attempts, { ...this.#context(), cause: drop })
          : isSluiceError(error)
            ? error
            : this.#cursorThrew(error, 'the stream cannot be continued'),
      )
    }
    const { progress } = this.#init
    // How a reconnect failed; after an answer from another origin, a Range may meet a coding CORS hid (until a
    // Range answer gave the plain length).
    const hidden = hidesCoding(this.#response, state)
    const failed = (error: unknown): string => resumeFailed(error, extra.headers, hidden, sent()?.url)
    // The Request of the reconnect just made, for the errors about its answer.
    const sent = (): Request | undefined => this.#init.request() ?? this.#request
    let last: unknown = drop
    // What made the reconnect needed, as a total timeout that ends the wait for it says.
    let after = 'a drop'
    let wait: number | undefined
    // A connection that moved the stream on — the request to continue is not the one that made it: new bytes
    // under `range`, a new last item or event id else — and stayed up a while was healthy: the count and the
    // backoff start over (see README, "Resume"). Not a server that fails; nor one that ignores the position and
    // replays, whose items look new, when it drops fast or where it dropped before. (The first drop has spent none.)
    const key = JSON.stringify(extra)
    if (key !== this.#key && performance.now() - this.#since >= Math.max(resume.backoff.max, 30_000))
      this.#spent = 0
    this.#key = key
    for (;;) {
      const isReconnect = !next
      if (!next) {
        if (this.#spent >= resume.attempts)
          throw this.#fail(gaveUp(this.#attempts, 'reconnect', this.#to(), last, this.#context()))
        this.#spent++
        this.#attempts++
        this.#unsent = 1
        // One more on the count it took over (a checkpoint's, and the requests that continued from it).
        progress.attempt++
        // Reported with the attempt it is about to make (a listener sees "reconnecting, attempt 2").
        progress.setState('reconnecting')
      }
      const serverRetry = strategy === 'last-event-id' ? this.#hooks?.retryMs?.() : undefined
      // The server's `retry:` is the wait after a connection that streamed healthily; after a reconnect that failed,
      // or a connection that did not stay up, the backoff grows past it, as WHATWG lets a client: a `retry: 0` must
      // not turn the reconnects to a failing server into a flood.
      const retry =
        serverRetry !== undefined && this.#spent > 1
          ? Math.max(serverRetry, backoffDelay(resume, this.#spent))
          : serverRetry
      const delay = next ? 0 : (wait ?? retry ?? backoffDelay(resume, this.#spent))
      const asked = wait === undefined ? '' : ' (Retry-After)'
      this.#waiting = { cause: last, clause: `waiting ${delay} ms${asked} to reconnect after ${after}` }
      wait = undefined
      next = false
      // A stop, or the user's abort (#onAbort): not AbortSignal.any() of the user's signal, kept by Node 22 with it.
      const wait$ = this.#stopped.signal
      try {
        await sleep(delay, wait$)
      } catch (reason) {
        if (this.cancelled && this.#init.signal?.aborted !== true) return
        throw this.#fail(reason)
      }
      const expired = this.#init.expired()
      if (expired) throw this.#fail(expired)
      const connection = new AbortController()
      let response: Response
      this.#unsent = 0
      this.#waiting = { cause: last, clause: `reconnecting after ${after}` }
      try {
        response = await this.#connect(reconnect, extra, connection)
      } catch (error) {
        if (this.#init.signal?.aborted) throw this.#fail(this.#init.signal.reason)
        if (this.cancelled) return
        const expiredNow = this.#init.expired()
        if (expiredNow) throw this.#fail(expiredNow)
        // A reconnect that cannot be made (a request body that cannot be sent again) will not be made later; the
        // refusal keeps the drop that started it, as every refusal does.
        if (error instanceof ResumeError)
          throw this.#fail(
            new ResumeError(error.reason, error.message, error.attempts, { request: sent(), cause: drop }),
          )
        if (isSluiceError(error) && !isDrop(error)) throw this.#fail(error)
        if (!isSluiceError(error) && !this.#isNetworkFailure(error))
          throw this.#fail(this.#notNetwork(drop, error))
        after = 'a failed reconnect'
        last = isSluiceError(error)
          ? error
          : new NetworkError(`Reconnecting${this.#to()}${failed(error)}`, this.offset, {
              request: sent(),
              cause: error,
            })
        continue
      }
      const unusable = unusableAnswer(response)
      if (unusable !== undefined) {
        if (this.cancelled) return
        // fromResponse's `request` (ky checks nothing else): a bug of the caller's, which asking again repeats.
        throw this.#fail(
          new ResumeError(
            'not-resumable',
            `${clauseOf(drop)}; the reconnect${this.#to()} resolved to ${unusable}, not a fresh Response, so it was not tried again: \`request\` must resolve to a new fetch() of the resource.`,
            this.#attempts,
            { request: sent(), response: this.#response, cause: drop },
          ),
        )
      }
      if (this.cancelled) {
        response.body?.cancel().catch(() => {})
        return
      }
      let acceptance: Acceptance
      try {
        acceptance = acceptResume(strategy, response, state, resume, this.#attempts, drop, sent())
      } catch (refusal) {
        // An error page says why (a function that failed, timed out): its excerpt goes into the message. It is
        // read as the wait before a reconnect is waited: a stop or the user's abort ends it, and wins.
        const excerpt = await pageExcerpt(response, wait$)
        response.body?.cancel().catch(() => {})
        if (this.#init.signal?.aborted) throw this.#fail(this.#init.signal.reason)
        if (this.cancelled) return
        const expiredNow = this.#init.expired()
        if (expiredNow) throw this.#fail(expiredNow)
        if (isRetryableStatus(response.status)) {
          wait = retryAfter(response.headers)
          last = busyAnswer(`Reconnecting${this.#to()}`, response, excerpt, this.offset, sent())
          after = `a ${response.status} answer`
          continue
        }
        throw this.#fail(refusal instanceof ResumeError ? withSaid(refusal, excerpt) : refusal)
      }
      if (response.body === null && acceptance.kind !== 'complete') {
        throw this.#fail(
          new ResumeError(
            'not-resumable',
            `The server answered the resume request${this.#to()} with status ${response.status} and no body; the stream cannot be continued.`,
            this.#attempts,
            { request: sent(), response, cause: drop, answered: true },
          ),
        )
      }
      this.#switchTo(response, connection, acceptance)
      // The rest of a whole part continues the same connection, as no reconnect does.
      if (isReconnect) this.#since = performance.now()
      if (acceptance.kind !== 'complete') this.#request = sent()
      progress.setState('streaming')
      this.#waiting = undefined
      return
    }
  }

  /**
   * Makes one reconnect on `connection`, which the user's signal and a stop (cancel, detach) abort with their
   * reason while it waits for the headers: the connection is released, and the wait ends then even when the
   * caller's own `request` (fromResponse) ignores its signal. An answer that comes after that is let go.
   */
  #connect(reconnect: Reconnect, extra: CursorRequest, connection: AbortController): Promise<Response> {
    const signals = [this.#stopped.signal, this.#init.signal].filter((signal) => signal !== undefined)
    const fired = signals.find((signal) => signal.aborted)
    if (fired !== undefined) {
      connection.abort(fired.reason)
      return Promise.reject(fired.reason)
    }
    let abort = (): void => {}
    const stopped = new Promise<never>((_, reject) => {
      abort = () => {
        const reason = signals.find((signal) => signal.aborted)?.reason
        connection.abort(reason)
        reject(reason)
      }
    })
    stopped.catch(() => {})
    for (const signal of signals) signal.addEventListener('abort', abort, { once: true })
    const answer = Promise.resolve().then(() => reconnect(extra, connection.signal))
    answer.then(
      (response) => {
        if (connection.signal.aborted) response?.body?.cancel?.(connection.signal.reason).catch(() => {})
      },
      () => {},
    )
    return Promise.race([answer, stopped]).finally(() => {
      for (const signal of signals) signal.removeEventListener('abort', abort)
    })
  }

  #switchTo(response: Response, connection: AbortController, acceptance: Acceptance): void {
    if (acceptance.kind === 'complete') {
      // Its body (null, or an error page) is not the stream's.
      response.body?.cancel().catch(() => {})
      this.#adopt(acceptance, this.#rangeOffset(), false)
      return
    }
    this.#response = response
    // A reconnect answered without a body was refused in #recover.
    this.owned = isByteStream(response.body!)
    this.#reader = response.body!.getReader()
    this.#connection = connection
    this.#adopt(acceptance, this.#rangeOffset(), false)
  }

  /** Takes over a resumed response: where its bytes start, where they end, and what the decoders must do. */
  #adopt(acceptance: Acceptance, offset: number, fromCheckpoint: boolean): void {
    const response = this.#response
    // The held bytes were not asked for again from where they are: they come again, or (a 416) never were body.
    this.#marker?.reset()
    this.#answerEnd = acceptance.kind === 'continue' ? acceptance.partEnd : undefined
    switch (acceptance.kind) {
      case 'continue': {
        this.#received = offset
        if (fromCheckpoint) this.#decoderBase = offset
        if (acceptance.end !== undefined) this.#declare({ end: acceptance.end, by: 'Content-Range' })
        // The answer's complete length is the body's: from another origin, it may replace one a coding counted.
        const length = representationLength(response)
        if (length !== undefined) {
          this.#length = length
          this.#plain = true
        }
        // A first answer without a length, continued by a 206 that gives one: now the total is known.
        if (this.#end !== undefined) this.#init.progress.total ??= this.#end - this.#partStart
        break
      }
      case 'skip':
        this.#received = 0
        this.#skipUntil = offset
        if (fromCheckpoint) this.#decoderBase = offset
        this.#declare(declaredLength(response, undefined) ?? this.#declared())
        break
      case 'restart': {
        // A Last-Event-ID answer resumes after the blank line of the last event, which the boundary may stand before
        // (its CR, maybe without the LF: see `SseDecoder.trailing`), and whose bytes count once, the LF too.
        // (A checkpoint's answer: where it stands, see `Checkpoint.trailing`.)
        const trailing =
          this.#strategy !== 'last-event-id'
            ? undefined
            : fromCheckpoint
              ? this.#checkpointTrailing
              : this.#hooks?.trailing?.()
        const committed =
          (this.#hooks?.committed(this.#sinceDecoder) ?? this.#sinceDecoder) -
          (typeof trailing === 'number' ? Math.min(0, trailing) : 0)
        // (Settled first: a replay the consumer has skipped since takes back what its end absorbs.)
        const counted = this.#countedAfter(committed)
        this.#uncounted += counted
        this.offset -= counted
        this.#replayed = 0
        this.#hooks?.restart?.()
        this.#replaying = skipsReplay(this.#hooks)
        this.#received = 0
        this.#decoderBase = 0
        this.#sinceDecoder = 0
        this.#skipUntil = 0
        this.#declare(declaredLength(response, undefined))
        this.#length = representationLength(response)
        this.#marker = response.headers.get(END_MARKER_HEADER) === 'marker' ? new EndMarkerTrap() : undefined
        // Its length is that of the rest, the partial unit sent again included: with what was committed before
        // it, the total of this stream now (a resource that grew since the first answer says so here).
        if (this.#end !== undefined && this.#init.total === undefined) {
          const { progress } = this.#init
          progress.total = progress.loaded - this.#uncounted + this.#end
        }
        break
      }
      case 'complete':
        this.#completeAfterResume = true
        // Continued from a checkpoint at the end: a checkpoint of this stream stands there too, not at 0.
        if (fromCheckpoint) this.#decoderBase = offset
        // A 416 that gives the length proves what was delivered is the whole body.
        if (acceptance.lengthKnown) this.#init.progress.total ??= this.#init.progress.loaded
        break
    }
  }

  /**
   * Whether every byte of the body arrived, as far as its proof goes: the end marker it announced, held whole; or
   * all of a declared length, or of a part the caller asked for. A part that does not say the body's length
   * (`bytes N-M/*`) proves nothing, nor does a full answer still skipped to where the stream was.
   */
  #provenEnd(): boolean {
    if (this.#partEnd !== undefined && this.#reached() >= this.#partEnd) return true
    if (this.#skipUntil > this.#received) return false
    const marker = this.#marker
    if (marker !== undefined) return marker.check(this.#received - marker.held)
    return this.#answerEnd === undefined && this.#end !== undefined && this.#received >= this.#end
  }

  /**
   * Where a resume asks the body to go on from: the offset reached, less the bytes the end-marker trap holds.
   * Those may be the start of the marker line, which a server serves after the body but does not count in its
   * length: asked for from inside the marker it would refuse (416), though every byte of the body arrived.
   */
  #rangeOffset(): number {
    return this.#reached() - (this.#marker?.held ?? 0)
  }

  /** The offset the stream has reached: while a full answer is skipped to where it was, that place. */
  #reached(): number {
    return Math.max(this.#received, this.#skipUntil)
  }

  #state(): ResumeState {
    const hooks = this.#hooks
    const committed = hooks?.committed(this.#sinceDecoder) ?? this.#sinceDecoder
    const partial = this.#countedAfter(committed)
    const lastItem = hooks?.lastItem?.()
    // The id in force persists across connections (WHATWG): a checkpoint's, until this consumer has its own.
    // (An events() consumer starts from the checkpoint's and tells its own.) A consumer that tells none (text(),
    // bytes()) stands at it only until it delivers something: past it, bytes may have set another id, and a
    // Last-Event-ID answer would repeat them.
    return this.#stateAt(
      hooks?.lastEventId
        ? hooks.lastEventId()
        : lastItem === undefined && committed === 0
          ? this.#checkpointEventId
          : undefined,
      lastItem,
      this.offset - partial > 0,
    )
  }

  #stateAt(
    lastEventId: string | undefined,
    lastItem: ResumeState['lastItem'],
    delivered: boolean,
  ): ResumeState {
    // A coding that CORS hides from a page shows once a whole cross-origin answer decoded more bytes than its
    // Content-Length counted on the wire: byte ranges, which count the latter, cannot continue it.
    const answer = this.#response
    if (
      answer.type === 'cors' &&
      answer.status === 200 &&
      this.#received > +(answer.headers.get('content-length') ?? NaN)
    )
      this.#encoding ??= 'hidden by CORS'
    return {
      received: this.#rangeOffset(),
      etag: this.#etag,
      lastModified: this.#lastModified,
      strongDate: this.#strongDate,
      length: this.#length,
      plain: this.#plain,
      acceptRanges: this.#acceptRanges,
      encoding: this.#encoding,
      contentType: this.#contentType,
      marker: this.#markerAnnounced,
      lastEventId,
      lastItem,
      cursor: this.#checkpointCursor,
      delivered,
      partEnd: this.#partEnd,
    }
  }

  /**
   * What the stream waits for while it reconnects, for a total timeout that fires then: the drop or failure that
   * made the reconnect needed, and a clause that says so.
   */
  reconnecting(): { cause: unknown; clause: string } | undefined {
    return this.#waiting
  }

  continues({ lastEventId, lastItem }: Place): boolean {
    const resume = this.#init.resume
    if (resume === undefined) return false
    const state = this.#stateAt(
      lastEventId ?? (lastItem === undefined ? this.#checkpointEventId : undefined),
      lastItem,
      true,
    )
    let strategy = this.#strategy
    if (strategy === undefined) {
      const pick = pickStrategy(resume, state)
      if ('none' in pick) return false
      strategy = pick.strategy
    }
    return this.#refusal(strategy, state) === undefined
  }

  #classify(error: unknown): unknown {
    if (this.#idleFired) return this.#idleFired
    const expired = this.#init.expired()
    if (expired) return expired
    const signal = this.#init.signal
    if (signal?.aborted) return signal.reason
    if (this.#finished) return error
    return new NetworkError(
      `The connection${this.#to()} dropped after ${this.offset} bytes of the body (${reasonOf(error)}).`,
      this.offset,
      { ...this.#context(), cause: error },
    )
  }

  #fail(error: unknown): unknown {
    this.#finished = true
    this.#disarm()
    this.#reader.cancel(error).catch(() => {})
    return error
  }

  /** " to <url>", or nothing when the body has no URL: "The connection dropped…" reads well without one. */
  #to(): string {
    return this.#url === '' ? '' : ` to ${this.#url}`
  }

  #context(): { request: Request | undefined; response: Response } {
    return { request: this.#request, response: this.#response }
  }

  context(): ErrorContext {
    return this.#context()
  }

  // One timer per silence, not per chunk: it re-arms itself for the time left while reads keep succeeding. On a
  // monotonic clock: the system clock set forward (NTP, a VM's sync) would fire it on a stream that flows.
  #arm(idle: number): void {
    this.#waitingSince = performance.now()
    if (this.#watchdog !== undefined) return
    const check = (): void => {
      this.#watchdog = undefined
      if (this.#finished) return
      const since = this.#waitingSince
      if (since === undefined) return
      const left = idle - (performance.now() - since)
      if (left > 0) {
        this.#watchdog = setTimeout(check, left)
        return
      }
      this.#idleFired = new TimeoutError('idle', idle, this.#where, this.#context())
      this.#connection.abort(this.#idleFired)
      this.#reader.cancel(this.#idleFired).catch(() => {})
    }
    this.#watchdog = setTimeout(check, idle)
  }

  #disarm(): void {
    this.#init.onSettled?.()
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog)
    this.#watchdog = undefined
    if (this.#onAbort !== undefined) this.#init.signal?.removeEventListener('abort', this.#onAbort)
    this.#onAbort = undefined
  }
}

/** Whether `hooks` are those of a consumer that is skipping a Last-Event-ID answer's replay (see `replayed`). */
const skipsReplay = (hooks: ConsumerHooks | undefined): boolean =>
  hooks?.replayed !== undefined && hooks.replayed() === undefined

/** Drops are what resume is for: the connection failed, went silent, or ended before its proven end. */
function isDrop(error: unknown): error is NetworkError | TimeoutError | TruncatedError {
  if (!isSluiceError(error)) return false
  if (error.name === 'NetworkError' || error.name === 'TruncatedError') return true
  return error.name === 'TimeoutError' && (error as TimeoutError).phase === 'idle'
}

/** The same error with a sentence on what to do appended. */
export function withAdvice<E extends Error>(error: E, advice: string): E {
  const message = `${error.message.replace(/\.$/, '')}; ${printable(advice)}.`
  Object.defineProperty(error, 'message', { value: message, configurable: true, writable: true })
  return error
}

/**
 * Gives up after `count` requests (`what`s) for the rest of the stream, the last failing with `last`: the
 * checkpoint stays good for a later try.
 */
export function gaveUp(
  count: number,
  what: string,
  to: string,
  last: unknown,
  context: ErrorContext,
): ResumeError {
  return new ResumeError(
    'attempts-exhausted',
    `Gave up after ${count} ${what}${count === 1 ? '' : 's'}${to}: ${last instanceof Error ? last.message : String(last)} Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    count,
    { ...context, cause: last },
  )
}

/** The failure of a request for the rest that `what` made, answered with a busy status (one that may pass). */
export function busyAnswer(
  what: string,
  response: Response,
  excerpt: string | undefined,
  offset: number,
  request: Request | undefined,
): NetworkError {
  return withExcerpt(
    new NetworkError(
      `${what} got status ${response.status}${excerpt === undefined ? '' : ` (${said(excerpt)})`}.`,
      offset,
      { request, response },
    ),
    excerpt,
  )
}

/**
 * `error` with the excerpt of the error page its request for the rest was answered with (see `pageExcerpt`) as
 * its `excerpt`; unchanged without one.
 */
function withExcerpt<E extends ResumeError | NetworkError>(error: E, excerpt: string | undefined): E {
  return excerpt === undefined ? error : Object.assign(error, { excerpt })
}

/** A refusal with what the server's error page said, if anything: its `excerpt`, and a clause of its message. */
export function withSaid(error: ResumeError, excerpt: string | undefined): ResumeError {
  return excerpt === undefined ? error : withExcerpt(withAdvice(error, said(excerpt)), excerpt)
}

function resolveAuto(): ResolvedResume {
  return {
    strategy: 'auto',
    attempts: 0,
    backoff: { initial: 0, max: 0, factor: 1, jitter: 0 },
    skipOnRestart: false,
    cursor: undefined,
  }
}
