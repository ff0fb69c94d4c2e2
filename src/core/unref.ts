/**
 * Lets a Node or Bun process exit while the timer is pending, for a stream abandoned before its end (neither read
 * to it nor cancelled): what the stream awaits meanwhile (a socket, a backoff's wait) holds the process itself.
 * Elsewhere timers are plain numbers, and there is nothing to do.
 */
export function unref(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function')
    timer.unref()
}
