/** What the reading side of a {@link ResponseSink} gets next. */
export type SinkItem =
  | { type: 'chunk'; chunk: Uint8Array }
  | { type: 'end' }
  | { type: 'error'; error: Error }

/**
 * The bounded queue between a handler's response stream (the writing side) and whoever sends the response (the
 * reading side). A write is acknowledged once it fits under the high-water mark or once it is read, so a slow
 * reader holds the handler's `write()` callbacks back: that is how backpressure reaches the handler.
 */
export interface ResponseSink {
  /** Set through `responseStream.setContentType`; default `'application/octet-stream'`. */
  contentType: string
  /**
   * Set by the response stream when the function ended it under `HttpResponseStream.from` before any `write()`:
   * the runtime writes the prelude from `write()` only, so none went out (see http-response-stream.ts). Read to
   * tell the developer why the answer lost its status and headers, or why its prelude is invalid.
   */
  skippedPrelude: boolean
  /** Writing side: queues a chunk; `ack` runs when the handler may write again, with an error if it may not. */
  push(chunk: Uint8Array, ack: (error?: Error) => void): void
  /** Writing side: the handler ended its response. */
  end(): void
  /** Writing side: the handler failed; the reader gets the chunks queued before the error, then the error. */
  fail(error: Error): void
  /**
   * Writing side: the handler failed while some of its writes were still on their way here; the next `end()`
   * fails with `error` instead, so that the reader gets those writes, then the error.
   */
  failAtEnd(error: Error): void
  /** Reading side: the next chunk, the end or the error. */
  next(): Promise<SinkItem>
  /** Reading side: the client went away; drop what is queued and acknowledge every write from now on. */
  discard(): void
  /** Either side: the invocation is over (timeout, size cap); queued chunks are dropped and writes fail. */
  close(error: Error): void
  /** Resolves when the writing side is done: `undefined` after `end()`, the error after `fail()` or `close()`. */
  readonly settled: Promise<Error | undefined>
  /**
   * Resolves as soon as the reading side is bound to get an error, before it gets there: at `fail()`, `close()` or
   * `failAtEnd()`, while writes may still be queued or on their way.
   */
  readonly failing: Promise<void>
  /** Bytes the handler has written, read or not (those written after the client left included). */
  readonly written: number
  /** Bytes the reading side has taken. */
  readonly taken: number
}

interface Entry {
  chunk: Uint8Array
  ack: ((error?: Error) => void) | undefined
}

/**
 * Creates the queue between a handler and the response it streams; `onWrite` hears the running total of bytes
 * written (read or not) at every write.
 *
 * @example
 * const sink = createResponseSink(16 * 1024)
 * sink.push(bytes, () => console.log('may write again'))
 * const item = await sink.next()
 */
export function createResponseSink(
  highWaterMark: number,
  onWrite: (written: number) => void = () => {},
): ResponseSink {
  const queue: Entry[] = []
  let queuedBytes = 0
  let written = 0
  let taken = 0
  let tail: SinkItem | undefined
  let discarding = false
  let endError: Error | undefined
  let waiting: ((item: SinkItem) => void) | undefined
  let settle!: (error: Error | undefined) => void
  let isSettled = false
  const settled = new Promise<Error | undefined>((resolve) => {
    settle = (error) => {
      if (isSettled) return
      isSettled = true
      resolve(error)
    }
  })

  let doom!: () => void
  const failing = new Promise<void>((resolve) => {
    doom = resolve
  })

  const take = (): SinkItem | undefined => {
    const entry = queue.shift()
    if (entry) {
      queuedBytes -= entry.chunk.length
      taken += entry.chunk.length
      entry.ack?.()
      return { type: 'chunk', chunk: entry.chunk }
    }
    return tail
  }
  const wake = () => {
    if (!waiting) return
    const item = take()
    if (!item) return
    const resolve = waiting
    waiting = undefined
    resolve(item)
  }
  const failAll = (error: Error) => {
    for (const entry of queue.splice(0)) entry.ack?.(error)
    queuedBytes = 0
  }

  return {
    contentType: 'application/octet-stream',
    skippedPrelude: false,
    push(chunk, ack) {
      if (tail) {
        ack(tail.type === 'error' ? tail.error : new Error('The response stream was written after it ended.'))
        return
      }
      written += chunk.length
      onWrite(written)
      if (discarding) {
        ack()
        return
      }
      queuedBytes += chunk.length
      const fits = queuedBytes <= highWaterMark
      queue.push({ chunk, ack: fits ? undefined : ack })
      if (fits) ack()
      wake()
    },
    end() {
      if (endError) return this.fail(endError)
      if (tail) return
      tail = { type: 'end' }
      settle(undefined)
      wake()
    },
    fail(error) {
      if (tail) return
      tail = { type: 'error', error }
      settle(error)
      doom()
      wake()
    },
    failAtEnd(error) {
      endError = error
      if (!tail) doom()
    },
    next() {
      const item = take()
      if (item) return Promise.resolve(item)
      return new Promise((resolve) => {
        waiting = resolve
      })
    },
    discard() {
      discarding = true
      for (const entry of queue.splice(0)) entry.ack?.()
      queuedBytes = 0
    },
    close(error) {
      failAll(error)
      if (!tail) {
        tail = { type: 'error', error }
        settle(error)
        doom()
      }
      wake()
    },
    get settled() {
      return settled
    },
    get failing() {
      return failing
    },
    get written() {
      return written
    },
    get taken() {
      return taken
    },
  }
}
