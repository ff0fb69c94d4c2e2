const tick: unique symbol = Symbol('tick')

/**
 * Yields `source`'s items, and `beat` whenever the source has been idle for `intervalMs`, so that proxies and
 * clients with idle timeouts see traffic while the producer thinks; the first beat after at most `firstMs`.
 * `intervalMs <= 0` disables the beat.
 */
export async function* withHeartbeat<T>(
  source: AsyncIterable<T>,
  intervalMs: number,
  beat: T,
  firstMs: number = intervalMs,
): AsyncGenerator<T> {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) {
    yield* source
    return
  }
  const iterator = source[Symbol.asyncIterator]()
  let finished = false
  try {
    // One pull is in flight at a time: a beat is written while it waits, never an extra item read ahead.
    let pending = iterator.next()
    let wait = Math.min(firstMs, intervalMs)
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const idle = new Promise<typeof tick>((resolve) => {
        timer = setTimeout(resolve, wait, tick)
      })
      wait = intervalMs
      const result = await Promise.race([pending, idle]).finally(() => clearTimeout(timer))
      if (result === tick) {
        yield beat
        continue
      }
      if (result.done) {
        finished = true
        return
      }
      yield result.value
      pending = iterator.next()
    }
  } finally {
    // Not awaited: the source may be stuck in the pull we started, and closing it must not wait for that.
    if (!finished) iterator.return?.()?.catch(() => {})
  }
}
