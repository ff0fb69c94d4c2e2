import { asError } from '../core/as-error.ts'
import { bufferedResponse, callBuffered, payloadBytes, payloadJson } from './buffered.ts'
import { buildContext, type FunctionInfo } from './context.ts'
import {
  type FunctionUrlResponse,
  isChunked,
  responseHeaders,
  serviceError,
} from './function-url-response.ts'
import { type Limits, resolveLimits } from './limits.ts'
import { createPreludeDecoder, PRELUDE_CONTENT_TYPE } from './prelude.ts'
import { createResponseSink, type ResponseSink } from './response-sink.ts'
import { createResponseStream } from './response-stream.ts'
import { createShaper, resolveShaping, type Shaping } from './shaping.ts'
import { highWaterMarkOf, isStreamingHandler } from './streamify.ts'
import type { AnyLambdaHandler, FunctionUrlEvent } from './types.ts'

/** The shortest wait worth a timer when shaping; shorter ones accumulate until they are worth one. */
const MIN_SLEEP_MS = 4

// The runtime writes the prelude of HttpResponseStream.from from write() only (http-response-stream.ts): what a
// function that ended its stream without a write is told, in its log or in the 502's message.
const SKIPPED_PRELUDE_EMPTY =
  "the function ended its response stream after awslambda.HttpResponseStream.from() without a write, so its status, headers and cookies were not sent: the prelude is sent by the first write(), and the service answered 200 with default headers. Call write(chunk) (write('') for an empty body) then end()."
// What a timeout tells a handler of (event, context, callback) that returned without calling its callback.
const UNCALLED_CALLBACK =
  'The handler takes a callback (event, context, callback) and returned without calling it: its result is what it passes to callback(null, result), not what it returns. Call the callback, or make it an async function of (event, context) that returns its result (Node.js 24 and later runtimes refuse callback handlers).'
const SKIPPED_PRELUDE_CHUNK =
  'The prelude is sent by the first write(); end(chunk) after HttpResponseStream.from() without a write sends no prelude — call write(chunk) then end().'

/**
 * How to run one invocation: the function's identity, the service limits and the bandwidth shaping.
 *
 * @example
 * invoke(handler, event, { limits: { timeoutMs: 1000 }, shaping: 'lambda' })
 */
export interface InvokeOptions extends FunctionInfo {
  /** Service limits; see {@link Limits} for the defaults. */
  limits?: Limits | undefined
  /** `'lambda'` for the 6 MiB burst then 2 MiB/s of the service, a custom {@link Shaping}, or none (the default). */
  shaping?: 'lambda' | Shaping | false | undefined
  /**
   * Receives a line whenever the function fails, as its logs would, and a note when it runs buffered or ends its
   * stream after `HttpResponseStream.from` without a write (its status and headers are then lost). Default:
   * nothing is logged.
   */
  log?: ((message: string) => void) | undefined
  /**
   * Fails the invocation with `signal.reason`, as if the handler had thrown it: `sluice/dev` aborts it for an error
   * that escaped the handler (an unhandled rejection, an uncaught exception). The handler itself runs on.
   */
  signal?: AbortSignal | undefined
  /**
   * Ends the invocation with `stop.reason`, as a timeout ends it: it fails, what the handler has queued is dropped,
   * and its response stream's writes fail from then on (those waiting on backpressure too), so that a `pipeline`
   * or a loop that awaits its writes stops and closes its source. The emulators stop their invocations with it when
   * they are closed (`serve().close({ running: 'abort' })`, `functionUrl`'s `signal`).
   */
  stop?: AbortSignal | undefined
  /**
   * How messages name the timeout setting, which they tell to raise: `'limits.timeoutMs'` (the default) for
   * library users, `'--timeout'` for `sluice dev`.
   */
  timeoutSetting?: string | undefined
}

/** How an invocation ended, seen from the function's side (the client may have gone long before). */
export interface InvocationOutcome {
  state: 'succeeded' | 'failed' | 'timed-out'
  /** Why it failed or timed out. */
  error?: Error
}

/** One running invocation. */
export interface Invocation {
  requestId: string
  /** Resolves when the status and headers are known: at the function's first byte, or with a service error. */
  response: Promise<FunctionUrlResponse>
  /**
   * Resolves when the function is done, whatever happened to the client: a body over `limits.maxResponseBytes`
   * fails it at the write that crossed the cap (a failure of the handler after that write does not replace it),
   * whether the client read that far or not, and whether the cap was crossed before or after the handler returned.
   */
  finished: Promise<InvocationOutcome>
}

/**
 * Runs a handler for one request's event (`buildEvent`; `requestEvent` also holds it to
 * `limits.maxRequestBytes`) with the semantics of a function URL in `RESPONSE_STREAM` mode.
 *
 * A streaming handler gets a `responseStream`; its prelude (from `HttpResponseStream.from`) becomes the status,
 * headers and cookies; an error or timeout before its first byte becomes a 502 with a JSON body, and after it an
 * error of the body stream (the connection must then be cut); an empty write is no first byte. A HEAD request, a
 * 204 and a 304 get a response complete with its head, the function's writes discarded. Cancelling the body does
 * not stop the handler: its writes are then discarded. A handler that was not wrapped in `streamifyResponse` runs
 * buffered, as the service runs it, and its result becomes the response as a `BUFFERED` function URL reads it
 * (`bufferedResponse`; a real `RESPONSE_STREAM` URL sends the result's JSON as a 200 body instead), with its
 * `length` known so that it is sent with a `Content-Length`, not chunked: a 502 `Function.ResponseSizeTooLarge`
 * instead when the result, as JSON, is over `limits.maxBufferedResponseBytes`.
 *
 * @example
 * const invocation = invoke(handler, event)
 * const { status, headers, body } = await invocation.response
 */
export function invoke(
  handler: AnyLambdaHandler,
  event: FunctionUrlEvent,
  options: InvokeOptions = {},
): Invocation {
  const limits = resolveLimits(options.limits, 'invoke')
  const shaping = resolveShaping(options.shaping, 'invoke')
  const { requestId } = event.requestContext
  const log = options.log ?? (() => {})
  const deadline = Date.now() + limits.timeoutMs
  const context = buildContext({ ...options, awsRequestId: requestId, deadline })

  let finish!: (outcome: InvocationOutcome) => void
  const finished = new Promise<InvocationOutcome>((resolve) => {
    finish = resolve
  })
  let over = false
  const settle = (outcome: InvocationOutcome) => {
    if (over) return
    over = true
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
    options.stop?.removeEventListener('abort', onStop)
    if (outcome.error) log(`${requestId} ${outcome.state}: ${outcome.error.message}`)
    finish(outcome)
  }
  const seconds = (limits.timeoutMs / 1000).toFixed(2)
  const setting = options.timeoutSetting ?? 'limits.timeoutMs'
  const timeoutError = () =>
    new Error(`Task timed out after ${seconds} seconds (${setting} is ${limits.timeoutMs}).`)
  // What a timeout says to do, from what the handler had done by then: returned, ended its stream.
  const withHint = (error: Error, returned: boolean, ended: boolean): Error => {
    const hint = returned
      ? ended
        ? undefined
        : 'The handler returned without ending the response stream: call responseStream.end() once the body is written (or await pipeline(…, responseStream)).'
      : ended
        ? `The handler ended the response stream but had not returned: the invocation lasts until its promise settles, so let it return once the body is sent, or raise ${setting}.`
        : `The handler was still running: make it faster, or raise ${setting}.`
    return hint === undefined ? error : new Error(`${error.message} ${hint}`)
  }
  let onTimeout: () => void = () => {}
  let abort: (reason: unknown) => void = () => {}
  let stop: (error: Error) => void = () => {}
  const onAbort = () => abort(options.signal?.reason)
  const onStop = () => stop(asError(options.stop?.reason))
  // `timeoutMs: Infinity` means no timeout (resolveLimits caps finite values at what a timer can wait).
  const timer =
    limits.timeoutMs === Number.POSITIVE_INFINITY
      ? undefined
      : setTimeout(() => onTimeout(), limits.timeoutMs)

  options.signal?.addEventListener('abort', onAbort, { once: true })
  options.stop?.addEventListener('abort', onStop, { once: true })

  if (!isStreamingHandler(handler)) {
    const response = runBuffered()
    return { requestId, response, finished }
  }

  const sink = createResponseSink(16 * 1024, () => checkCap())
  const responseStream = createResponseStream(sink, { highWaterMark: highWaterMarkOf(handler) })
  let handlerDone = false
  let streamEnded = false
  // Where the body starts among the bytes the handler wrote (after its prelude), once the head is decoded: commit()
  // may still refuse the prelude after the handler has returned and ended its stream (a quick handler does both
  // before the prelude is decoded), so success waits for the head too.
  let bodyStart: number | undefined
  // The size cap holds on what the function wrote, as the service counts what it sends, read by the client or
  // not: a body over the cap fails the invocation when the handler is done, without waiting for the reader, who
  // gets the cut when it reaches the cap (bodyStream).
  const succeedWhenDone = () => {
    if (!handlerDone || !streamEnded || bodyStart === undefined) return
    const over = sink.written - bodyStart > limits.maxResponseBytes
    settle(over ? { state: 'failed', error: capError() } : { state: 'succeeded' })
  }
  // The first write past the cap fails the invocation there, in the order the function did things (a failure it
  // meets later does not replace it), not when a reader reaches that write: the outcome must not depend on the
  // client's pace. The reader still gets the bytes before the cap, then the cut (bodyStream).
  const checkCap = () => {
    if (bodyStart !== undefined && sink.written - bodyStart > limits.maxResponseBytes) {
      settle({ state: 'failed', error: capError() })
    }
  }
  const headAt = (start: number) => {
    bodyStart = start
    checkCap()
    succeedWhenDone()
  }
  onTimeout = () => {
    const error = timeoutError()
    settle({ state: 'timed-out', error: withHint(error, handlerDone, responseStream.writableEnded) })
    // A response the handler ended is complete, as the service has it all: the client reads it to its end.
    if (!streamEnded) sink.close(error)
  }
  void sink.settled.then((error) => {
    if (error) settle({ state: 'failed', error })
    streamEnded = true
    succeedWhenDone()
  })
  const fail = (error: unknown) => {
    const failure = asError(error)
    settle({ state: 'failed', error: failure })
    sink.fail(failure)
  }
  // When the handler throws or rejects, the runtime ends its request to the service, so every byte the handler
  // wrote still goes out before the error (sent in trailers, which cut the client's connection): the writes that
  // Node's stream still holds, waiting for the client to read, are flushed into the sink by ending the stream.
  // A stream with nothing held fails at once, before its prelude is written, as the runtime's `end()` writes none;
  // one the handler had ended goes out whole, as its end was on its way before the failure.
  const failedByHandler = (error: unknown) => {
    if (responseStream.destroyed) return fail(error)
    const failure = asError(error)
    if (responseStream.writableEnded) return settle({ state: 'failed', error: failure })
    const held = (responseStream as { writableLength?: number }).writableLength ?? 0
    if (held === 0) return fail(failure)
    settle({ state: 'failed', error: failure })
    sink.failAtEnd(failure)
    responseStream.end()
  }
  abort = fail
  stop = (error) => {
    settle({ state: 'failed', error })
    sink.close(error)
  }
  if (options.signal?.aborted) onAbort()
  if (options.stop?.aborted) onStop()
  try {
    const result = (handler as unknown as (...args: unknown[]) => unknown)(event, responseStream, context)
    Promise.resolve(result).then(() => {
      handlerDone = true
      succeedWhenDone()
    }, failedByHandler)
  } catch (error) {
    failedByHandler(error)
  }

  return { requestId, response: commit(), finished }

  async function commit(): Promise<FunctionUrlResponse> {
    let item = await sink.next()
    if (sink.contentType !== PRELUDE_CONTENT_TYPE) {
      // An empty write puts no byte on the wire (the runtime's chunked request sends nothing for it), so it does
      // not start the response: a failure after it is still one before the first byte, answered with a 502.
      while (item.type === 'chunk' && item.chunk.length === 0) item = await sink.next()
      if (item.type === 'error') return failedBeforeFirstByte(item.error)
      const headers = responseHeaders([['content-type', sink.contentType]], [], requestId)
      headAt(0)
      return respond(200, headers, item.type === 'chunk' ? item.chunk : undefined, item.type === 'end')
    }
    const decoder = createPreludeDecoder()
    let empty = true
    for (;;) {
      if (item.type === 'error') return failedBeforeFirstByte(item.error)
      if (item.type === 'end' && empty) {
        // A body under the prelude content type that ends without a byte has no prelude to read: the service
        // answers 200 with none of a prelude's status and headers. That is what the real runtime sends for
        // HttpResponseStream.from() then end() with no write (aws-lambda-nodejs-runtime-interface-client issue #97:
        // "a 200 with no custom response headers"), and so what the emulators send for it (response-stream.ts).
        if (sink.skippedPrelude) log(`${requestId} ${SKIPPED_PRELUDE_EMPTY}`)
        headAt(0)
        return respond(200, responseHeaders([], [], requestId), undefined, true)
      }
      if (item.type === 'chunk' && item.chunk.length > 0) empty = false
      const step = item.type === 'chunk' ? decoder.push(item.chunk) : decoder.end()
      if (step.state === 'invalid') {
        // A body the function sent with end(chunk) alone under HttpResponseStream.from has no prelude at all.
        const advice = sink.skippedPrelude
          ? SKIPPED_PRELUDE_CHUNK
          : 'Write it with awslambda.HttpResponseStream.from(responseStream, { statusCode, headers, cookies }) before the body.'
        const message = `The function's response prelude is invalid: ${step.reason}. ${advice}`
        const error = new Error(message)
        settle({ state: 'failed', error })
        sink.close(error)
        return serviceError(502, 'InvalidPrelude', message, requestId)
      }
      if (step.state === 'done') {
        const { statusCode, headers, cookies } = step.prelude
        headAt(sink.taken - step.rest.length)
        return respond(
          statusCode,
          responseHeaders(headers, cookies, requestId),
          step.rest,
          item.type === 'end',
        )
      }
      item = await sink.next()
    }
  }

  function respond(
    status: number,
    headers: Array<[string, string]>,
    first: Uint8Array | undefined,
    ended: boolean,
  ): FunctionUrlResponse {
    if (event.requestContext.http.method === 'HEAD' || !isChunked(status)) {
      // A HEAD answer, a 204 and a 304 are complete with their head: what the function writes next, and how it
      // ends, cannot reach the client, so the head goes alone, at once. The function runs on with its writes
      // discarded (the size cap still counts them), as for a client that left.
      sink.discard()
      return { status, headers, body: new ReadableStream({ start: (controller) => controller.close() }) }
    }
    return { status, headers, body: bodyStream(sink, first, ended), failing: sink.failing }
  }

  function failedBeforeFirstByte(error: Error): FunctionUrlResponse {
    const timedOut = error.message.startsWith('Task timed out')
    const message = timedOut
      ? `The function timed out before it sent a response: ${withHint(error, handlerDone, responseStream.writableEnded).message}`
      : `The function failed before it sent a response: ${error.message}`
    return serviceError(502, timedOut ? 'Sandbox.Timedout' : 'Unhandled', message, requestId)
  }

  function bodyStream(
    source: ResponseSink,
    first: Uint8Array | undefined,
    ended: boolean,
  ): ReadableStream<Uint8Array> {
    let pending = first !== undefined && first.length > 0 ? first : undefined
    let sent = 0
    let cancelled = false
    const shaper = shaping && createShaper(shaping)
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          for (;;) {
            let chunk = pending
            pending = undefined
            if (!chunk) {
              if (ended) return controller.close()
              const item = await source.next()
              if (item.type === 'end') return controller.close()
              if (item.type === 'error') return controller.error(item.error)
              chunk = item.chunk
            }
            if (chunk.length === 0) continue
            if (sent + chunk.length > limits.maxResponseBytes) {
              const error = capError()
              settle({ state: 'failed', error })
              source.close(error)
              return controller.error(error)
            }
            sent += chunk.length
            if (!shaper) return controller.enqueue(chunk)
            let offset = 0
            // A monotonic clock: a system clock set back would stall the body until it caught up.
            for (const piece of shaper.plan(chunk.length, performance.now())) {
              const wait = piece.atMs - performance.now()
              // Timers cannot sleep less than a millisecond: small writes run ahead of the schedule until the
              // debt is worth a real sleep, which keeps the average rate right for any write size.
              if (wait >= MIN_SLEEP_MS) await new Promise((resolve) => setTimeout(resolve, wait))
              if (cancelled) return
              controller.enqueue(chunk.subarray(offset, offset + piece.length))
              offset += piece.length
            }
            return
          }
        },
        cancel() {
          // A client that goes away does not stop the function (a reconnect is a new invocation): keep it running
          // and throw its output away.
          cancelled = true
          source.discard()
        },
      },
      { highWaterMark: 0 },
    )
  }

  function capError(): Error {
    return new Error(
      `The response exceeded limits.maxResponseBytes (${limits.maxResponseBytes} bytes), so the connection was cut.`,
    )
  }

  async function runBuffered(): Promise<FunctionUrlResponse> {
    log(
      `${requestId} the handler is not wrapped in awslambda.streamifyResponse: running it buffered and sending its result in one piece, as a BUFFERED function URL does (behind a RESPONSE_STREAM URL, AWS sends the result's JSON, statusCode and all, as the body of a 200: deploy it behind a BUFFERED URL, or wrap it).`,
    )
    // A function of (event, context, callback) that returned without calling it is not still running: it is waiting.
    let awaitsCallback = false
    const stopped = new Promise<never>((_, reject) => {
      onTimeout = () =>
        reject(
          awaitsCallback
            ? new Error(`${timeoutError().message} ${UNCALLED_CALLBACK}`)
            : withHint(timeoutError(), false, false),
        )
      abort = reject
      stop = reject
    })
    if (options.signal?.aborted) onAbort()
    if (options.stop?.aborted) onStop()
    let result: unknown
    try {
      const called = callBuffered(handler, event, context, () => {
        awaitsCallback = true
      })
      result = await Promise.race([called, stopped])
    } catch (error) {
      const failure = asError(error)
      const isTimeout = failure.message.startsWith('Task timed out')
      settle({ state: isTimeout ? 'timed-out' : 'failed', error: failure })
      return serviceError(
        502,
        isTimeout ? 'Sandbox.Timedout' : 'Unhandled',
        isTimeout
          ? `The function timed out before it sent a response: ${failure.message}`
          : `The function failed before it sent a response: ${failure.message}`,
        requestId,
      )
    }
    // The runtime sends the result as JSON and the service measures that, before the function URL reads it: an
    // oversized result is refused whatever its shape, and a result that cannot be sent fails as the runtime fails.
    let json: string | undefined
    try {
      json = payloadJson(result)
    } catch (error) {
      const failure = asError(error)
      settle({ state: 'failed', error: failure })
      return serviceError(
        502,
        'Unhandled',
        `The function failed before it sent a response: ${failure.message}`,
        requestId,
      )
    }
    const size = payloadBytes(json)
    if (size > limits.maxBufferedResponseBytes) {
      const message = `Response payload size (${size} bytes) exceeded maximum allowed payload size (${limits.maxBufferedResponseBytes} bytes, limits.maxBufferedResponseBytes). A handler that is not wrapped in awslambda.streamifyResponse has its result sent as JSON, all of it counted: return less, or wrap the handler in awslambda.streamifyResponse to stream up to 200 MB.`
      settle({ state: 'failed', error: new Error(message) })
      return serviceError(502, 'Function.ResponseSizeTooLarge', message, requestId)
    }
    // The function URL reads the JSON the runtime sent, not the handler's object: an undefined header value is
    // gone, a toJSON has run, an undefined result is the null sent for it. A result with no JSON text keeps its own.
    const sent = json === undefined ? result : JSON.parse(json)
    const response = bufferedResponse(sent, requestId)
    if (typeof response === 'string') {
      const message = `The function returned an invalid response: ${response}. Return { statusCode, headers, body } or any JSON value.`
      settle({ state: 'failed', error: new Error(message) })
      return serviceError(502, 'InvalidResponse', message, requestId)
    }
    settle({ state: 'succeeded' })
    if (event.requestContext.http.method === 'HEAD' || !isChunked(response.status)) {
      // No body goes with a HEAD answer, a 204 or a 304. A HEAD answer keeps the Content-Length that GET would
      // have, as RFC 9110 allows (and as a streamed HEAD answer keeps its chunked framing); a 204 or 304 has none.
      void response.body.cancel()
      return {
        ...response,
        body: new ReadableStream({ start: (controller) => controller.close() }),
        length: isChunked(response.status) ? response.length : undefined,
      }
    }
    return response
  }
}
