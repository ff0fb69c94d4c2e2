import type { ChunkSource } from './body-source.ts'
import { collectJson } from './collect-json.ts'
import { concatBytes } from './concat-bytes.ts'
import { Consumer, type Consumer as ConsumerType, JsonConsumer } from './consumer.ts'
import { type BytesOptions, consumeBytes, iterateBytes } from './consumers/bytes.ts'
import { type ConsumeContext, inBody, type Limits, whole } from './consumers/context.ts'
import { checkEventsOptions, consumeEvents, type EventsOptions } from './consumers/events.ts'
import { checkJsonOptions, consumeJson, type JsonOptions, type JsonSnapshotInfo } from './consumers/json.ts'
import { consumeLines, type LinesOptions } from './consumers/lines.ts'
import { consumeNdjson, type NdjsonOptions } from './consumers/ndjson.ts'
import { checkOnInvalid } from './consumers/on-invalid.ts'
import { iterateText, type Replaced, type TextOptions } from './consumers/text.ts'
import type { DeepPartial } from './decoders/partial-json-types.ts'
import { Rechunker } from './decoders/rechunk.ts'
import type { ServerSentEvent } from './decoders/sse.ts'
import { ResumeError } from './errors/resume-error.ts'
import { known } from './options.ts'
import type { Progress, ProgressSink } from './progress.ts'
import type { Checkpoint } from './resume/checkpoint.ts'
import { checkSchema, type StandardSchemaV1 } from './schema.ts'
import { teeProgress, teeSource } from './tee.ts'

/** Whole-body helpers: read everything, then return it. */
export interface Collect {
  /** The whole body as one string. @example const html = await res.collect.text() */
  text(options?: TextOptions): Promise<string>
  /** The whole body as one `Uint8Array` over an `ArrayBuffer`. @example const file = await res.collect.bytes() */
  bytes(): Promise<Uint8Array<ArrayBuffer>>
  /**
   * The whole body parsed as one JSON document, validated when a schema is given; without one, typed by the
   * type argument (`collect.json<Report>()`, not checked) or `unknown`.
   *
   * @example
   * const report = await res.collect.json(Report)
   */
  json<T = unknown>(schema?: undefined): Promise<T>
  json<S extends StandardSchemaV1>(schema: S): Promise<StandardSchemaV1.InferOutput<S>>
  json(schema: StandardSchemaV1 | undefined): Promise<unknown>
}

/**
 * Options of `res.tee()`.
 *
 * @example
 * const [forUi, forCache] = res.tee({ maxBuffer: 4 * 1024 * 1024 })
 */
export interface TeeOptions {
  /** How many bytes the faster branch may read ahead of the slower one before it waits. Default 1 MiB. */
  maxBuffer?: number | undefined
}

/** How a `StreamResponse` is wired; built by `sluice()` and `fromResponse()`. */
export interface StreamResponseInit {
  response: Response
  /** What the response answers when it does not say (`fromResponse()`'s `url`, for a `Response` made in code). */
  url?: string | undefined
  source: ChunkSource
  /** Where the stream stands, for `checkpoint()`; absent when the body cannot say. */
  checkpoint?: (() => Checkpoint) | undefined
  progress: ProgressSink
  limits: Limits
}

let sinkOf: (res: StreamResponse) => ProgressSink | undefined

/**
 * A streamed response: the first response's status and headers, and one logical body read through exactly one
 * consumer — `bytes()`, `text()`, `lines()`, `ndjson()`, `events()`, `collect.*`, or `body` — or split with
 * `tee()`. Breaking out of a `for await` or calling `cancel()` releases the connection.
 *
 * @example
 * const res = await sluice(url)
 * for await (const row of res.ndjson(Row)) table.append(row)
 */
export class StreamResponse {
  /** Status of the first response. */
  readonly status: number
  /** Headers of the first response. */
  readonly headers: Headers
  /**
   * Final URL of the first response, after redirects; for one without any (a `Response` made in code),
   * `fromResponse()`'s `url` option, resolved as a `Request` resolves it, else `''`.
   */
  readonly url: string
  /**
   * Whether the status is 2xx: other statuses reject with `HTTPError`, unless a ky instance made with
   * `throwHttpErrors: false` lets them through, or a `resumeFrom` is answered `416` (nothing was missing).
   */
  readonly ok: boolean
  /** Whole-body helpers. */
  readonly collect: Collect
  readonly #init: StreamResponseInit
  #claimedBy: string | undefined
  #body: ReadableStream<Uint8Array<ArrayBuffer>> | undefined

  static {
    // A response from another copy of sluice has no #init here: its progress is not watched.
    sinkOf = (res) => (#init in res ? res.#init.progress : undefined)
  }

  constructor(init: StreamResponseInit) {
    this.#init = init
    this.status = init.response.status
    this.headers = init.response.headers
    this.url = init.response.url || init.url || ''
    this.ok = init.response.ok
    // The headers are here: the stream is open, whether or not a consumer reads it yet.
    if (init.progress.snapshot().state === 'connecting') {
      try {
        init.progress.setState('streaming')
      } catch (error) {
        // The listener threw at this report: the call rejects with its error, and nobody will ever read or
        // cancel this response, so its connection (and the total timeout's timer) goes now.
        void init.source.cancel(error)
        try {
          init.progress.setState('error')
        } catch {}
        throw error
      }
    }
    // Async all three: a body already claimed, or a bad option, rejects the promise rather than throwing.
    this.collect = {
      text: async (options) => joinText(this.#text('collect.text()', options), init.source, 'collect.text()'),
      bytes: async () => joinBytes(this.#bytes('collect.bytes()', undefined), init.source),
      json: (async (schema?: StandardSchemaV1): Promise<unknown> => {
        checkSchema(schema, 'collect.json()')
        const replaced: Replaced[] = []
        const text = this.#text('collect.json()', undefined, replaced)
        return collectJson(
          joinText(text, init.source, 'collect.json()'),
          replaced,
          schema,
          init.source,
        ).catch((error: unknown) => {
          throw inBody(error, init.source)
        })
      }) as Collect['json'],
    }
  }

  /** The current progress snapshot. */
  get progress(): Progress {
    return this.#init.progress.snapshot()
  }

  /**
   * The logical body as a `ReadableStream<Uint8Array<ArrayBuffer>>`, pulled on demand: a byte stream, as fetch's
   * is (`getReader({ mode: 'byob' })`). Reading it (not the property) is this response's one consumer, as with
   * `Response.body`: `if (res.body)` leaves `res.lines()` free.
   *
   * @example
   * await res.body.pipeTo(fileWritable)
   */
  get body(): ReadableStream<Uint8Array<ArrayBuffer>> {
    // One stream, however often the property is read. The body is claimed at the first read; cancelling the
    // stream before that cancels the response, as cancelling a fetch body does.
    this.#body ??= new Consumer<Uint8Array<ArrayBuffer>>(
      () => this.#bytes('body', undefined)[Symbol.asyncIterator](),
      (reason) => {
        if (this.#claimedBy !== undefined && this.#claimedBy !== 'body') return Promise.resolve()
        this.#claimedBy ??= 'body.cancel()'
        return this.cancel(reason)
      },
      this.#byteStream(),
    ).toReadableStream()
    return this.#body
  }

  /**
   * What makes a consumer's `toReadableStream()` a byte stream, as fetch's body is. A checkpoint lands before the
   * bytes no read returned yet (what a BYOB read left, or what one waiting for its `min` gathered). It takes over
   * the buffer of what it is given: a chunk that is not the source's alone and whole (a view, one of a stream made
   * in code) is copied.
   */
  #byteStream(): (chunk: Uint8Array, pending: () => number) => Uint8Array {
    // The bytes given to the stream, counted here: the source counts a chunk before it gets here, and a checkpoint
    // taken in between (while another read waits) stands before it.
    let given: number | undefined
    return (chunk, pending) => {
      const { source } = this.#init
      // Once, at the first call, when the stream claims the body: it reads `pending` live.
      if (given === undefined) source.attach?.({ committed: () => given! - pending() })
      given = (given ?? 0) + chunk.byteLength
      return source.owned && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice()
    }
  }

  /**
   * The body's chunks as they arrive, zero-copy; `{ chunkSize }` re-chunks to fixed sizes. Its
   * `toReadableStream()` is a byte stream, as `body` is; with `chunkSize`, a stream of those chunks.
   *
   * @example
   * for await (const chunk of res.bytes({ chunkSize: 64 * 1024 })) await upload(chunk)
   */
  bytes(options?: BytesOptions): ConsumerType<Uint8Array<ArrayBuffer>> {
    return this.#bytes('bytes()', options)
  }

  #bytes(by: string, options: BytesOptions | undefined): ConsumerType<Uint8Array<ArrayBuffer>> {
    // Made before the body is claimed: a bad chunkSize is a RangeError here, and the body stays readable.
    known(options, by, 'chunkSize')
    const rechunker = options?.chunkSize === undefined ? undefined : new Rechunker(options.chunkSize)
    const context = this.#claim(by)
    return new Consumer(
      // Over an ArrayBuffer: the response body's own chunks (fetch's are), views of them (a skipped prefix, a
      // held-back end marker, re-chunked pieces, a tee branch's share) or new arrays (re-chunked, joined).
      () =>
        (rechunker === undefined ? iterateBytes(context) : consumeBytes(context, rechunker)) as AsyncIterator<
          Uint8Array<ArrayBuffer>,
          void,
          undefined
        >,
      cancelOf(context),
      // Re-chunked, a stream of whole chunks: a BYOB read would cut them anew, and a checkpoint would lose the
      // re-chunker's count of the bytes it holds.
      rechunker === undefined ? this.#byteStream() : undefined,
    )
  }

  /**
   * The body decoded as UTF-8 text, chunk by chunk (a chunk over 64 000 bytes 32 KiB at a time); characters
   * split across chunks are never broken. `{ fatal: true }` turns invalid UTF-8 into a `ParseError` instead of
   * U+FFFD.
   *
   * @example
   * for await (const token of res.text()) output.append(token)
   */
  text(options?: TextOptions): ConsumerType<string> {
    return this.#text('text()', options)
  }

  #text(by: string, options: TextOptions | undefined, replaced?: Replaced[]): ConsumerType<string> {
    known(options, by, 'fatal')
    const context = this.#claim(by)
    return new Consumer(() => iterateText(context, options, replaced), cancelOf(context))
  }

  /**
   * The body's lines without terminators: LF and CRLF, BOM stripped, the final unterminated line delivered.
   *
   * @example
   * for await (const line of res.lines()) log(line)
   */
  lines(options?: LinesOptions): ConsumerType<string> {
    known(options, 'lines()', 'fatal')
    const context = this.#claim('lines()')
    return new Consumer(() => consumeLines(context, options), cancelOf(context))
  }

  /**
   * One parsed JSON value per non-blank line, validated with a Standard Schema when given. A body whose end nothing
   * proves (no length, no end marker) that ends in a final line that is not JSON was cut inside that record: it
   * resumes, or fails with a `TruncatedError` after the complete records.
   *
   * @example
   * for await (const row of res.ndjson(z.object({ id: z.number() }))) console.log(row.id)
   */
  ndjson<S extends StandardSchemaV1>(
    schema: S,
    options?: NdjsonOptions,
  ): ConsumerType<StandardSchemaV1.InferOutput<S>>
  ndjson<T = unknown>(schema?: undefined, options?: NdjsonOptions): ConsumerType<T>
  ndjson(schema: StandardSchemaV1 | undefined, options?: NdjsonOptions): ConsumerType<unknown>
  ndjson(schema?: StandardSchemaV1, options?: NdjsonOptions): ConsumerType<unknown> {
    checkSchema(schema, 'ndjson()')
    known(options, 'ndjson()', 'onInvalid')
    checkOnInvalid(options?.onInvalid, 'ndjson()')
    const context = this.#claim('ndjson()')
    return new Consumer(() => consumeNdjson(context, schema, options), cancelOf(context))
  }

  /**
   * Server-sent events `{ id, event, data, retry }`; `{ json: true }` or a `schema` parses `data`, `until`
   * ends the stream cleanly at terminal data such as `'[DONE]'`. `data` is typed `string` only when it is
   * certainly not parsed (no `json: true`, no schema), the schema's output with a schema, else `unknown`. A body
   * whose end nothing proves (no length, no end marker) that ends inside an event was cut there: it resumes, or
   * fails with a `TruncatedError` after the complete events.
   *
   * @example
   * for await (const { data } of res.events({ schema: Delta, until: '[DONE]' })) append(data.text)
   */
  events<S extends StandardSchemaV1>(
    options: EventsOptions<S> & { schema: S },
  ): ConsumerType<ServerSentEvent<StandardSchemaV1.InferOutput<S>>>
  events(options: EventsOptions & { json: true }): ConsumerType<ServerSentEvent<unknown>>
  events(options?: EventsOptions & { json?: false | undefined }): ConsumerType<ServerSentEvent>
  events(options: EventsOptions<StandardSchemaV1 | undefined>): ConsumerType<ServerSentEvent<unknown>>
  events(options?: EventsOptions<StandardSchemaV1 | undefined>): ConsumerType<ServerSentEvent<unknown>> {
    checkSchema(options?.schema, 'events()')
    known(options, 'events()', 'json schema until onInvalid')
    checkEventsOptions(options ?? {}, 'events()')
    const context = this.#claim('events()')
    return new Consumer(() => consumeEvents(context, options), cancelOf(context))
  }

  /**
   * Immutable partial snapshots of one growing JSON document, typed `DeepPartial` of the schema's input (the
   * document as sent, before any transform: never claimed as validated); `.final` is the complete value,
   * validated by the schema (its output). Parsing is linear in the document; unchanged subtrees keep their
   * identity between snapshots.
   *
   * @example
   * const doc = res.json(Report)
   * for await (const partial of doc) render(partial)
   * const report = await doc.final
   */
  json<S extends StandardSchemaV1>(
    schema: S,
    options?: JsonOptions,
  ): JsonConsumer<DeepPartial<StandardSchemaV1.InferInput<S>>, StandardSchemaV1.InferOutput<S>>
  json<T = unknown>(schema?: undefined, options?: JsonOptions): JsonConsumer<DeepPartial<T>, T>
  json(schema: StandardSchemaV1 | undefined, options?: JsonOptions): JsonConsumer<unknown, unknown>
  json(schema?: StandardSchemaV1, options: JsonOptions = {}): JsonConsumer<unknown, unknown> {
    checkSchema(schema, 'json()')
    known(options, 'json()', 'throttleMs maxDepth')
    checkJsonOptions(options, 'json()')
    const context = this.#claim('json()')
    const info: { current?: JsonSnapshotInfo; quiet?: boolean } = {}
    let settle!: (result: { value: unknown } | { error: unknown }) => void
    const final = new Promise<unknown>((resolve, reject) => {
      settle = (result) => ('value' in result ? resolve(result.value) : reject(result.error))
    })
    final.catch(() => {}) // observed through `.final`; never an unhandled rejection when nobody asks
    return new JsonConsumer(
      () => consumeJson(context, schema, options, info, settle),
      final,
      () => info.current ?? { isComplete: () => false, openPath: () => undefined },
      cancelOf(context),
      info,
    )
  }

  /**
   * Two responses over the same body, each with its own consumer. Buffering is bounded (`maxBuffer` bytes,
   * default 1 MiB): the faster branch waits for the slower one, so read both concurrently or cancel one. A drop
   * resumes for both branches, each getting every unit once; each branch's `checkpoint()` is its own.
   *
   * @example
   * const [forUi, forCache] = res.tee()
   */
  tee(options: TeeOptions = {}): [StreamResponse, StreamResponse] {
    known(options, 'tee()', 'maxBuffer')
    const { maxBuffer = 1024 * 1024 } = options
    // Checked before the body is claimed. Below one byte neither branch could ever read ahead: both would wait.
    if (typeof maxBuffer !== 'number' || !(maxBuffer >= 1)) {
      throw new RangeError(`tee(): maxBuffer must be a number of bytes, 1 or more, got ${String(maxBuffer)}.`)
    }
    const context = this.#claim('tee()')
    const tee = teeSource(context.source, maxBuffer)
    const progress = teeProgress(this.#init.progress)
    const take = this.#init.checkpoint
    const branch = (i: 0 | 1): StreamResponse =>
      new StreamResponse({
        ...this.#init,
        source: tee.branches[i],
        progress: progress[i],
        // Each branch's checkpoint stands where its own consumer does, not where the shared body does.
        checkpoint: take && (() => tee.checkpoint(i, take, progress[i].items)),
      })
    return [branch(0), branch(1)]
  }

  /**
   * Where the stream stands: a small JSON-serialisable record at the last unit boundary the consumer
   * delivered, to pass back as `resumeFrom` in another process or after a page reload. On a `tee()` branch, where
   * that branch's consumer stands. Throws a `ResumeError` (`unsupported`) when the server offers no way to
   * resume, and on a response split with `tee()` (take it from a branch).
   *
   * @example
   * addEventListener('pagehide', () => localStorage.setItem('report', JSON.stringify(res.checkpoint())))
   */
  checkpoint(): Checkpoint {
    const take = this.#init.checkpoint
    if (take === undefined)
      throw new TypeError('This response cannot be checkpointed: it was not fetched by sluice.')
    // Two consumers stand at two places; a checkpoint for both would repeat units to the one that read more.
    if (this.#claimedBy === 'tee()') {
      throw new ResumeError(
        'unsupported',
        'This response was split with tee(): take the checkpoint from the branch you will continue (`branch.checkpoint()`).',
        0,
      )
    }
    return take()
  }

  /**
   * Drops the connection but keeps `checkpoint()` valid, for a resume later (a page going to the background,
   * a script pausing). The consumer's iteration ends without an error.
   *
   * @example
   * const saved = (res.detach(), res.checkpoint())
   */
  detach(): void {
    this.#claimedBy ??= 'detach()'
    // A listener that throws at this report still leaves the connection dropped.
    try {
      this.#init.progress.setState('cancelled')
    } finally {
      void this.#init.source.cancel('The stream was detached; resume it from its checkpoint.')
    }
  }

  /**
   * Ends the stream and releases the connection. Safe to call at any time, any number of times.
   *
   * @example
   * stopButton.onclick = () => res.cancel()
   */
  async cancel(reason?: unknown): Promise<void> {
    this.#claimedBy ??= 'cancel()'
    return cancelOf(this.#init)(reason)
  }

  #claim(by: string): ConsumeContext {
    const claimed = this.#claimedBy
    if (claimed !== undefined) {
      // Released, the body has nothing left to read twice: tee() would not help, only a new request.
      const body = this.url === '' ? "this response's body" : `the body of ${this.url}`
      if (claimed === 'detach()')
        throw new TypeError(
          `${by} cannot read ${body}: res.detach() dropped its connection before any consumer read it. Continue it with \`sluice(url, { resumeFrom: res.checkpoint() })\`.`,
        )
      if (claimed === 'cancel()' || claimed === 'body.cancel()')
        throw new TypeError(
          `${by} cannot read ${body}: res.${claimed} cancelled it before any consumer read it, and a cancelled body cannot be read. Request it again to read it.`,
        )
      // Claimed by a consumer (or split): what became of its read says whether it is still going on.
      const { state } = this.#init.progress.snapshot()
      const how =
        claimed === 'tee()'
          ? 'it was split with res.tee(): read its branches instead'
          : state === 'done'
            ? `${claimed} already read it to its end`
            : state === 'error' || state === 'cancelled'
              ? `${claimed} read it until it ${state === 'error' ? 'failed' : 'was cancelled'}`
              : `it is already being read by ${claimed}`
      throw new TypeError(
        `${by} cannot read ${body}: ${how}; a body has one consumer. Call \`res.tee()\` before the first consumer to read it twice.`,
      )
    }
    this.#claimedBy = by
    const { source, progress, limits } = this.#init
    return { source, progress, limits }
  }
}

/**
 * Internal (not exported from the package): calls `listener` whenever `res.progress.state` or `.attempt` moves,
 * synchronously, so it should only schedule work — how a store publishes a reconnect. Returns the function that
 * stops watching; a response whose progress cannot be watched returns one that does nothing.
 */
export function watchProgress(res: StreamResponse, listener: () => void): () => void {
  return sinkOf(res)?.watch?.(listener) ?? (() => {})
}

/**
 * Internal: the items `res`'s own consumer has counted — from a checkpoint, those it covers; for a `tee()` branch,
 * its own, where `res.progress.items` is the branch ahead's.
 */
export const itemsOf = (res: StreamResponse): number => sinkOf(res)?.items ?? res.progress.items

/** What stops a consumer's source from outside its generator (`toReadableStream().cancel()`). */
function cancelOf(context: ConsumeContext): (reason?: unknown) => Promise<void> {
  return async (reason) => {
    let told: void | Promise<void>
    try {
      told = context.progress.setState('cancelled')
    } finally {
      await context.source.cancel(reason)
    }
    // An async listener's report of it: its rejection is the cancel's, as a throw there is.
    await told
  }
}

/** The whole text of a `collect` helper; see `whole` for a stop before the body's end. */
async function joinText(consumer: AsyncIterable<string>, source: ChunkSource, by: string): Promise<string> {
  let text = ''
  for await (const part of consumer) text += part
  whole(source, by)
  return text
}

async function joinBytes(
  consumer: AsyncIterable<Uint8Array<ArrayBuffer>>,
  source: ChunkSource,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  let length = 0
  for await (const part of consumer) {
    parts.push(part)
    length += part.length
  }
  whole(source, 'collect.bytes()')
  return parts.length === 0 ? new Uint8Array(0) : concatBytes(parts, length)
}
