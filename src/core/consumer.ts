/**
 * What every consumer returns: an `AsyncIterable` to `for await` over, also convertible to a web
 * `ReadableStream` (for `Response` bodies, `pipeTo`, frameworks that take streams). It can be iterated once.
 *
 * @example
 * const stream = res.ndjson().toReadableStream()
 */
export class Consumer<T> implements AsyncIterable<T> {
  readonly #start: () => AsyncGenerator<T, void, undefined>
  #started = false

  constructor(start: () => AsyncGenerator<T, void, undefined>) {
    this.#start = start
  }

  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
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
   * return new Response(res.bytes().toReadableStream())
   */
  toReadableStream(): ReadableStream<T> {
    let iterator: AsyncGenerator<T, void, undefined> | undefined
    return new ReadableStream<T>(
      {
        pull: async (controller) => {
          iterator ??= this[Symbol.asyncIterator]()
          const next = await iterator.next()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
        cancel: async () => {
          iterator ??= this[Symbol.asyncIterator]()
          await iterator.return(undefined)
        },
      },
      { highWaterMark: 0 },
    )
  }
}
