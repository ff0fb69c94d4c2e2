import type { BytesOptions } from './consumers/bytes.ts'
import type { EventsOptions } from './consumers/events.ts'
import type { JsonOptions } from './consumers/json.ts'
import type { LinesOptions } from './consumers/lines.ts'
import type { NdjsonOptions } from './consumers/ndjson.ts'
import type { TextOptions } from './consumers/text.ts'
import type { DeepPartial, JsonPathSegment } from './decoders/partial-json-types.ts'
import type { ServerSentEvent } from './decoders/sse.ts'
import type { Progress } from './progress.ts'
import type { StandardSchemaV1 } from './schema.ts'
import type { StreamResponse } from './stream-response.ts'

/**
 * Where a store's stream is: `idle` until started, `connecting` until the response headers arrive, `streaming`
 * while the body is read (reconnects included: see `progress.state`), then one of `done`, `error`, `cancelled`.
 * `cancelled` follows `cancel()`, and an abort of a signal the caller combined into the request: while streaming
 * any abort reason but sluice's own timeouts; while connecting a rejection that is an abort — an error named
 * `AbortError` (`abort()`'s default reason) or `AbortSignal.timeout()`'s `TimeoutError` — since a custom reason
 * (`abort('left')`, which sluice rejects with as it is) cannot be told from a failure there, and is an `error`.
 *
 * @example
 * if (snapshot.status === 'error') showError(snapshot.error)
 */
export type StreamStatus = 'idle' | 'connecting' | 'streaming' | 'done' | 'error' | 'cancelled'

/**
 * Which consumer a store reads the body with: `ndjson`, `events`, `lines` and `bytes` accumulate `items`, `text`
 * accumulates `text`, `json` keeps the latest partial document in `data` and the validated one in `final`.
 *
 * @example
 * createStreamStore(res, { as: 'ndjson' })
 */
export type StreamMode = 'ndjson' | 'json' | 'text' | 'events' | 'lines' | 'bytes'

/**
 * What a store reads: a `StreamResponse`, a promise of one, or a function that requests one with the store's
 * `AbortSignal`. Only the function form can `retry()`: a response body can be read once. A promise that rejects
 * before the store starts is the store's `error` once it starts, never an unhandled rejection.
 *
 * @example
 * const request: StreamRequest = (signal) => sluice(url, { signal })
 */
export type StreamRequest =
  | StreamResponse
  | Promise<StreamResponse>
  | ((signal: AbortSignal) => Promise<StreamResponse>)

/** Options every store mode takes. */
interface CommonStoreOptions {
  /**
   * Minimum time between two notifications while streaming, in ms; the first change after a quiet period, state
   * changes and the final snapshot are never delayed by it. In `json` mode it is also the consumer's `throttleMs`,
   * which skips the O(n) snapshots of large flat arrays. Default 0: at most one notification per task (per
   * network chunk, in practice).
   */
  throttleMs?: number | undefined
}

/** Options of the modes that accumulate `items`. */
interface ItemStoreOptions extends CommonStoreOptions {
  /**
   * Keep only the last `maxItems` items (older ones are dropped and counted in `dropped`), so a 100k-row report
   * holds bounded memory. Default: no limit.
   */
  maxItems?: number | undefined
}

/** Options of a store that reads NDJSON records. */
export interface NdjsonStoreOptions extends ItemStoreOptions, NdjsonOptions {
  as: 'ndjson'
  /** Validates each record; the item type is the schema's output. */
  schema?: StandardSchemaV1 | undefined
}

/** Options of a store that reads server-sent events. */
export interface EventsStoreOptions
  extends ItemStoreOptions,
    Omit<EventsOptions<StandardSchemaV1 | undefined>, 'schema'> {
  as: 'events'
  /** Validates each event's parsed `data`; the data type is the schema's output. */
  schema?: StandardSchemaV1 | undefined
}

/** Options of a store that reads lines. */
export interface LinesStoreOptions extends ItemStoreOptions, LinesOptions {
  as: 'lines'
}

/** Options of a store that keeps the body's byte chunks. */
export interface BytesStoreOptions extends ItemStoreOptions, BytesOptions {
  as: 'bytes'
}

/** Options of a store that accumulates the body as text. */
export interface TextStoreOptions extends CommonStoreOptions, TextOptions {
  as: 'text'
}

/** Options of a store that reads one growing JSON document. */
export interface JsonStoreOptions extends CommonStoreOptions, Omit<JsonOptions, 'throttleMs'> {
  as: 'json'
  /**
   * Validates the complete document (`final`, typed by the schema's output); partial snapshots (`data`) are the
   * document as sent, typed `DeepPartial` of the schema's input.
   */
  schema?: StandardSchemaV1 | undefined
}

/**
 * Options of `createStreamStore()` (and `useStream()`): the mode in `as`, that consumer's own options, and the
 * store's `throttleMs` and `maxItems`.
 *
 * @example
 * const options: StreamStoreOptions = { as: 'ndjson', schema: Row, onInvalid: 'skip', maxItems: 1000 }
 */
export type StreamStoreOptions =
  | NdjsonStoreOptions
  | EventsStoreOptions
  | LinesStoreOptions
  | BytesStoreOptions
  | TextStoreOptions
  | JsonStoreOptions

/**
 * `O` with every key that its mode does not take typed `never`, so that a dead option (`maxItems` in `text`
 * mode, say) is a type error even though `O` is inferred.
 *
 * @example
 * function make<O extends StreamStoreOptions>(options: ExactStoreOptions<O>) {}
 */
export type ExactStoreOptions<O extends { as: StreamMode }, Allowed = never> = O &
  // Deferred as a condition: a mapped type over `keyof O` here would give the callbacks (`until`, `onInvalid`)
  // no contextual type while `O` is inferred, and their parameters would be implicitly `any`.
  ([DeadKeys<O, Allowed>] extends [never] ? unknown : { [K in DeadKeys<O, Allowed>]: never })

type DeadKeys<O extends { as: StreamMode }, Allowed> = Exclude<
  keyof O,
  keyof Extract<StreamStoreOptions, { as: O['as'] }> | Allowed
>

type SchemaOutput<O, Fallback> = O extends { schema: infer S extends StandardSchemaV1 }
  ? StandardSchemaV1.InferOutput<S>
  : Fallback

/**
 * Whether events options `O` may parse `data` as JSON: `json` is, or may be, `true` (a `boolean`, say), or a
 * schema may be given (`schema: maybeSchema`, typed `S | undefined`: the store parses whenever it is defined).
 */
type MayParse<O> = O extends { json?: infer J } ? (true extends J ? true : MaySchema<O>) : MaySchema<O>

type MaySchema<O> = 'schema' extends keyof O
  ? [Exclude<O['schema' & keyof O], undefined>] extends [never]
    ? false
    : true
  : false

type SchemaInput<O, Fallback> = O extends { schema: infer S extends StandardSchemaV1 }
  ? StandardSchemaV1.InferInput<S>
  : Fallback

/**
 * The item type of a store with options `O`: the schema's output for `ndjson`, `ServerSentEvent` for `events`
 * (its `data` a `string` only when it is certainly not parsed: no `json: true`, no schema), `string` for
 * `lines`, `Uint8Array<ArrayBuffer>` for `bytes`; `never` for the modes without items.
 *
 * @example
 * type Row = StreamItem<{ as: 'ndjson'; schema: typeof RowSchema }>
 */
export type StreamItem<O> = ItemOf<PerMode<O>>

/**
 * `O` split by its mode: options whose `as` is a union (`{ as: mode }`, `mode: StreamMode`) type the store as any
 * of those modes may fill it, rather than as none of them (`never` items, `undefined` data) — at run time one is.
 */
type PerMode<O> = O extends { as: infer M } ? (M extends unknown ? O & { as: M } : never) : O

type ItemOf<O> = O extends { as: 'ndjson' }
  ? SchemaOutput<O, unknown>
  : O extends { as: 'events' }
    ? ServerSentEvent<SchemaOutput<O, MayParse<O> extends true ? unknown : string>>
    : O extends { as: 'lines' }
      ? string
      : O extends { as: 'bytes' }
        ? Uint8Array<ArrayBuffer>
        : never

/**
 * The complete document's type of a `json` store with options `O` (the schema's output, else `unknown`);
 * `undefined` for the other modes.
 *
 * @example
 * type Report = StreamFinal<{ as: 'json'; schema: typeof ReportSchema }>
 */
export type StreamFinal<O> = FinalOf<PerMode<O>>

type FinalOf<O> = O extends { as: 'json' } ? SchemaOutput<O, unknown> : undefined

/**
 * The partial document's type of a `json` store with options `O`: `DeepPartial` of the schema's input (the
 * document as sent, before the schema's transforms), else `unknown`; `undefined` for the other modes.
 *
 * @example
 * type Partial = StreamData<{ as: 'json'; schema: typeof ReportSchema }>
 */
export type StreamData<O> = DataOf<PerMode<O>>

type DataOf<O> = O extends { as: 'json' } ? DeepPartial<SchemaInput<O, unknown>> : undefined

/**
 * The first response's metadata, once its headers arrived.
 *
 * @example
 * snapshot.response?.headers.get('content-type')
 */
export interface StreamResponseInfo {
  readonly status: number
  readonly headers: Headers
  readonly url: string
}

/**
 * An immutable view of a store's stream. A new object only when something changed, so `getSnapshot()` called
 * twice returns the same object (what `useSyncExternalStore` requires); `items` is a new array per batch.
 *
 * @example
 * const { status, items, progress } = store.getSnapshot()
 */
export interface StreamSnapshot<Item = unknown, Data = unknown, Final = unknown> {
  readonly status: StreamStatus
  /** Items so far (`ndjson`, `events`, `lines`, `bytes`), the last `maxItems` of them; empty in other modes. */
  readonly items: readonly Item[]
  /**
   * The first item's index in the stream: the items `maxItems` dropped from the front of `items`, and those a
   * `resumeFrom` checkpoint covers (the stream continues after them).
   */
  readonly dropped: number
  /** The text so far (`text` mode); `''` in other modes. */
  readonly text: string
  /** The latest partial document (`json` mode), never claimed as validated; `undefined` before any. */
  readonly data: Data | undefined
  /** The complete, validated document once `status` is `done` (`json` mode). */
  readonly final: Final | undefined
  /**
   * Whether the value at `path` (default: the root) of the partial document is finished (`json` mode: its
   * closing quote or bracket was seen, so it will not change). In other modes: whether the stream is `done`.
   */
  readonly isComplete: (path?: readonly JsonPathSegment[]) => boolean
  /**
   * Progress as of this snapshot: bytes, total, percent, rate, attempt. A move of `state` or `attempt` (a
   * reconnect, back to streaming) makes a new snapshot promptly, even without new data and despite `throttleMs`.
   */
  readonly progress: Progress
  /**
   * What ended the stream when `status` is `error`: an HTTP, transport, parse or validation error, or what the
   * request function threw (a thrown value that is not an `Error` is wrapped in one, as its `cause`), or a
   * `TypeError` when it resolved to something other than a `StreamResponse` (a plain `Response`, say, whose body
   * is then released). `undefined` otherwise.
   */
  readonly error: Error | undefined
  /** Status, headers and URL of the first response, once they arrived. */
  readonly response: StreamResponseInfo | undefined
}

/**
 * A framework-agnostic, observable stream: `subscribe` and `getSnapshot` fit React's `useSyncExternalStore` as
 * they are; a Svelte store, Vue's `shallowRef` or a plain callback takes them through a listener that reads
 * `getSnapshot()`. The listener is called without a value, and not at `subscribe()`, so the store is not a Svelte
 * store itself: wrap it, `readable(store.getSnapshot(), (set) => store.subscribe(() => set(store.getSnapshot())))`.
 * All methods are bound: pass them around freely.
 *
 * @example
 * const store = createStreamStore((signal) => sluice(url, { signal }), { as: 'ndjson' })
 * const stop = store.subscribe(() => render(store.getSnapshot()))
 */
export interface StreamStore<Item = unknown, Data = unknown, Final = unknown> {
  /**
   * Calls `listener` after each change; returns the function that unsubscribes it — that subscription only, even
   * when the same function is subscribed again or elsewhere. The first subscriber starts
   * the stream (see `start`): `getSnapshot()` says `connecting` at once, and the listener hears of it in a
   * microtask — never before `subscribe` has returned. Once unsubscribed, a listener is never called again, not
   * even by a notification under way (another listener that unmounts its component, say). A listener that
   * cancels or retries from its call supersedes the notification under way: every listener hears of the new
   * snapshot, once. The last one leaving does not cancel the stream — call `cancel()` for that.
   */
  subscribe(listener: () => void): () => void
  /** The current snapshot; the same object until something changes. Never starts anything. */
  getSnapshot(): StreamSnapshot<Item, Data, Final>
  /**
   * The snapshot a server renders and a client hydrates with: always the idle one, since no stream runs during
   * server rendering, even when the store has started by the time the page hydrates (`useSyncExternalStore`'s
   * third argument).
   */
  getServerSnapshot(): StreamSnapshot<Item, Data, Final>
  /** Starts the stream if it is `idle`; otherwise does nothing. */
  start(): void
  /** Stops the stream and releases the connection; `status` becomes `cancelled`. Idempotent; no-op once ended. */
  cancel(reason?: unknown): void
  /**
   * Cancels the current stream, if any, and requests again from scratch with a fresh snapshot. Only a store made
   * from a request function can retry; the others throw a `TypeError`.
   */
  retry(): void
}
