import { concatBytes } from './concat-bytes.ts'
import { END_MARKER_HEADER } from './end-marker.ts'

/** The most of an error body an `HTTPError` shows. */
export const EXCERPT_BYTES = 1024
/** How long an error body is read: one that keeps streaming must not hold the error back. */
const ERROR_BODY_WAIT_MS = 1000
/** The most of an error body kept for ky's `error.data` and `beforeError` hooks. */
const ERROR_BODY_MAX_BYTES = 1024 * 1024

const excerpts = new WeakMap<Response, string>()

/**
 * The first bytes of `body`, at most `maxBytes`, as many as arrive within `ms`; the rest is cancelled.
 * `complete` when the body ended in time. A body that fails to read leaves what arrived: it is a courtesy.
 */
export async function readWithin(
  body: ReadableStream<Uint8Array>,
  ms: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let complete = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined)
  })
  try {
    while (size < maxBytes) {
      const result = await Promise.race([reader.read(), deadline])
      if (result === undefined) break
      if (result.done) {
        complete = true
        break
      }
      chunks.push(result.value)
      size += result.value.length
    }
  } catch {
    // What arrived stands.
  } finally {
    clearTimeout(timer)
    if (!complete) reader.cancel().catch(() => {})
  }
  const bytes = concatBytes(chunks, size)
  return { bytes: bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes, complete }
}

/**
 * A non-2xx response whose body was read for at most a second (and 1 MiB), as a response of its own: ky reads
 * an error body whole for `error.data`, for as long as its `timeout`, and shows nothing of one that is still
 * streaming then. The excerpt `HTTPError` shows is kept beside it (see {@link excerptFor}). Other responses
 * pass through untouched.
 */
export async function boundErrorBody(response: Response): Promise<Response> {
  if (response.ok || response.body === null) return response
  const { bytes } = await readWithin(response.body, ERROR_BODY_WAIT_MS, ERROR_BODY_MAX_BYTES)
  const { status, statusText, headers, url, redirected } = response
  // A copy on an ArrayBuffer of its own: what a Response body takes (a chunk may be a view of a shared one).
  const bounded = new Response(bytes.length === 0 ? null : new Uint8Array(bytes), {
    status,
    statusText,
    headers,
  })
  // A Response made in code has no URL of its own: the one it stands for keeps naming where it came from.
  Object.defineProperties(bounded, { url: { value: url }, redirected: { value: redirected } })
  excerpts.set(bounded, excerptText(response, bytes.subarray(0, EXCERPT_BYTES)))
  return bounded
}

/** The excerpt of a response `boundErrorBody` made, as it arrived (not ky's parse of it). */
export function excerptFor(response: Response): string | undefined {
  return excerpts.get(response)
}

/** The excerpt of an error body `fromResponse` was given: what arrives within a second, at most 1 KiB. */
export async function excerptOf(response: Response): Promise<string> {
  if (response.body === null) return ''
  return excerptText(response, (await readWithin(response.body, ERROR_BODY_WAIT_MS, EXCERPT_BYTES)).bytes)
}

/**
 * The excerpt as text: a character cut at its end decodes to U+FFFD, not to an error, and the end-marker line of
 * a body that announces one is not the server's words.
 */
function excerptText(response: Response, bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes)
  return response.headers.get(END_MARKER_HEADER) === 'marker' ? text.replace(MARKER_LINE, '') : text
}

const MARKER_LINE = /\n?\{"\$sluice":"end","bytes":\d+\}\n?$/

/** What a non-2xx answer said, for a message: `the server said: "…"`, or `''` when it said nothing. */
export async function saidBy(response: Response): Promise<string> {
  const excerpt = (await excerptOf(response)).trim()
  if (excerpt === '') return ''
  return `the server said: ${JSON.stringify(excerpt.length > 200 ? `${excerpt.slice(0, 200)}…` : excerpt)}`
}
