import { MAX_TIMER_MS } from './options.ts'
import { SmoothedRate } from './progress-rate.ts'
import { unref } from './unref.ts'

/** Where a logical stream is in its life. */
export type ProgressState = 'connecting' | 'streaming' | 'reconnecting' | 'done' | 'error' | 'cancelled'

/** A snapshot of a stream's progress; a new object every time, safe to keep. */
export interface Progress {
  /** Bytes received, monotonic across reconnects; replayed bytes are never counted twice. */
  loaded: number
  /** Expected bytes, from Content-Length, x-amzn-remapped-content-length, Content-Range or `options.total`. */
  total?: number
  /** 0..100 when `total` is known; exactly 100 once, at the end. */
  percent?: number
  /** Lines, records or events delivered so far. */
  items: number
  /** Smoothed transfer rate. */
  bytesPerSecond: number
  /** Estimated time to completion while `streaming`, when `total` is known and the rate is not zero. */
  etaMs?: number
  /** 1 + reconnects so far; after `resumeFrom`, the checkpoint's count + reconnects since (its request the first). */
  attempt: number
  state: ProgressState
}

/**
 * Called with each progress snapshot. A Promise it returns is not awaited, except at the final report: its
 * rejection fails the stream as a throw does (one that comes after the stream ended is dropped). At `error` the
 * stream keeps its own error, and the listener's is thrown on its own, as uncaught.
 */
export type ProgressListener = (progress: Progress) => void

export const FINAL: ReadonlySet<ProgressState> = new Set(['done', 'error', 'cancelled'])

/** What a response and its consumer report to: the tracker, or one branch's view of it after `tee()`. */
export interface ProgressSink {
  /** Lines, records or events delivered so far. */
  items: number
  item(): void
  /** At a final state, the listener's Promise (if it returned one), settled: what ends the stream awaits it. */
  setState(state: ProgressState): void | Promise<void>
  snapshot(): Progress
  /**
   * Internal, not exported: calls `listener` (synchronously, so it should only schedule work) whenever `state`
   * or `attempt` moves — a reconnect, a new attempt, back to streaming. Returns the function that stops it.
   */
  watch?: ((listener: () => void) => () => void) | undefined
}

/** Most changes counted between two reads of the clock while they come fast. */
const MAX_STRIDE = 1024

/**
 * Counts what passes through the byte path and the consumers, smooths the rate, and reports to a listener at
 * most every `interval` ms — but always on a state change or a new attempt, and once at the end. A change the
 * throttle holds back is reported when its interval is up, even if nothing follows it.
 */
export class ProgressTracker implements ProgressSink {
  loaded = 0
  attempt = 1
  state: ProgressState = 'connecting'
  total: number | undefined
  #items = 0
  readonly #listener: ProgressListener | undefined
  readonly #interval: number
  readonly #now: () => number
  readonly #rate: SmoothedRate
  #lastEmit = Number.NEGATIVE_INFINITY
  #lastCheck = Number.NEGATIVE_INFINITY
  #stride = 1
  #countdown = 1
  /** What the last report said, so that a trailing report is made only when something moved since. */
  #reportedLoaded = 0
  #reportedItems = 0
  /** The attempt the last state report announced: a new one is reported even when the state stays. */
  #announcedAttempt = 1
  #trailing: ReturnType<typeof setTimeout> | undefined
  /** What the listener threw in a trailing report, for the stream's next change or state to throw. */
  #failure: { error: unknown } | undefined
  #watchers: Set<() => void> | undefined
  /** The final report of an end nothing awaited (see `end()`), for what ends the stream next to await. */
  #unclaimed: Promise<void> | undefined

  // A monotonic clock: the system clock set back (NTP, a VM's sync) would stop reports and the rate for the jump.
  constructor(listener: ProgressListener | undefined, interval = 100, now = (): number => performance.now()) {
    this.#listener = listener
    this.#interval = interval
    this.#now = now
    this.#rate = new SmoothedRate(now())
  }

  /** Lines, records or events delivered so far. */
  get items(): number {
    return this.#items
  }

  /** Set from outside by a `tee()` branch that got ahead, or by a checkpoint's count before the stream starts. */
  set items(n: number) {
    this.#items = n
    // Before the stream starts there is nothing to report: its first state report carries the count.
    if (this.state !== 'connecting' && this.#listener !== undefined && this.#trailing === undefined)
      this.#trail(this.#now())
  }

  /** Counts `n` new bytes of the body. Hot path: one addition unless a listener is waiting for a report. */
  bytes(n: number): void {
    this.loaded += n
    if (this.#listener !== undefined && --this.#countdown <= 0) this.#tick()
  }

  /**
   * Counts one delivered item. Hotter than `bytes()` (a million records a second), so an item never reads the
   * clock nor reports by itself: the report on the next chunk's bytes carries it (the consumer reads that chunk
   * once its batch is out), or the trailing report does if the stream waits first. With `progressInterval: 0`
   * that reports each batch's count; a report per item made a listening `ndjson()` 1.4× slower, `lines()` 1.7×.
   */
  item(): void {
    this.#items++
    if (this.#listener !== undefined && this.#trailing === undefined) this.#trail(this.#now())
  }

  /** Moves to `state` and reports it, or a new `attempt` in the same state; a final state is never left. */
  setState(state: ProgressState): void | Promise<void> {
    if (FINAL.has(this.state)) {
      const told = this.#unclaimed
      this.#unclaimed = undefined
      return told
    }
    // The stream failed with its own error, which its caller must get: a listener's failure at this report (or
    // left by a trailing one) does not replace it, and is reported as uncaught, as a store subscriber's is.
    if (state === 'error')
      return new Promise<void>((resolve) => resolve(this.#move(state))).catch((error: unknown) =>
        queueMicrotask(() => {
          throw error
        }),
      )
    return this.#move(state)
  }

  #move(state: ProgressState): void | Promise<void> {
    // The listener threw in a trailing report: the stream fails with that error, so it does not end `done`.
    if (state === 'done' && this.#failure !== undefined) state = 'error'
    const moved = this.state !== state
    // A failed reconnect tries again still `reconnecting`, with only `attempt` moved: that is news too.
    if (!moved && this.attempt === this.#announcedAttempt) return
    const now = this.#now()
    if (moved) {
      // The rate counts from when the body starts to stream: the wait for headers moved no bytes, and a
      // checkpoint's restored count was not transferred now. A final state keeps the rate it ends with.
      if (this.state === 'connecting') this.#rate.restart(now, this.loaded)
      else this.#rate.sample(now, this.loaded)
      this.state = state
      if (FINAL.has(state) && this.#trailing !== undefined) {
        // Nothing is left to report after the end, and no timer may keep a process alive past it.
        clearTimeout(this.#trailing)
        this.#trailing = undefined
      }
    }
    this.#announcedAttempt = this.attempt
    const told = this.#emit(now)
    if (this.#watchers !== undefined) for (const watcher of [...this.#watchers]) watcher()
    if (this.#failure !== undefined) this.#rethrow()
    // Nothing follows the final report to fail with its rejection: the end waits for it (handled here, so that
    // an end that does not wait leaves no unhandled rejection).
    if (told !== undefined && FINAL.has(state)) {
      const settled = told.then(() => this.#rethrow())
      settled.catch(() => {})
      return settled
    }
  }

  /**
   * Moves to a final state from where nothing can wait (the user's signal aborted the stream, read or not): the
   * report's failure, thrown or rejected, is handed to what ends the stream next (a consumer's end, `cancel()`),
   * which awaits it as its own. Nothing may come: then it is dropped, never unhandled.
   */
  end(state: 'error' | 'cancelled'): void {
    // The executor runs at once, so the report is made now, and a throw in it rejects.
    this.#unclaimed = new Promise<void>((resolve) => resolve(this.setState(state)))
    this.#unclaimed.catch(() => {})
  }

  watch(listener: () => void): () => void {
    this.#watchers ??= new Set()
    this.#watchers.add(listener)
    return () => {
      this.#watchers?.delete(listener)
    }
  }

  /** A snapshot now. */
  snapshot(): Progress {
    return this.#snapshot(this.#now())
  }

  #snapshot(now: number): Progress {
    // Sampled whenever asked, so that a stall shows in the rate without waiting for a byte that ends it; only
    // while the body streams (or waits to again), since nothing is transferred before and the end keeps its rate.
    if (this.state === 'streaming' || this.state === 'reconnecting') this.#rate.sample(now, this.loaded)
    const rate = this.#rate.value
    const p: Progress = {
      loaded: this.loaded,
      items: this.#items,
      bytesPerSecond: Math.round(rate),
      attempt: this.attempt,
      state: this.state,
    }
    const total = this.total
    if (total !== undefined && this.loaded <= total) {
      p.total = total
      p.percent =
        this.state === 'done'
          ? 100
          : total === 0
            ? 0
            : Math.min(99.99, Math.floor((this.loaded / total) * 10000) / 100)
      // Only while bytes flow: a reconnect first waits a backoff or a Retry-After and may not succeed at all,
      // so no time to completion can be told then; a final state has none.
      if (p.bytesPerSecond > 0 && this.state === 'streaming')
        p.etaMs = Math.round(((total - this.loaded) / rate) * 1000)
    }
    return p
  }

  // Reading the clock on every chunk or item costs more than counting it when they come by the million: the
  // clock is read every `stride` changes, a stride that grows while checks come far more often than the
  // interval and shrinks back to 1 as soon as they do not. What a stride or the throttle leaves unreported is
  // the trailing report's: a stream that slows down or pauses after a burst still reports on time.
  #tick(): void {
    if (this.#failure !== undefined) this.#rethrow()
    const now = this.#now()
    const sinceCheck = now - this.#lastCheck
    this.#lastCheck = now
    if (this.#interval > 0) {
      if (sinceCheck * 8 < this.#interval) this.#stride = Math.min(this.#stride * 2, MAX_STRIDE)
      else if (sinceCheck * 2 > this.#interval) this.#stride = 1
    }
    this.#countdown = this.#stride
    const due = now - this.#lastEmit >= this.#interval
    if (due) this.#emit(now)
    if ((!due || this.#stride > 1) && this.#trailing === undefined) this.#trail(now)
  }

  /** Arms the one trailing report, for when the current interval is up; none after the end. */
  #trail(now: number): void {
    if (FINAL.has(this.state)) return
    // Past the longest delay a timer fires at once: an interval of `Infinity` would spin.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, this.#lastEmit + this.#interval - now))
    this.#trailing = setTimeout(this.#flush, delay)
    unref(this.#trailing)
  }

  readonly #flush = (): void => {
    this.#trailing = undefined
    if (FINAL.has(this.state)) return
    if (this.loaded !== this.#reportedLoaded || this.#items !== this.#reportedItems) {
      const now = this.#now()
      if (now - this.#lastEmit < this.#interval) {
        // A check reported meanwhile, so the stride keeps up: what came since waits for the end of its interval.
        this.#trail(now)
        return
      }
      try {
        this.#emit(now)
      } catch (error) {
        // Thrown in a timer it would be nobody's: the stream fails with it at its next change or state, as it
        // would have with a report made there.
        this.#failure = { error }
      }
    }
    // No check reported for a whole interval: changes come slowly or not at all, so the next one reads the clock.
    this.#stride = 1
    this.#countdown = 1
  }

  #rethrow(): void {
    const failure = this.#failure
    this.#failure = undefined
    if (failure !== undefined) throw failure.error
  }

  #emit(now: number): Promise<void> | undefined {
    this.#lastEmit = now
    const progress = this.#snapshot(now)
    this.#reportedLoaded = progress.loaded
    this.#reportedItems = progress.items
    const told = this.#listener?.(progress) as PromiseLike<void> | undefined
    // Not awaited (reports come from the byte path): a rejection fails the stream at its next change or state,
    // as a throw in a trailing report does; after the end there is none, and it is dropped.
    if (typeof told?.then === 'function')
      return Promise.resolve(told).then(undefined, (error: unknown) => {
        this.#failure ??= { error }
      })
  }
}
