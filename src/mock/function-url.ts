import { type HttpHandler, HttpResponse, http } from 'msw'
import { randomId } from '../runtime/ids.ts'
import {
  type AnyLambdaHandler,
  checkOptions,
  describeValue,
  discardUnread,
  type FunctionInfo,
  type FunctionUrlResponse,
  framingHeader,
  type Invocation,
  invoke,
  type Limits,
  readRequest,
  requestEvent,
  type Shaping,
} from '../runtime/index.ts'

/**
 * Options of {@link functionUrl}.
 *
 * @example
 * functionUrl('https://abc.lambda-url.eu-west-1.on.aws/', handler, { limits: { timeoutMs: 2_000 }, shaping: 'lambda' })
 */
export interface FunctionUrlOptions extends FunctionInfo {
  /**
   * Service limits: 200 MiB streamed responses, 6 MB buffered results, a 15-minute timeout and 6 MiB requests
   * (counted as their events' JSON, a binary body as base64) by default.
   */
  limits?: Limits | undefined
  /** `'lambda'` for the service's 6 MiB burst then 2 MiB/s, a custom `{ burstBytes, bytesPerSecond }`, or none (default). */
  shaping?: 'lambda' | Shaping | false | undefined
  /** Receives one line per failure of the function, as its logs would. Default: nothing is logged. */
  log?: ((message: string) => void) | undefined
  /** Called with every invocation as it starts, e.g. to await `invocation.finished`. */
  onInvocation?: ((invocation: Invocation) => void) | undefined
  /**
   * Aborting it ends the invocations still running, which otherwise run on after their client has gone, as on AWS
   * (up to the 15-minute timeout): they fail, and their response streams' writes fail, so that a handler that
   * pipes or awaits its writes stops and closes its source. Requests that come after get a network error, as
   * from a server that was shut down. Default: none.
   */
  signal?: AbortSignal | undefined
}

/**
 * An msw handler that answers like a function URL in `RESPONSE_STREAM` mode by running a Lambda handler in-process.
 *
 * `url` is the function URL: every method and every path under it is handled (a `RegExp` is tested against the
 * whole request URL). `handler` is what `awslambda.streamifyResponse` returned — use the `awslambda` exported
 * here, or install it with `installAwslambdaGlobal()` before importing a handler module that expects the global —
 * or a raw `(event, responseStream, context)` function, or a buffered `(event, context)` handler. The semantics are
 * those of `sluice/dev`: the payload-2.0 event from the intercepted request, the prelude turned into status,
 * headers and cookies, the header rewrites, limits, optional shaping, and a failure after the first byte that
 * reaches the client as a network error (`TypeError` from the body read) rather than a clean end.
 *
 * The handler's `responseStream` is a real `stream.Writable` on Node (so `pipeline` works) and a minimal writable
 * in browsers (`write`, `end`, `destroy`, `setContentType`, `'drain'`/`'finish'`/`'error'`/`'close'` events).
 *
 * @example
 * const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'application/x-ndjson' } })
 *   responseStream.write('{"n":1}\n')
 *   responseStream.end('{"n":2}\n')
 * })
 * const server = setupServer(functionUrl('https://abc.lambda-url.eu-west-1.on.aws/', handler))
 */
export function functionUrl(
  url: string | URL | RegExp,
  handler: AnyLambdaHandler | Promise<AnyLambdaHandler>,
  options: FunctionUrlOptions = {},
): HttpHandler {
  const { limits, shaping } = checkOptions('functionUrl', options, {
    signal: ['an AbortSignal', (signal) => signal instanceof AbortSignal],
  })
  const stop = stopSignal(options.signal)
  if (typeof handler !== 'function' && typeof (handler as Partial<Promise<unknown>>)?.then !== 'function') {
    throw notAHandler(handler)
  }
  const matches = matcher(url)
  return http.all(
    ({ request }) => matches(request.url),
    async ({ request }) => {
      if (stop?.aborted) return Response.error()
      const fn = await handler
      if (typeof fn !== 'function') throw notAHandler(fn)
      const requestId = randomId()
      const input = await readRequest(request, limits.maxRequestBytes)
      if (stop?.aborted) return Response.error()
      const event = requestEvent(input, requestId, limits.maxRequestBytes)
      if ('status' in event) return toHttpResponse(event)
      // The signal stops the invocations (`stop`); invoke's own `signal` fails one as an escaped error does.
      const invocation = invoke(fn, event, { ...options, limits, shaping, signal: undefined, stop })
      try {
        options.onInvocation?.(invocation)
        const response = await invocation.response
        discardIfAbandoned(request.signal, response)
        return toHttpResponse(response)
      } catch (error) {
        // msw answers the throw with a 500; the body nobody will read must not hold the handler up.
        discardUnread(invocation.response)
        throw error
      }
    },
  )
}

/**
 * The signal that stops the invocations once `signal` is aborted, its reason the error their writes then fail with,
 * which says what stopped them (the caller's reason as its cause).
 */
function stopSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (signal === undefined) return undefined
  const stop = new AbortController()
  const onAbort = () =>
    stop.abort(
      new Error(
        "functionUrl's signal was aborted while the function was running: its invocation failed, and its response stream takes no more writes.",
        { cause: signal.reason },
      ),
    )
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  return stop.signal
}

/**
 * A client that aborts before the function's first byte never reads the body msw is handed, so nothing would
 * cancel it and the handler would block on backpressure until its timeout; cancelling it keeps the handler
 * running with its writes discarded, as the service does. A body already being read is the reader's to cancel.
 */
function discardIfAbandoned(signal: AbortSignal, response: FunctionUrlResponse): void {
  if (signal.aborted) discardUnread(response)
  else signal.addEventListener('abort', () => discardUnread(response), { once: true })
}

function notAHandler(value: unknown): TypeError {
  return new TypeError(
    `functionUrl: handler must be a function (what awslambda.streamifyResponse returns) or a promise of one, got ${describeValue(value)}. For a module, pass its export: (await import('./fn.mjs')).handler.`,
  )
}

function matcher(url: string | URL | RegExp): (requestUrl: string) => boolean {
  if (url instanceof RegExp) {
    // test() of a global or sticky RegExp starts at its lastIndex, left after the previous match: every other
    // request would miss. A copy of our own, restarted each time, matches every request as msw's own paths do.
    const pattern = new RegExp(url)
    return (requestUrl) => {
      pattern.lastIndex = 0
      return pattern.test(requestUrl)
    }
  }
  const base = absolute(url)
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`
  return (requestUrl) => {
    const candidate = new URL(requestUrl)
    if (candidate.origin !== base.origin) return false
    return candidate.pathname === base.pathname || `${candidate.pathname}/`.startsWith(prefix)
  }
}

/** The URL constructor says only "Invalid URL": msw takes relative paths, so say that this one takes none. */
function absolute(url: string | URL): URL {
  try {
    return new URL(url)
  } catch {
    throw new TypeError(
      `functionUrl: url must be the function URL, absolute (https://…), as a string or URL, or a RegExp; got ${describeValue(url)}.`,
    )
  }
}

function toHttpResponse(response: FunctionUrlResponse): Response {
  const headers = new Headers()
  for (const [name, value] of response.headers) headers.append(name, value)
  // Framed as the service frames it: chunked when streamed, with its length when buffered (a 204 or 304 has no
  // body to frame). Marking a streamed response chunked is also what makes msw report a body that fails midway as
  // an error instead of a clean, truncated end; a buffered body is whole before it is sent, and cannot fail.
  const framing = framingHeader(response)
  if (framing !== undefined) headers.set(...framing)
  return new HttpResponse(headFirst(response.body), { status: response.status, headers })
}

/**
 * The body with an empty chunk in front. msw/node sends a mocked head together with the first chunk written,
 * so without it a head whose body fails (or times out) before its first byte never reaches the client and
 * `fetch()` rejects, where the function URL had sent the status and headers already. Writing an empty chunk
 * sends the head alone; it adds no byte to the body.
 */
function headFirst(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  // The body is locked only once msw reads: until then, discardUnread can still tell that nobody reads it.
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!reader) {
          reader = body.getReader()
          return controller.enqueue(new Uint8Array(0))
        }
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel: (reason) => (reader ? reader.cancel(reason) : body.cancel(reason)),
    },
    { highWaterMark: 0 },
  )
}

export type {
  AnyLambdaHandler,
  Awslambda,
  FunctionUrlEvent,
  FunctionUrlResult,
  Invocation,
  InvocationOutcome,
  LambdaContext,
  Limits,
  ResponseMetadata,
  ResponseStream,
  Shaping,
  StreamingHandler,
} from '../runtime/index.ts'
// What a test needs to write handlers for functionUrl without the real runtime; re-exported here so that
// sluice/mock's index needs one line for this feature.
export { awslambda, installAwslambdaGlobal } from '../runtime/index.ts'
