/** Where a logical stream is in its life. */
export type ProgressState = 'connecting' | 'streaming' | 'reconnecting' | 'done' | 'error' | 'cancelled'

/** A snapshot of a stream's progress; a new object every time, safe to keep. */
export interface Progress {
  /** Bytes delivered, monotonic across reconnects; replayed bytes are never counted twice. */
  loaded: number
  /** Expected bytes, from Content-Length, x-amzn-remapped-content-length, Content-Range or `options.total`. */
  total?: number
  /** 0..100 when `total` is known; exactly 100 once, at the end. */
  percent?: number
  /** Lines, records or events delivered so far. */
  items: number
  /** Smoothed transfer rate. */
  bytesPerSecond: number
  /** Estimated time to completion, when `total` is known and the rate is not zero. */
  etaMs?: number
  /** 1 + reconnects so far. */
  attempt: number
  state: ProgressState
}

/** Called with each progress snapshot. */
export type ProgressListener = (progress: Progress) => void

export const FINAL: ReadonlySet<ProgressState> = new Set(['done', 'error', 'cancelled'])

/** What a response and its consumer report to: the tracker, or one branch's view of it after `tee()`. */
export interface ProgressSink {
  /** Lines, records or events delivered so far. */
  items: number
  item(): void
  setState(state: ProgressState): void
  snapshot(): Progress
  /**
   * Internal, not exported: calls `listener` (synchronously, so it should only schedule work) whenever `state`
   * or `attempt` moves — a reconnect, a new attempt, back to streaming. Returns the function that stops it.
   */
  watch?: ((listener: () => void) => () => void) | undefined
}

/**
 * Counts what passes through the byte path and the consumers, smooths the rate, and reports to a listener at
 * most every `interval` ms — but always on a state change and once at the end.
 */
export class ProgressTracker implements ProgressSink {
  loaded = 0
  items = 0
  attempt = 1
  state: ProgressState = 'connecting'
  total: number | undefined
  readonly #listener: ProgressListener | undefined
  readonly #interval: number
  readonly #now: () => number
  #lastEmit = Number.NEGATIVE_INFINITY
  #lastCheck = Number.NEGATIVE_INFINITY
  #stride = 1
  #countdown = 1
  #rate = 0
  #sampleAt: number
  #sampleLoaded = 0
  #watchers: Set<() => void> | undefined
  #watchedAttempt = 1

  constructor(listener: ProgressListener | undefined, interval = 100, now: () => number = Date.now) {
    this.#listener = listener
    this.#interval = interval
    this.#now = now
    this.#sampleAt = now()
  }

  /** Counts `n` new bytes of the body. Hot path: one addition unless a listener is waiting for a report. */
  bytes(n: number): void {
    this.loaded += n
    if (this.#listener !== undefined && --this.#countdown <= 0) this.#tick()
  }

  item(): void {
    this.items++
  }

  /** Moves to `state` and reports it; a final state is reported once and never left. */
  setState(state: ProgressState): void {
    if (FINAL.has(this.state)) return
    if (this.state !== state) {
      this.state = state
      this.#emit(this.#now())
    } else if (this.attempt === this.#watchedAttempt) return
    // A failed reconnect tries again still `reconnecting`, with only `attempt` moved: watchers see that too.
    this.#watchedAttempt = this.attempt
    if (this.#watchers !== undefined) for (const watcher of [...this.#watchers]) watcher()
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
    // Without a listener nothing samples the rate as bytes pass: sample it when someone asks.
    if (this.#listener === undefined) this.#sample(this.#now())
    const p: Progress = {
      loaded: this.loaded,
      items: this.items,
      bytesPerSecond: Math.round(this.#rate),
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
      if (this.#rate > 0 && this.state !== 'done')
        p.etaMs = Math.round(((total - this.loaded) / this.#rate) * 1000)
    } else if (this.state === 'done' && total === undefined) {
      // Nothing to add: without a total there is no percent to complete.
    }
    return p
  }

  // Reading the clock on every chunk costs more than counting it when chunks come by the million: the clock is
  // read every `stride` chunks, a stride that grows while checks come far more often than the interval and
  // shrinks back to 1 as soon as they do not, so a slow stream still reports on time.
  #tick(): void {
    const now = this.#now()
    const sinceCheck = now - this.#lastCheck
    this.#lastCheck = now
    if (this.#interval > 0) {
      if (sinceCheck * 8 < this.#interval) this.#stride = Math.min(this.#stride * 2, 1024)
      else if (sinceCheck * 2 > this.#interval) this.#stride = 1
    }
    this.#countdown = this.#stride
    if (now - this.#lastEmit >= this.#interval) this.#emit(now)
  }

  #sample(now: number): void {
    const elapsed = now - this.#sampleAt
    if (elapsed < 50) return
    const instant = ((this.loaded - this.#sampleLoaded) * 1000) / elapsed
    // Exponential smoothing: a burst or a stall moves the estimate, but does not make it jump.
    this.#rate = this.#rate === 0 ? instant : this.#rate * 0.7 + instant * 0.3
    this.#sampleAt = now
    this.#sampleLoaded = this.loaded
  }

  #emit(now: number): void {
    this.#sample(now)
    this.#lastEmit = now
    this.#listener?.(this.snapshot())
  }
}
