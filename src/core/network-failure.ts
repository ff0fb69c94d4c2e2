import { isNetworkError, isTimeoutError } from 'ky'
import { reasonOf } from './errors/network-error.ts'

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

/**
 * Whether `reason` is a browser's words for a failed request, which a request the server's CORS refuses gets too
 * (known by their start, short for size): Chromium's `Failed to fetch`, Safari's `Load failed`, Firefox's
 * `NetworkError when attempting to fetch resource.` Other runtimes have no CORS, nor words that start so (Node's
 * `fetch failed`, workerd's `Network connection lost`, Deno's `error sending request…`, Bun's `Unable to connect…`).
 * Not for a request to the page's own origin (`url`), which CORS does not govern.
 */
export const corsMayRefuse = (reason: string, url?: string): boolean =>
  /^(Fa|Lo|NetworkE)/.test(reason) && crossOrigin(url)

/**
 * Whether a request to `url` may be cross-origin: a page's request to its own origin is not (no CORS question
 * then, so naming CORS would send its author the wrong way); outside a page, or for a URL unknown, it may be.
 */
function crossOrigin(url: string | undefined): boolean {
  const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin
  if (typeof origin !== 'string' || origin === 'null' || url === undefined) return true
  return URL.parse(url, origin)?.origin !== origin
}

/**
 * How a request that continues a stream failed: ` failed (reason).` in the runtime's words, and after a browser's
 * (see `corsMayRefuse`) the headers the request added to the first one's (If-Range, Last-Event-ID, a cursor's),
 * which make a browser ask the server's CORS first (a preflight) where the first request needed no such question.
 * `hidden`: the body comes from another origin, and may have a coding CORS hides. A server that answers Range by
 * cutting the compressed bytes sends a piece the browser cannot decode, and it fails that request with the same
 * words (nothing else tells it apart, not even Resource Timing), so the message names that cause too. `url`: where
 * the request went; to the page's own origin, CORS is not named.
 */
export function resumeFailed(
  error: unknown,
  headers: Record<string, string> = {},
  hidden = false,
  url?: string,
): string {
  const reason = reasonOf(error)
  const added = Object.keys(headers).join(', ')
  const cors =
    added && corsMayRefuse(reason, url)
      ? ` Check the network, or that the server's CORS allows ${added} (Access-Control-Allow-Headers).`
      : ''
  const coding =
    cors && hidden && headers.range
      ? ' If its body is content-encoded (hidden by CORS), the server may be cutting the encoded bytes: serve Range requests without Content-Encoding, or expose it.'
      : ''
  return ` failed (${reason}).${cors}${coding}`
}
