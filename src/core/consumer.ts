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
  readonly #bytes: ((chunk: Uint8Array, pending: () => number) => Uint8Array) | undefined
  #started = false

  /**
   * `cancel` stops the source underneath, also while the generator waits on a read it cannot interrupt. With
   * `bytes`, the items are bytes and `toReadableStream()` is a byte stream (BYOB readers), which takes over the
   * buffer of each chunk put in it: `bytes` says what to keep of a chunk (the chunk, or a copy), and is given
   * `pending`, the bytes of the chunks given so far that no read has returned yet (first with no bytes, once the
   * stream has claimed the body).
   */
  constructor(
    start: () => AsyncIterator<T, void, undefined>,
    cancel?: (reason?: unknown) => Promise<void>,
    bytes?: (chunk: Uint8Array, pending: () => number) => Uint8Array,
  ) {
    this.#start = start
    this.#cancel = cancel
    this.#bytes = bytes
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
    const bytes = this.#bytes
    // A byte stream's bytes that no read returned yet: what a BYOB read of ours left of a chunk (`held`), those in
    // the stream's own queue (what another's BYOB read left of one, a chunk enqueued when the read it was pulled
    // for went away, a wider element's odd bytes, what a reader released with a read pending had gathered), and
    // those `lent` to reads that did not return them yet (one waiting for its `min` holds them; a failure discards
    // them). Cancelled or failed, the stream empties its queue, unread: the last count stands.
    let held: Uint8Array<ArrayBuffer> = new Uint8Array()
    let c: ReadableByteStreamController | undefined
    let queued = 0
    let lent = 0
    let reading = 0
    // A reader of ours released while a read waited: that read, answered first, gives its bytes to the queue.
    let orphan = false
    const queue = (): number => {
      const now = cancelled || c?.desiredSize == null ? queued : -c.desiredSize
      // What left the queue went to a read. Another's (ours count their own) that waits for more holds it until
      // it returns: at most what its buffer has before where its request stands (none without a request, as a
      // default read is answered at once). Too many only makes a checkpoint stand early, which repeats bytes.
      if (!reading && now < queued) lent += Math.min(queued - now, c!.byobRequest?.view?.byteOffset ?? 0)
      queued = now
      return now
    }
    const pending = (): number => held.length + lent + queue()
    // One of both kinds: typed as the default kind, which takes the same methods.
    const source = {
      pull: async (controller: ReadableStreamDefaultController<T>) => {
        c = controller as unknown as ReadableByteStreamController
        // Counted as a read waits for more: a failure of the body, which empties the queue, may come next.
        queue()
        if (!iterator) {
          iterator = this[Symbol.asyncIterator]()
          // Told at the claim, not at the first chunk: a checkpoint taken while that is on its way stands before it.
          bytes?.(held, pending)
        }
        let next: IteratorResult<T, void> | undefined
        // A byte stream takes no empty chunk: read on.
        while (!held.length) {
          next = await iterator.next()
          if (cancelled) return
          if (!bytes || next.done) break
          held = bytes(next.value as Uint8Array, pending) as Uint8Array<ArrayBuffer>
        }
        const request = c.byobRequest
        const size = held.length
        const before = queue()
        if (next?.done) {
          c.close()
          // A BYOB read waiting for more is answered: done, with what it has.
          request?.respond(0)
        } else if (!bytes) controller.enqueue(next!.value)
        else {
          // A default read is given what is held: its own buffer (see `bytes`), which the stream takes over. So is
          // another's BYOB read (`new ReadableStreamBYOBReader()`'s), which the stream fills from its queue: its
          // request may be a released reader's, whose bytes `respond()` would give to the queue, where a default
          // read waiting would not see them until the next chunk (the body's end, never). So is a read after one
          // of ours that was released.
          if (!request || orphan || !reading) {
            c.enqueue(held)
            held = new Uint8Array()
            orphan = false
          } else {
            // A byte stream's reads are views of bytes.
            const view = request.view as Uint8Array
            const part = held.subarray(0, view.byteLength)
            view.set(part)
            held = held.subarray(part.length)
            request.respond(part.length)
          }
          // What reads took (given, less what went to the queue) is lent to a reader of ours until its reads
          // return it. Another's holds it while a BYOB request stands (it waits for more), else it returned it.
          const took = size - held.length - queue() + before
          lent = reading || c.byobRequest ? lent + took : 0
        }
      },
      cancel: async (reason: unknown) => {
        cancelled = true
        this.#started = true
        // An async generator handles return() only after a pending next() settles, and a silent body never
        // settles it: cancel the source first (with the caller's reason), which ends that read.
        await this.#cancel?.(reason)
        await iterator?.return?.(undefined)
      },
    }
    let stream: ReadableStream<T>
    try {
      stream = new ReadableStream<T>({ ...source, type: bytes && 'bytes' } as UnderlyingDefaultSource<T>, {
        highWaterMark: 0,
      })
    } catch {
      // A runtime without byte streams: a default one, whose reads are given whole chunks (its queue counted in bytes).
      return new ReadableStream<T>(source, {
        highWaterMark: 0,
        size: (chunk) => (chunk as Uint8Array).byteLength,
      })
    }
    // Whether a BYOB read returned its bytes, the controller cannot tell: once answered, the read that waits next
    // may be another in a buffer of the same size at the same place. Its reader can: the reads of a reader from
    // `getReader()` count what they return. (Another's, such as `tee()`'s, ask for one element: answered at once.)
    const getReader = stream.getReader
    stream.getReader = ((options?: ReadableStreamGetReaderOptions) => {
      const reader = getReader.call(stream, options) as {
        read(...args: unknown[]): Promise<{ value?: Uint8Array }>
        releaseLock(): void
      }
      const { read, releaseLock } = reader
      if (options?.mode) {
        reader.releaseLock = () => {
          orphan ||= reading > 0
          releaseLock.call(reader)
        }
        reader.read = (...args) => {
          reading++
          // What the read takes from the stream's queue is lent too.
          const before = queue()
          const step = read.apply(reader, args)
          lent += before - queue()
          // Before the caller's own reactions: it never sees bytes still counted as not returned.
          step.then(
            ({ value }) => {
              // Never below 0: what another's read left waiting (released) was not counted as lent.
              lent = Math.max(0, lent - (value?.byteLength ?? 0))
              reading--
            },
            () => reading--,
          )
          return step
        }
      }
      return reader
    }) as typeof stream.getReader
    return stream
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
  /**
   * The complete, validated document; rejects with the `ParseError`, `ValidationError` or transport error, or the
   * progress listener's failure at the final report. Settles after that report, as the loop's end does.
   */
  readonly final: Promise<T>
  readonly #info: () => JsonProgressInfo
  readonly #cancel: ((reason?: unknown) => Promise<void>) | undefined
  readonly #view: { quiet?: boolean }
  #draining: Drain<P> | undefined

  /**
   * `view.quiet` tells the snapshots' generator that nobody looks at them (only `final` is awaited): it then
   * builds one at most every so often, since each costs O(n) for an open array of n items.
   */
  constructor(
    start: () => AsyncIterator<P, void, undefined>,
    final: Promise<T>,
    info: () => JsonProgressInfo,
    cancel?: (reason?: unknown) => Promise<void>,
    view: { quiet?: boolean } = {},
  ) {
    let made = false
    super(
      () => {
        made = true
        return start()
      },
      cancel &&
        (async (reason) => {
          await cancel(reason)
          // Cancelled before its first pull, the stream made no generator, whose end settles `final`: one runs now,
          // over the cancelled source, which reads as ended.
          if (!made)
            await start()
              .next()
              .catch(() => {})
        }),
    )
    this.#cancel = cancel
    this.#view = view
    this.final = lazyFinal(final, () => {
      if (!this.started) this.#drain()
    })
    this.#info = info
  }

  /**
   * Iterates the snapshots. After `final` began reading on its own (`doc.final.then(save)` before the loop), the
   * loop takes that read over: it starts at the latest snapshot and misses none after it, nor the failure.
   */
  override [Symbol.asyncIterator](): AsyncIterator<P, void, undefined> {
    const drain = this.#draining
    if (drain === undefined || drain.handedOver) return this.#interruptible(super[Symbol.asyncIterator]())
    drain.handedOver = true
    this.#view.quiet = false
    return this.#interruptible({
      next: () => {
        const { latest, failure } = drain
        if (latest !== undefined) {
          drain.latest = undefined
          return Promise.resolve({ done: false, value: latest.value })
        }
        if (failure !== undefined) {
          drain.failure = undefined
          return Promise.reject(failure.error)
        }
        const inFlight = drain.inFlight
        drain.inFlight = undefined
        return inFlight ?? drain.iterator.next()
      },
      return: (value) => {
        drain.latest = undefined
        drain.failure = undefined
        return drain.iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined })
      },
    })
  }

  /**
   * The snapshots' generator handles `return()` only once a pending `next()` settles, which a silent body
   * never does: then the source is cancelled first, which ends that read, as every other consumer does. Before
   * the first `next()`, `return()` would end the generator without running it, and with it the end that settles
   * the stream, the connection and `final`: the source is cancelled, and the generator runs over it, which
   * reads as ended.
   */
  #interruptible(iterator: AsyncIterator<P, void, undefined>): AsyncIterator<P, void, undefined> {
    let pending = 0
    let begun = false
    const settled = (): void => {
      pending--
    }
    return {
      next: () => {
        pending++
        begun = true
        const step = iterator.next()
        step.then(settled, settled)
        return step
      },
      return: async (value) => {
        if (pending > 0 || !begun) await this.#cancel?.('The consumer stopped reading.')
        if (!begun) await iterator.next().catch(() => {})
        return (await iterator.return?.(value)) ?? { done: true, value: undefined }
      },
    }
  }

  /** Reads the snapshots while no loop does, so that `final` settles; a loop begun later takes the read over. */
  #drain(): void {
    const drain: Drain<P> = { iterator: super[Symbol.asyncIterator](), handedOver: false }
    this.#draining = drain
    this.#view.quiet = true
    void (async () => {
      while (!drain.handedOver) {
        const step = drain.iterator.next()
        drain.inFlight = step
        let result: IteratorResult<P, void>
        try {
          result = await step
        } catch (error) {
          if (!drain.handedOver) {
            drain.inFlight = undefined
            drain.failure = { error }
          }
          return
        }
        // A loop that took over while this step was in flight has it.
        if (drain.handedOver) return
        drain.inFlight = undefined
        if (result.done === true) return
        drain.latest = { value: result.value }
      }
    })()
  }

  /**
   * Whether the value at `path` of the latest snapshot is finished (closing quote or bracket seen); without a
   * path, the whole document, as the store's `isComplete()`.
   */
  isComplete(path: readonly (string | number)[] = []): boolean {
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

/** The read `final` started without a loop, and what it has seen that no loop has. */
interface Drain<P> {
  readonly iterator: AsyncIterator<P, void, undefined>
  handedOver: boolean
  /** The last snapshot read. */
  latest?: { value: P } | undefined
  /** The step in flight, which a loop taking over inherits. */
  inFlight?: Promise<IteratorResult<P, void>> | undefined
  failure?: { error: unknown } | undefined
}

/**
 * `final`: a promise (`instanceof Promise` holds) that starts reading the body when someone waits on it —
 * `await`, `then`, `catch` or `finally` all go through `then`.
 */
function lazyFinal<T>(final: Promise<T>, use: () => void): Promise<T> {
  const lazy = Object.create(Promise.prototype) as Promise<T>
  Object.defineProperty(lazy, 'then', {
    value: <A = T, B = never>(
      resolve?: ((value: T) => A | PromiseLike<A>) | null,
      reject?: ((reason: unknown) => B | PromiseLike<B>) | null,
    ): Promise<A | B> => {
      use()
      return final.then(resolve, reject)
    },
  })
  return lazy
}
