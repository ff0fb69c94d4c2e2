const tick: unique symbol = Symbol('tick')

/**
 * What {@link whileIdle} writes while its source is silent: how long to wait, and what to write then.
 */
export interface IdleWriter<T> {
  /**
   * Milliseconds of silence before {@link IdleWriter.fill}, counted from now; `undefined` waits for the source
   * alone. Asked each time the loop starts to wait: at first, and after each item or fill it yields.
   */
  delay(): number | undefined
  /** What to yield once the delay has passed without an item. */
  fill(): T
  /** Told of each item of the source as it is yielded (not of fills). */
  wrote?(item: T): void
}

/**
 * Yields `source`'s items, and `writer.fill()` whenever the source has been silent for `writer.delay()`
 * milliseconds: the one timer loop behind heartbeats and padding. One pull of the source is in flight at a
 * time: a fill is written while it waits, never an extra item read ahead.
 */
export async function* whileIdle<T>(source: AsyncIterable<T>, writer: IdleWriter<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]()
  let finished = false
  try {
    let pending = iterator.next()
    for (;;) {
      const wait = writer.delay()
      let result: IteratorResult<T> | typeof tick
      if (wait === undefined) result = await pending
      else {
        let timer: ReturnType<typeof setTimeout> | undefined
        const idle = new Promise<typeof tick>((resolve) => {
          timer = setTimeout(resolve, wait, tick)
        })
        result = await Promise.race([pending, idle]).finally(() => clearTimeout(timer))
      }
      if (result === tick) {
        yield writer.fill()
        continue
      }
      if (result.done) {
        finished = true
        return
      }
      writer.wrote?.(result.value)
      yield result.value
      pending = iterator.next()
    }
  } finally {
    // Not awaited: the source may be stuck in the pull we started, and closing it must not wait for that.
    if (!finished) iterator.return?.()?.catch(() => {})
  }
}

/**
 * Yields `source`'s items, and `beat` whenever the source has been idle for `intervalMs`, so that proxies and
 * clients with idle timeouts see traffic while the producer thinks; the first beat after at most `firstMs`.
 * `intervalMs <= 0` disables the beat.
 */
export function withHeartbeat<T>(
  source: AsyncIterable<T>,
  intervalMs: number,
  beat: T,
  firstMs: number = intervalMs,
): AsyncIterable<T> {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return source
  let wait = Math.min(firstMs, intervalMs)
  return whileIdle(source, {
    delay: () => {
      const next = wait
      wait = intervalMs
      return next
    },
    fill: () => beat,
  })
}
