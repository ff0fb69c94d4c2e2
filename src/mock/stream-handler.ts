// The only module of sluice/mock that imports msw, so that mockStream works where msw is not installed.
import { type HttpHandler, http, type Path } from 'msw'
import { release } from '../runtime/release.ts'
import { checkParts, cursorOf, cursorToRefuse, respond } from './mock-stream.ts'
import { type MockFaults, type MockStreamOptions, validateOptions } from './options.ts'
import { describeValue, type MockStreamParts } from './parts.ts'
import { pullToEvent, pullToRange } from './pull-to-range.ts'
import { readOnce } from './read-once.ts'

/**
 * The HTTP methods a {@link streamHandler} can answer, in either case; `'ALL'` answers every method.
 *
 * @example
 * streamHandler('post', '/report', rows)
 */
export type StreamHandlerMethod =
  | 'GET'
  | 'POST'
  | 'PUT'
  | 'PATCH'
  | 'DELETE'
  | 'HEAD'
  | 'OPTIONS'
  | 'ALL'
  | 'get'
  | 'post'
  | 'put'
  | 'patch'
  | 'delete'
  | 'head'
  | 'options'
  | 'all'

/**
 * What a {@link StreamSource} function is told about the request it answers.
 *
 * @example
 * streamHandler('GET', '/users/:id/feed', ({ params, attempt }) => feedOf(params.id, attempt))
 * streamHandler('GET', '/rows', ({ cursor }) => rowsAfter(cursor), { format: 'ndjson', cursor: true })
 */
export interface StreamSourceInfo {
  /** The intercepted request (read its body for POST). */
  request: Request
  /** The path parameters matched in the handler's URL. */
  params: Readonly<Record<string, string | readonly string[] | undefined>>
  /**
   * 1 for the first request this handler answers, 2 for the next, and so on; msw 3's `resetHandlers()` restarts it.
   */
  attempt: number
  /**
   * With `cursor: true`, the request's resume cursor, read as sluice/lambda reads it (the `cursorParam` query
   * parameter, then the `cursorHeader` header; `''` when it is empty); return the parts after it. `undefined`
   * when the request carries none, or without `cursor: true`. (For SSE, sluice/lambda tells a function source the
   * `Last-Event-ID` in its place when there is one: read it from `request`.)
   */
  cursor: string | undefined
}

/**
 * The body of a {@link streamHandler}: parts, or a function that returns them per request. Pass a function when
 * the parts are a generator or a stream, which can be read only once: a later request that would read them again
 * fails with a `TypeError` (a `500`) that says so.
 *
 * @example
 * const source: StreamSource = async ({ request }) => rowsFor(await request.json())
 */
export type StreamSource =
  | MockStreamParts
  | ((info: StreamSourceInfo) => MockStreamParts | Promise<MockStreamParts>)

/**
 * Options of {@link streamHandler}: those of {@link mockStream} (the request is passed for you) plus `faults`, to
 * break only some requests.
 *
 * @example
 * streamHandler('GET', url, parts, { range: true, faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 100 } : {}) })
 */
export interface StreamHandlerOptions extends Omit<MockStreamOptions, 'request' | 'signal'> {
  /**
   * The faults of one request, by attempt number (1-based, counted per handler as `attempt` is); what it returns
   * replaces the fault options given beside it. Return `undefined` or `{}` (or `false`, `null`) for a clean
   * response; anything else that is no object (a number meant as an offset) is a `TypeError`, answered `500`.
   * Default: the same faults for every request.
   */
  faults?: ((attempt: number, request: Request) => MockFaults | undefined) | undefined
}

const METHODS = {
  get: http.get,
  post: http.post,
  put: http.put,
  patch: http.patch,
  delete: http.delete,
  head: http.head,
  options: http.options,
  all: http.all,
} as const

const FAULT_OPTIONS = ['dropAfterBytes', 'stallAfterBytes', 'errorAfterBytes', 'error', 'truncate'] as const

/**
 * An msw request handler that answers with a {@link mockStream} body, the same under `msw/node` and in the
 * browser worker. `range`, `lastEventId` and `cursor` read the intercepted request, so a client's resume request
 * gets the right `206`, the events after its `Last-Event-ID`, or what a function source returns for its cursor
 * (`info.cursor`). Over async parts a `Range` or `Last-Event-ID` request is answered as sluice/lambda answers it:
 * the parts are pulled up to the requested byte or event first, so a start past the end gets a `416` that gives
 * the length, and an id no event has a `409`.
 *
 * Options are checked when the handler is created, and so are parts given as an array: a part that cannot be
 * sent throws a `TypeError` that names it. Parts that only come with a request (from a function, or an async
 * iterable) are checked as they are sent. A part that fails there cuts the body, and msw passes the client a bare
 * network error (`terminated` under msw/node, `network error` in the browser), so the reason is also printed with
 * `console.error`. Defaults: those of {@link mockStream}; no faults.
 *
 * @example
 * server.use(
 *   streamHandler('GET', 'https://fn.test/report', rows, {
 *     format: 'ndjson',
 *     range: true,
 *     faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 64 } : undefined),
 *   }),
 * )
 */
export function streamHandler(
  method: StreamHandlerMethod,
  url: Path,
  source: StreamSource,
  options: StreamHandlerOptions = {},
): HttpHandler {
  const key = typeof method === 'string' ? method.toLowerCase() : ''
  // hasOwn: 'constructor' and friends must not resolve through the prototype.
  const create = Object.hasOwn(METHODS, key) ? METHODS[key as keyof typeof METHODS] : undefined
  if (create === undefined) {
    throw new TypeError(
      `streamHandler: method must be one of ${Object.keys(METHODS).join(', ')} (any case), got ${describeValue(method)}.`,
    )
  }
  const context = { where: 'streamHandler', extraKeys: ['faults'], requestLater: true }
  const { faults, ...rest } = validateShape(options)
  if (faults !== undefined && typeof faults !== 'function') {
    throw new TypeError(
      `streamHandler: faults must be a function (attempt, request) => faults, got ${describeValue(faults)}.`,
    )
  }
  const checked = validateOptions(rest, context)
  if (typeof source !== 'function') checkParts(source, checked, 'streamHandler')
  // Parts given as they are serve every request: a generator or a stream can serve only one that reads them.
  const given = typeof source === 'function' ? undefined : readOnce(source, 'streamHandler')
  const clean: Record<string, unknown> = { ...rest }
  for (const key of FAULT_OPTIONS) delete clean[key]
  let attempts = 0

  const handler = create(url, async ({ request, params }) => {
    const attempt = ++attempts
    given?.check()
    const cursor = cursorOf({ ...checked, request })?.[0]
    const called = typeof source === 'function'
    const parts = called ? await source({ request, params, attempt, cursor }) : given!.parts
    try {
      const perRequest =
        faults === undefined ? rest : { ...clean, ...faultsOf(faults(attempt, request), attempt) }
      const valid = validateOptions({ ...perRequest, request }, { ...context, requestLater: false })
      // Parts given as they are that get the cursor's 409: nothing to pull for it.
      const pulled =
        !called && cursorToRefuse(valid) !== undefined
          ? { parts }
          : ((await pullToEvent(parts, valid)) ?? (await pullToRange(parts, valid, 'streamHandler')))
      const response = respond(pulled.parts, valid, {
        where: 'streamHandler',
        afterCursor: called,
        knownLength: pulled.length,
        // Parts given as they are serve every request; those of this request (a function's, or pulled) are its own.
        shared: pulled.parts === given?.parts,
        // msw relays a failed body as a bare network error (it cannot carry the error to the client): say why here.
        onPartError: (error) => {
          console.error(
            `${error.message} (The body of ${request.method} ${request.url} was cut there; msw passes the client only a network error.)`,
          )
        },
      })
      cancelIfAbandoned(request.signal, response)
      return response
    } catch (error) {
      // A `faults` that throws or answers a bad fault, async parts with `contentLength`: the parts a function
      // returned for this request are let go of, as an answer that reads none of them lets go of them.
      if (called) release(parts)
      throw error
    }
  })
  // msw 3's resetHandlers() calls reset() on the handlers it keeps, to clear the state they gathered (a generator
  // resolver's progress): a handler given to setupServer then counts attempts from 1 again in each test. (msw 2
  // has no reset().)
  const reset = handler.reset
  handler.reset = () => {
    attempts = 0
    reset?.call(handler)
  }
  return handler
}

/**
 * Cancels the body of a request the client aborted before msw read it: msw then neither reads nor cancels it, and
 * its parts (a stream a source function opened, a generator it started) would stay open. A body msw reads is
 * cancelled by msw when the client goes away.
 */
function cancelIfAbandoned(signal: AbortSignal, response: Response): void {
  const cancel = (): void => {
    if (response.body?.locked === false) response.body.cancel().catch(() => {})
  }
  if (signal.aborted) cancel()
  else signal.addEventListener('abort', cancel, { once: true })
}

/**
 * What `faults` returned for a request, or a `TypeError` that says what it must return: spread as it is, a number
 * (`attempt === 1 ? 64 : 0`, meant as an offset) or `true` would add no fault, and the test would pass unbroken.
 * `false` and `null` (`attempt === 1 && { … }`) are none, as `undefined` is.
 */
function faultsOf(chosen: unknown, attempt: number): MockFaults | undefined {
  if (chosen === undefined || chosen === null || chosen === false) return undefined
  if (typeof chosen === 'object' && !Array.isArray(chosen)) return chosen as MockFaults
  throw new TypeError(
    `streamHandler: faults(${attempt}, request) returned ${describeValue(chosen)}; return the faults of this request, such as { dropAfterBytes: 64 }, or undefined for none.`,
  )
}

function validateShape(options: unknown): StreamHandlerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`streamHandler: options must be an object, got ${describeValue(options)}.`)
  }
  return options as StreamHandlerOptions
}
