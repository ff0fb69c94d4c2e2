import { concatBytes } from './concat-bytes.ts'
import { END_MARKER_HEADER } from './end-marker.ts'
import { excerptOf as quoted } from './errors/parse-error.ts'

/** The most of an error body an `HTTPError` shows. */
export const EXCERPT_BYTES = 1024
/** How long an error body is read: one that keeps streaming must not hold the error back. */
const ERROR_BODY_WAIT_MS = 1000
/** The most of an error body kept for ky's `error.data` and `beforeError` hooks. */
const ERROR_BODY_MAX_BYTES = 1024 * 1024

const excerpts = new WeakMap<Response, { bytes: Uint8Array[]; size: number; response: Response }>()

/**
 * The first bytes of `body`, at most `maxBytes`, as many as arrive within `ms` or before `signal` aborts; the
 * rest is cancelled. `complete` when the body ended in time. A body that fails to read leaves what arrived: it
 * is a courtesy.
 */
export async function readWithin(
  body: ReadableStream<Uint8Array>,
  ms: number,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let complete = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let stop: (() => void) | undefined
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined)
    stop = () => resolve(undefined)
    signal?.addEventListener('abort', stop, { once: true })
  })
  try {
    while (size < maxBytes && signal?.aborted !== true) {
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
    if (stop !== undefined) signal?.removeEventListener('abort', stop)
    if (!complete) reader.cancel().catch(() => {})
  }
  const bytes = concatBytes(chunks, size)
  return { bytes: bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes, complete }
}

/**
 * A non-2xx response whose body ends after a second (or 1 MiB), as a response of its own: ky reads an error
 * body whole for `error.data`, for as long as its `timeout`, and shows nothing of one that is still streaming
 * then. It is handed back at once (ky's timeout races the headers, not this read); its first KiB is kept beside
 * it as it passes, for the excerpt `HTTPError` shows (see {@link excerptFor}). Other responses pass through.
 */
export function boundErrorBody(response: Response): Response {
  if (response.ok || response.body === null) return response
  const reader = response.body.getReader()
  const seen = { bytes: [] as Uint8Array[], size: 0, response }
  let passed = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let done = false
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setTimeout(() => {
        // Time is up: what passed is the body; a read still pending ends with the cancel.
        if (done) return
        done = true
        reader.cancel().catch(() => {})
        controller.close()
      }, ERROR_BODY_WAIT_MS)
    },
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await reader.read()
      } catch {
        result = { done: true, value: undefined }
      }
      if (done) return
      if (result.done || passed >= ERROR_BODY_MAX_BYTES) {
        done = true
        clearTimeout(timer)
        if (!result.done) reader.cancel().catch(() => {})
        return controller.close()
      }
      const chunk = result.value.subarray(0, ERROR_BODY_MAX_BYTES - passed)
      passed += chunk.length
      if (seen.size < EXCERPT_BYTES) {
        seen.bytes.push(chunk.subarray(0, EXCERPT_BYTES - seen.size))
        seen.size += Math.min(chunk.length, EXCERPT_BYTES - seen.size)
      }
      controller.enqueue(chunk)
    },
    cancel(reason) {
      done = true
      clearTimeout(timer)
      return reader.cancel(reason)
    },
  })
  const { status, statusText, headers, url, redirected } = response
  const bounded = new Response(body, { status, statusText, headers })
  // A Response made in code has no URL of its own: the one it stands for keeps naming where it came from.
  Object.defineProperties(bounded, { url: { value: url }, redirected: { value: redirected } })
  excerpts.set(bounded, seen)
  return bounded
}

/** The excerpt of a response `boundErrorBody` made, as it arrived (not ky's parse of it). */
export function excerptFor(response: Response): string | undefined {
  const seen = excerpts.get(response)
  return seen === undefined ? undefined : excerptText(seen.response, concatBytes(seen.bytes, seen.size))
}

/** The excerpt of an error body `fromResponse` was given: what arrives within a second, at most 1 KiB. */
export async function excerptOf(response: Response, signal?: AbortSignal): Promise<string> {
  if (response.body === null) return ''
  const { bytes } = await readWithin(response.body, ERROR_BODY_WAIT_MS, EXCERPT_BYTES, signal)
  return excerptText(response, bytes)
}

/**
 * The excerpt as text, in the `charset` the response declares when TextDecoder knows it (as ky decodes
 * `error.data`), else UTF-8: a character cut at its end, as the 1 KiB bound cuts one, is left out (a stream decode
 * holds its bytes back; a U+FFFD would claim the server sent a bad byte), and the end-marker line of a body that
 * announces one is not the server's words.
 */
function excerptText(response: Response, bytes: Uint8Array): string {
  const text = decoderFor(response.headers.get('content-type')).decode(bytes, { stream: true })
  return response.headers.get(END_MARKER_HEADER) === 'marker' ? text.replace(MARKER_LINE, '') : text
}

/** A decoder for the `charset` of a `Content-Type`, read as ky reads it; UTF-8 for none, or one it does not know. */
function decoderFor(type: string | null): TextDecoder {
  try {
    return new TextDecoder(/;\s*charset\s*=\s*"?([^";,\s]+)/i.exec(type ?? '')?.[1])
  } catch {
    return new TextDecoder()
  }
}

const MARKER_LINE = /\n?\{"\$sluice":"end","bytes":\d+\}\n?$/

/**
 * The excerpt of the error page a request for the rest was refused with, for the error's `excerpt` and its
 * message (see {@link said}); `undefined` for a 2xx answer, whose body is no error page, or a page that says nothing.
 */
export async function pageExcerpt(response: Response, signal?: AbortSignal): Promise<string | undefined> {
  if (response.ok) return undefined
  const excerpt = await excerptOf(response, signal)
  return excerpt.trim() === '' ? undefined : excerpt
}

/** What the server said, for a message: `the server said: "…"`, its excerpt's first 200 characters, quoted. */
export function said(excerpt: string): string {
  const text = excerpt.trim()
  return `the server said: ${JSON.stringify(quoted(text, 200))}`
}
