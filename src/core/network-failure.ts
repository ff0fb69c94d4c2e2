import { isNetworkError, isTimeoutError } from 'ky'

/**
 * Whether what a request threw is a failure of the network, which asking again may get past: a connection
 * refused, reset or lost (ky's `NetworkError`, or a runtime's error ky does not recognise), or no answer in time
 * (ky's `TimeoutError`). Anything else — an invalid header or URL, a bug of a `fetch` option or a hook, an
 * `HTTPError` of a ky call inside a hook — fails the same way every time.
 */
export function isNetworkFailure(error: unknown): boolean {
  if (isNetworkError(error) || isTimeoutError(error)) return true
  const { code, retryable } = (error ?? {}) as { code?: unknown; retryable?: unknown }
  // Bun rejects with a TypeError that names the system error (`ECONNREFUSED`; a Node API's codes are `ERR_…`).
  // workerd rejects a refused, reset or closed connection alike with `Error: Network connection lost.`, which
  // ky's list misses (no TypeError, and a period), and which says `retryable: true`.
  return (
    (error instanceof TypeError && /^E[A-Z]+$/.test(String(code))) ||
    (error instanceof Error && retryable === true)
  )
}
