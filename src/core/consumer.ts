/**
 * What every consumer returns: an `AsyncIterable` to `for await` over, also convertible to a web
 * `ReadableStream` (for `Response` bodies, `pipeTo`, frameworks that take streams). It can be iterated once.
 *
 * @example
 * const stream = res.ndjson().toReadableStream()
 */
export class Consumer<T> implements AsyncIterable<T> {
  readonly #start: () => AsyncIterator<T, void, undefined>
  readonly #cancel: ((reason?: unknown) => Promise<void>) | undefined
  #started = false

  /** `cancel` stops the source underneath, also while the generator waits on a read it cannot interrupt. */
  constructor(start: () => AsyncIterator<T, void, undefined>, cancel?: (reason?: unknown) => Promise<void>) {
    this.#start = start
    this.#cancel = cancel
  }

  /** Whether iteration has begun. */
  get started(): boolean {
    return this.#started
  }

  [Symbol.asyncIterator](): AsyncIterator<T, void, undefined> {
    if (this.#started) {
      throw new TypeError(
        'This consumer was already iterated; a response body can be read once. Use `res.tee()` to read it twice.',
      )
    }
    this.#started = true
    return this.#start()
  }

  /**
   * The same items as a `ReadableStream`, pulled on demand; cancelling the stream cancels the response body.
   *
   * @example
   * const response = new Response(res.bytes().toReadableStream())
   */
  toReadableStream(): ReadableStream<T> {
    let iterator: AsyncIterator<T, void, undefined> | undefined
    let cancelled = false
    return new ReadableStream<T>(
      {
        pull: async (controller) => {
          iterator ??= this[Symbol.asyncIterator]()
          const next = await iterator.next()
          if (cancelled) return
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
        cancel: async (reason) => {
          cancelled = true
          this.#started = true
          // An async generator handles return() only after a pending next() settles, and a silent body never
          // settles it: cancel the source first (with the caller's reason), which ends that read.
          await this.#cancel?.(reason)
          await iterator?.return?.(undefined)
        },
      },
      { highWaterMark: 0 },
    )
  }
}

/** What a `JsonConsumer` can say about the completeness of its latest snapshot. */
export interface JsonProgressInfo {
  isComplete(path: readonly (string | number)[]): boolean
  openPath(): readonly (string | number)[] | undefined
}

/**
 * What `res.json()` returns: partial snapshots to `for await` over, plus `final`, the complete document
 * validated by the schema (a failure rejects it). Awaiting `final` alone reads the body to its end.
 *
 * @example
 * const doc = res.json(Report)
 * for await (const partial of doc) render(partial)
 * const report = await doc.final
 */
export class JsonConsumer<P, T> extends Consumer<P> {
  /** The complete, validated document; rejects with the `ParseError`, `ValidationError` or transport error. */
  readonly final: Promise<T>
  readonly #info: () => JsonProgressInfo

  constructor(
    start: () => AsyncIterator<P, void, undefined>,
    final: Promise<T>,
    info: () => JsonProgressInfo,
    cancel?: (reason?: unknown) => Promise<void>,
  ) {
    super(start, cancel)
    let draining: Promise<void> | undefined
    const drain = (): Promise<void> => {
      draining ??= (async () => {
        for await (const _ of this) {
          // Snapshots nobody asked for: only the final value matters to this caller.
        }
      })().catch(() => {})
      return draining
    }
    // Without an iteration in progress, awaiting `final` drives the read itself.
    this.final = {
      // biome-ignore lint/suspicious/noThenProperty: a lazy thenable — the read starts when someone awaits it.
      then: (resolve, reject) => {
        if (!this.started) void drain()
        return final.then(resolve, reject)
      },
      catch: (reject) => {
        if (!this.started) void drain()
        return final.catch(reject)
      },
      finally: (fn) => {
        if (!this.started) void drain()
        return final.finally(fn)
      },
      [Symbol.toStringTag]: 'Promise',
    } as Promise<T>
    this.#info = info
  }

  /** Whether the value at `path` of the latest snapshot is finished (closing quote or bracket seen). */
  isComplete(path: readonly (string | number)[]): boolean {
    return this.#info().isComplete(path)
  }

  /**
   * The path of the innermost unfinished value of the latest snapshot (`undefined` when none is open): only
   * the values on this path — the root, then each prefix — are still growing; every other value is complete.
   */
  get openPath(): readonly (string | number)[] | undefined {
    return this.#info().openPath()
  }
}
