import { describeValue } from '../runtime/describe-value.ts'
import { asError } from './as-error.ts'
import type { JsonConsumer } from './consumer.ts'
import { checkEventsOptions, type EventsOptions } from './consumers/events.ts'
import { checkJsonOptions, type JsonOptions } from './consumers/json.ts'
import { checkOnInvalid } from './consumers/on-invalid.ts'
import type { JsonPathSegment } from './decoders/partial-json-types.ts'
import { Rechunker } from './decoders/rechunk.ts'
import { isCompleteIn } from './decoders/snapshot-completeness.ts'
import { isRecord, must } from './options.ts'
import { FINAL, type Progress } from './progress.ts'
import { checkSchema } from './schema.ts'
import type {
  ExactStoreOptions,
  StreamData,
  StreamFinal,
  StreamItem,
  StreamRequest,
  StreamSnapshot,
  StreamStatus,
  StreamStore,
  StreamStoreOptions,
} from './store-types.ts'
import { itemsOf, type StreamResponse, watchProgress } from './stream-response.ts'

type Snapshot = StreamSnapshot<unknown, unknown, unknown>

/** One request and its read; a retry makes a new one, and an old one's late results are dropped. */
interface Run {
  readonly controller: AbortController
  res: StreamResponse | undefined
  /** Set once this run was cancelled, replaced or finished: nothing it produces is published any more. */
  over: boolean
}

/** The modes, in the order messages list them, each with the options it takes besides `as` and `throttleMs`. */
const MODES: Readonly<Record<string, string>> = {
  ndjson: 'maxItems schema onInvalid',
  json: 'schema maxDepth',
  text: 'fatal',
  events: 'maxItems schema json until onInvalid',
  lines: 'maxItems fatal',
  bytes: 'maxItems chunkSize',
}
const ENDED: ReadonlySet<StreamStatus> = new Set(['done', 'error', 'cancelled'])
const never = (): boolean => false
const always = (): boolean => true
const noop = (): void => {}

/**
 * Creates an observable store over a streamed response that accumulates its items, text or partial JSON
 * document, with `status`, `progress` and `error`, for any UI framework (React: `useStreamStore` in
 * `sluice/react`).
 *
 * The store starts on its first `subscribe()` (or an explicit `start()`), so creating one has no side effect;
 * the last subscriber leaving does not cancel it. A listener is never called before `subscribe()` has returned.
 * Notifications are batched: items decoded in the same task (one network chunk, or a whole buffered body) make
 * one notification and one new `items` array, and `throttleMs` spaces them further; a move of `progress.state`
 * or `progress.attempt` (a reconnect) is published promptly, whatever the throttle. Errors become
 * `status: 'error'` with `error`; nothing is thrown. An abort while connecting ends `cancelled` (see
 * `StreamStatus`). Only a store made from a request function `(signal) => Promise<StreamResponse>` can `retry()`.
 *
 * Defaults: `throttleMs: 0` (one notification per task at most), `maxItems`: no limit.
 *
 * @example
 * const store = createStreamStore((signal) => sluice(url, { signal }), { as: 'ndjson', schema: Row, maxItems: 1000 })
 * const unsubscribe = store.subscribe(() => {
 *   const { status, items, progress } = store.getSnapshot()
 *   table.render(items, progress.percent)
 * })
 */
export function createStreamStore<const O extends StreamStoreOptions>(
  request: StreamRequest,
  options: ExactStoreOptions<O>,
): StreamStore<StreamItem<O>, StreamData<O>, StreamFinal<O>> {
  return namedStreamStore('createStreamStore()', request, options) as StreamStore<
    StreamItem<O>,
    StreamData<O>,
    StreamFinal<O>
  >
}

/** `createStreamStore()` for a caller whose name its option errors give (`useStream()`, not a function it calls). */
export function namedStreamStore(
  where: string,
  request: StreamRequest,
  options: StreamStoreOptions,
): StreamStore {
  checkOptions(options, where)
  // A request already sent may fail before the store starts (created in a loader, rendered later): the store owns
  // that failure, and reports it as `error` once started, rather than as an unhandled rejection now.
  if (typeof request !== 'function') Promise.resolve(request).catch(noop)
  const throttle = options.throttleMs ?? 0
  const maxItems = 'maxItems' in options ? options.maxItems : undefined
  const listeners = new Set<() => void>()
  const idle = initial('idle', never)
  let snapshot = idle
  let run: Run | undefined
  // The batch: what the consumer produced since the last notification.
  let pendingItems: unknown[] = []
  let pendingDropped = 0
  let pendingText = ''
  let pendingData: { value: unknown; openPath: readonly JsonPathSegment[] | undefined } | undefined
  let json: JsonConsumer<unknown, unknown> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastFlush = Number.NEGATIVE_INFINITY
  // Set while the first subscribe() starts the stream: what it publishes reaches the listeners a microtask
  // later, once subscribe() has returned its unsubscribe function (Redux and zustand never call back sooner).
  let subscribing = false
  let deferred = false
  /** How many notifications have started: one that starts inside another supersedes it. */
  let notifications = 0

  const publish = (next: Snapshot): void => {
    // What the snapshot owns is frozen with it: a listener that pushed onto `items` or set `progress.percent`
    // would change what every other reader of this snapshot, and the next batch's copy, sees.
    Object.freeze(next.items)
    Object.freeze(next.progress)
    if (next.response !== undefined) Object.freeze(next.response)
    snapshot = Object.freeze(next)
    if (subscribing) {
      if (!deferred) queueMicrotask(() => deferred && notify())
      deferred = true
    } else notify()
  }

  const notify = (): void => {
    // Any notification carries the latest snapshot: a deferred one still waiting is no longer needed.
    deferred = false
    const at = ++notifications
    let failure: { error: unknown } | undefined
    for (const listener of [...listeners]) {
      // A listener's cancel() or retry() published a newer snapshot and told every listener of it: the rest of
      // this notification would call them again for nothing.
      if (notifications !== at) break
      // One that an earlier listener unsubscribed (a component it unmounted) has left: it hears nothing more.
      if (!listeners.has(listener)) continue
      try {
        listener()
      } catch (error) {
        failure ??= { error }
      }
    }
    // A throwing listener must not stop the others, nor the stream: report it as uncaught instead.
    if (failure !== undefined) {
      const { error } = failure
      queueMicrotask(() => {
        throw error
      })
    }
  }

  /** Whether the response's state or attempt moved since the last snapshot (an end is `finish`'s to publish). */
  const moved = (current: Run): boolean => {
    const progress = current.res?.progress
    if (progress === undefined || FINAL.has(progress.state)) return false
    return progress.state !== snapshot.progress.state || progress.attempt !== snapshot.progress.attempt
  }

  /** The snapshot with the batch and progress merged in, or `undefined` when neither has anything new. */
  const drain = (current: Run): Snapshot | undefined => {
    if (pendingItems.length === 0 && pendingText === '' && pendingData === undefined && !moved(current))
      return undefined
    const next: { -readonly [K in keyof Snapshot]: Snapshot[K] } = { ...snapshot }
    if (pendingItems.length > 0) {
      const merged = snapshot.items.length + pendingItems.length
      if (maxItems !== undefined && merged > maxItems) {
        const keep = Math.max(0, maxItems - pendingItems.length)
        next.items = snapshot.items
          .slice(snapshot.items.length - keep)
          .concat(pendingItems.slice(Math.max(0, pendingItems.length - maxItems)))
        next.dropped = snapshot.dropped + pendingDropped + merged - maxItems
      } else {
        next.items = snapshot.items.concat(pendingItems)
        next.dropped = snapshot.dropped + pendingDropped
      }
      pendingItems = []
      pendingDropped = 0
    }
    if (pendingText !== '') {
      next.text = snapshot.text + pendingText
      pendingText = ''
    }
    if (pendingData !== undefined) {
      next.isComplete = completeness(pendingData)
      next.data = pendingData.value
      pendingData = undefined
    }
    if (current.res !== undefined) next.progress = current.res.progress
    return next
  }

  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }

  /** Publishes the batch in a later task: after `throttleMs`, or at once (`prompt`) for a state change. */
  const schedule = (current: Run, prompt = false): void => {
    if (timer !== undefined) {
      if (!prompt) return
      clearTimeout(timer)
    }
    // A macrotask, not a microtask: a consumer delivers one chunk's items across many microtasks, and this
    // waits for all of them (and for every chunk already buffered) before rendering once.
    timer = setTimeout(
      () => {
        timer = undefined
        if (current.over) return
        const next = drain(current)
        if (next === undefined) return
        lastFlush = performance.now()
        publish(next)
      },
      // A monotonic clock: the system clock set back (NTP, a VM's sync) must not hold the batch back by the jump.
      prompt ? 0 : Math.max(0, lastFlush + throttle - performance.now()),
    )
  }

  const accept = (value: unknown): void => {
    switch (options.as) {
      case 'text':
        pendingText += value as string
        return
      case 'json':
        // What the consumer says of this snapshot now: it moves on while the batch waits.
        pendingData = { value, openPath: json?.openPath }
        return
      default:
        pendingItems.push(value)
        // Bounded memory between two notifications too: keep at most 2 × maxItems waiting.
        if (maxItems !== undefined && pendingItems.length >= 2 * maxItems) {
          pendingDropped += pendingItems.length - maxItems
          pendingItems = pendingItems.slice(pendingItems.length - maxItems)
        }
    }
  }

  const finish = (current: Run, status: 'done' | 'error', error?: unknown, final?: unknown): void => {
    current.over = true
    clearTimer()
    const next = {
      ...(drain(current) ?? snapshot),
      status,
      error: status === 'error' ? asError(error) : undefined,
    }
    if (status === 'done') {
      next.final = final
      // A document's last snapshot is the whole document, with nothing open; the other modes are complete.
      if (json === undefined) next.isComplete = always
    }
    next.progress = current.res?.progress ?? { ...snapshot.progress, state: status }
    publish(next)
  }

  const execute = async (current: Run): Promise<void> => {
    let res: StreamResponse
    try {
      res = typeof request === 'function' ? await request(current.controller.signal) : await request
    } catch (error) {
      if (current.over) return
      // The caller's own signal, combined into the request, aborted it while connecting.
      if (isAbort(error)) cancelRun(current, error)
      else finish(current, 'error', error)
      return
    }
    if (!isStreamResponse(res)) {
      release(res)
      if (!current.over) finish(current, 'error', notAStreamResponse(res, typeof request === 'function'))
      return
    }
    if (current.over) {
      // Cancelled while connecting: the response arrived anyway, and its connection is released here.
      res.cancel(current.controller.signal.reason).catch(noop)
      return
    }
    current.res = res
    let unwatch = noop
    try {
      // Claiming the body moves its progress to `streaming`: the first streaming snapshot says so.
      const consumer = consume(res, options)
      if (options.as === 'json') json = consumer as JsonConsumer<unknown, unknown>
      publish({
        ...snapshot,
        status: 'streaming',
        // From a checkpoint (`resumeFrom`), the items it covers come before `items[0]` in the stream.
        dropped: itemsOf(res),
        response: { status: res.status, headers: res.headers, url: res.url },
        progress: res.progress,
      })
      // A reconnect delivers no data for a while: its state and attempt are published as they move. A response
      // stopped under the store (`res.detach()` on pagehide, `res.cancel()`) ends it at once, with every item its
      // checkpoint covers: a page saving both in the same task must not lose the batch still waiting.
      unwatch = watchProgress(res, () => {
        if (current.over) return
        if (res.progress.state === 'cancelled') stop(current)
        else if (moved(current)) schedule(current, true)
      })
      for await (const value of consumer) {
        if (current.over) return
        accept(value)
        schedule(current)
      }
      if (current.over) return
      // Someone cancelled the response itself (`res.cancel()`): a consumer then ends without error.
      if (res.progress.state === 'cancelled') {
        cancelRun(current, undefined)
        return
      }
      const final = json === undefined ? undefined : await json.final
      if (!current.over) finish(current, 'done', undefined, final)
    } catch (error) {
      if (current.over) return
      // The caller's own signal, combined into the request, aborted it: a cancellation, not a failure.
      if (res.progress.state === 'cancelled') cancelRun(current, error)
      else finish(current, 'error', error)
    } finally {
      unwatch()
    }
  }

  const begin = (): void => {
    clearTimer()
    pendingItems = []
    pendingDropped = 0
    pendingText = ''
    pendingData = undefined
    json = undefined
    lastFlush = Number.NEGATIVE_INFINITY
    const current: Run = { controller: new AbortController(), res: undefined, over: false }
    run = current
    publish(initial('connecting', never))
    // A listener that cancelled or retried from that notification ended this run before its request.
    if (!current.over) void execute(current)
  }

  const cancelRun = (current: Run, reason: unknown): void => {
    current.over = true
    current.res?.cancel(reason).catch(noop)
    current.controller.abort(reason)
    stop(current)
  }

  /**
   * Ends the run `cancelled` with every item it holds, published at once. Its response is stopped, or being
   * stopped by whoever moved it to `cancelled`, with their reason: the store adds none of its own.
   */
  const stop = (current: Run): void => {
    current.over = true
    clearTimer()
    const next = { ...(drain(current) ?? snapshot), status: 'cancelled' as const }
    next.progress = current.res?.progress ?? { ...snapshot.progress, state: 'cancelled' }
    publish(next)
  }

  const store: StreamStore = {
    subscribe(listener) {
      // A subscription of its own, not the function: one unsubscribe, however late or often it is called,
      // never ends another subscription of the same function (two widgets sharing a render callback).
      const own = (): void => listener()
      listeners.add(own)
      if (snapshot.status === 'idle') {
        subscribing = true
        try {
          begin()
        } finally {
          subscribing = false
        }
      }
      return () => {
        listeners.delete(own)
      }
    },
    getSnapshot: () => snapshot,
    getServerSnapshot: () => idle,
    start() {
      if (snapshot.status === 'idle') begin()
    },
    cancel(reason) {
      if (ENDED.has(snapshot.status)) return
      if (run !== undefined) {
        cancelRun(run, reason)
        return
      }
      // Never started: a response handed over is still ours to release.
      if (typeof request !== 'function') {
        Promise.resolve(request)
          .then((res) => (isStreamResponse(res) ? res.cancel(reason) : release(res)))
          .catch(noop)
      }
      publish({ ...snapshot, status: 'cancelled', progress: { ...snapshot.progress, state: 'cancelled' } })
    },
    retry() {
      if (typeof request !== 'function') {
        throw new TypeError(
          'This stream store was created from a response, and a response body can be read only once, so it cannot retry. Create the store from a request function instead: createStreamStore((signal) => sluice(url, { signal }), options).',
        )
      }
      if (run !== undefined && !run.over) {
        run.over = true
        run.res?.cancel('The stream is being retried.').catch(noop)
        run.controller.abort(new DOMException('The stream is being retried.', 'AbortError'))
      }
      begin()
    },
  }
  return store
}

/**
 * Whether a request's rejection is an abort, so that the store ends `cancelled` rather than `error`: an error
 * named `AbortError` (what `AbortController.abort()` gives by default, from any realm) or a `DOMException` named
 * `TimeoutError` (what `AbortSignal.timeout()` gives). sluice rejects with the signal's reason, whatever it is; a
 * custom reason (`abort('left the page')`) cannot be told from a failure of the request function, so it stays an
 * error. sluice's own `TimeoutError`s are errors too: they are not `DOMException`s.
 */
function isAbort(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { name } = error as { name?: unknown }
  return (
    name === 'AbortError' ||
    (name === 'TimeoutError' && Object.prototype.toString.call(error) === '[object DOMException]')
  )
}

/** Whether `value` reads like a `StreamResponse` (possibly from another copy of sluice). */
function isStreamResponse(value: unknown): value is StreamResponse {
  if (typeof value !== 'object' || value === null) return false
  const res = value as Partial<Record<'ndjson' | 'cancel' | 'progress', unknown>>
  return (
    typeof res.ndjson === 'function' && typeof res.cancel === 'function' && typeof res.progress === 'object'
  )
}

/** Releases the body of what a request gave instead of a `StreamResponse` (a plain `Response`, say). */
function release(value: unknown): void {
  const body = typeof value === 'object' && value !== null ? (value as { body?: unknown }).body : undefined
  if (body instanceof ReadableStream && !body.locked) body.cancel().catch(noop)
}

function notAStreamResponse(value: unknown, fromFunction: boolean): TypeError {
  const name = typeof value === 'object' && value !== null ? value.constructor?.name : undefined
  const what =
    value == null
      ? String(value)
      : name
        ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`
        : `a ${typeof value}`
  return new TypeError(
    `The stream store's request ${fromFunction ? 'function resolved to' : 'was'} ${what}, not a StreamResponse: use sluice(url, { signal }), or fromResponse(response) to wrap a Response fetched another way.`,
  )
}

/**
 * `isComplete` of one snapshot: it answers from that snapshot's data and open path, never from the parser's
 * present, so a published snapshot never changes its answer. A new function per snapshot, so that memoised
 * views depending on it see the change.
 */
function completeness(taken: {
  value: unknown
  openPath: readonly JsonPathSegment[] | undefined
}): (path?: readonly JsonPathSegment[]) => boolean {
  const { value, openPath } = taken
  return (path = []) => isCompleteIn(value, openPath, path)
}

function initial(
  status: 'idle' | 'connecting',
  isComplete: (path?: readonly JsonPathSegment[]) => boolean,
): Snapshot {
  const progress: Progress = { loaded: 0, items: 0, bytesPerSecond: 0, attempt: 1, state: 'connecting' }
  return Object.freeze({
    status,
    items: Object.freeze([]),
    dropped: 0,
    text: '',
    data: undefined,
    final: undefined,
    isComplete,
    progress: Object.freeze(progress),
    error: undefined,
    response: undefined,
  })
}

/** The consumer for the store's mode, with that consumer's own options. */
function consume(res: StreamResponse, options: StreamStoreOptions): AsyncIterable<unknown> {
  switch (options.as) {
    case 'ndjson': {
      const rest = options.onInvalid === undefined ? {} : { onInvalid: options.onInvalid }
      return options.schema === undefined ? res.ndjson(undefined, rest) : res.ndjson(options.schema, rest)
    }
    case 'events': {
      const { schema, json, until, onInvalid } = options
      const rest: EventsOptions = {
        ...(json === undefined ? {} : { json }),
        ...(until === undefined ? {} : { until }),
        ...(onInvalid === undefined ? {} : { onInvalid }),
      }
      return schema === undefined ? res.events(rest) : res.events({ ...rest, schema })
    }
    case 'lines':
      return res.lines(options.fatal === undefined ? {} : { fatal: options.fatal })
    case 'bytes':
      return res.bytes(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize })
    case 'text':
      return res.text(options.fatal === undefined ? {} : { fatal: options.fatal })
    case 'json': {
      const rest = {
        ...(options.throttleMs === undefined ? {} : { throttleMs: options.throttleMs }),
        ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
      }
      return options.schema === undefined ? res.json(undefined, rest) : res.json(options.schema, rest)
    }
  }
}

function checkOptions(options: StreamStoreOptions, where: string): void {
  // Needed, unlike a consumer's: `as` says what to read. A string or null is no set of options without it.
  must(options === undefined || isRecord(options), `${where}: its options`, 'an object', options, TypeError)
  const as: unknown = (options as { as?: unknown } | undefined)?.as
  if (typeof as !== 'string' || !Object.hasOwn(MODES, as)) {
    throw new TypeError(
      `${where} needs \`as\`, one of ${Object.keys(MODES)
        .map((m) => `'${m}'`)
        .join(', ')}; got ${describeValue(as)}.`,
    )
  }
  // A dead option is a type error, but plain JavaScript (or a cast) gets here: say so rather than ignore it.
  // `undefined` is absent, as everywhere in the options.
  const takes = `throttleMs ${MODES[as]}`.split(' ')
  for (const [name, value] of Object.entries(options)) {
    if (name !== 'as' && value !== undefined && !takes.includes(name)) {
      throw new TypeError(`${where}: the '${as}' mode takes no option ${name}; it takes ${takes.join(', ')}.`)
    }
  }
  // Every mode's `throttleMs`, and json's `maxDepth` (no other mode gets here with one), as json() checks them.
  checkJsonOptions(options as JsonOptions, where)
  const maxItems = 'maxItems' in options ? options.maxItems : undefined
  must(
    maxItems === undefined || (Number.isInteger(maxItems) && maxItems > 0),
    `${where}: maxItems`,
    'a positive integer',
    maxItems,
  )
  checkSchema('schema' in options ? options.schema : undefined, where)
  // The consumer's own options, checked as the consumer checks them: here, rather than in the first snapshot.
  if (options.as === 'ndjson') checkOnInvalid(options.onInvalid, where)
  if (options.as === 'events') checkEventsOptions(options, where)
  if (options.as === 'bytes' && options.chunkSize !== undefined) new Rechunker(options.chunkSize, where)
}
